using System.Globalization;
using AskPro.Functions.Appointments;

namespace AskPro.Functions.Tests.Appointments;

/// <summary>
/// What one seat of a generated seated lifecycle must end as: its own appointment (id from the uid it was first booked
/// in and its e-mail), the uids it was in, its status and customer, and its slot's times, host and location.
/// </summary>
public sealed record ExpectedSeat(
    string AppointmentId,
    string Name,
    string Email,
    string Phone,
    IReadOnlyList<string> Chain,
    string Status,
    DateTimeOffset Start,
    DateTimeOffset End,
    StaffMember Staff,
    string Location,
    bool? NoShow)
{
    public string CurrentUid => Chain[^1];
    public string SlotId => AppointmentProjection.AppointmentIdOf(CurrentUid);
}

public sealed partial class LifecycleGenerator
{
    /// <summary>
    /// A seated event type (a course, a group session) with one host: a slot booked seat by seat (2 to 4 people), often a
    /// second slot with its own seats, then seat cancels (the last one of a slot through Cal.com's normal cancel path),
    /// host cancels, seat moves to an empty slot and into the other booking, the owner's move of a whole booking, new
    /// seats (also after a cancel, and a cancelled person booking again), location updates, reassignments and no-show
    /// marks, in Cal.com's shapes (<see cref="SeatBodies"/>). Every step is one Cal.com allows at that point.
    /// </summary>
    private sealed class SeatedStory
    {
        private sealed class Slot(SeatedBooking booking, StaffMember host, string location, SeatPerson firstBooker)
        {
            public SeatedBooking Booking { get; set; } = booking;
            public StaffMember Host { get; set; } = host;
            public string Location { get; set; } = location;
            public SeatPerson FirstBooker { get; } = firstBooker;
            public bool Dead { get; set; }
            public bool Moved { get; set; }
            public bool Relocated { get; set; }
            public bool Reassigned { get; set; }
            public bool HadCancel { get; set; }
        }

        private sealed class Seat(SeatPerson person, Slot at)
        {
            public SeatPerson Person { get; } = person;
            public List<string> Chain { get; } = [at.Booking.Uid];
            public Slot At { get; set; } = at;
            public bool Active { get; set; } = true;
            public bool Rebooked { get; set; }
            public bool? NoShow { get; set; }
        }

        private readonly LifecycleGenerator _g;
        private readonly Random _r;
        private readonly StaffMember _staff;
        private readonly DateTimeOffset _day;
        private readonly List<Slot> _slots = [];
        private readonly List<Seat> _seats = [];
        private readonly List<GeneratedEvent> _events = [];
        private readonly List<string> _story = ["seated"];
        private DateTimeOffset _clock;
        private int _people;

        public SeatedStory(LifecycleGenerator g, StaffMember staff, DateTimeOffset day)
        {
            _g = g;
            _r = g._random;
            _staff = staff;
            _day = day;
            _clock = Epoch.AddMinutes(_r.Next(0, 7 * 24 * 60)).AddMilliseconds(_r.Next(1000));
        }

        public Lifecycle Build()
        {
            var first = NewSlot(_staff, _r.NextDouble() < 0.5 ? "Hauptstraße 12, 10115 Berlin" : "integrations:daily", NewPerson());
            BookSeat(first, first.FirstBooker);
            for (var i = _r.Next(1, 4); i > 0; i--)
            {
                BookSeat(first, NewPerson());
            }

            if (_r.NextDouble() < 0.4)
            {
                var other = NewSlot(first.Host, first.Location, NewPerson());
                BookSeat(other, other.FirstBooker);
                if (_r.NextDouble() < 0.5)
                {
                    BookSeat(other, NewPerson());
                }
            }

            for (var step = _r.Next(1, 5); step > 0; step--)
            {
                Step();
            }

            if (_r.NextDouble() < 0.2 && _seats.Where(s => s.Active && s.NoShow is null).ToList() is { Count: > 0 } present)
            {
                var seat = present[_r.Next(present.Count)];
                Tick();
                Send("BOOKING_NO_SHOW_UPDATED", seat.At.Booking.Uid, SeatBodies.NoShowUpdated(seat.At.Booking, seat.Person.Email, true, _clock));
                seat.NoShow = true;
                _story.Add("seat-no-show");
            }

            var expected = _seats.Select(s => new ExpectedSeat(SeatBodies.ExpectedSeatId(s.Chain[0], s.Person.Email), s.Person.Name, s.Person.Email, s.Person.Phone,
                [.. s.Chain], s.Active ? AppointmentStatus.Confirmed : AppointmentStatus.Cancelled, s.At.Booking.Start, s.At.Booking.End, s.At.Host, s.At.Location, s.NoShow)).ToList();
            return new Lifecycle(string.Join(">", _story), LifecycleShape.Calcom, false, _staff, _events, _slots.Select(s => s.Booking.Uid).ToList(),
                _slots[0].Booking.Uid, "seated", null, expected);
        }

        private void Step()
        {
            var live = _slots.Where(s => !s.Dead).ToList();
            if (live.Count == 0)
            {
                return;
            }

            var roll = _r.NextDouble();
            var slot = live[_r.Next(live.Count)];
            var inSlot = ActiveIn(slot);
            if (roll < 0.25)
            {
                // A seat holder cancels (never twice the same content: a re-booked seat is not cancelled again).
                var candidates = inSlot.Where(s => !s.Rebooked).ToList();
                if (candidates.Count == 0)
                {
                    return;
                }

                var seat = candidates[_r.Next(candidates.Count)];
                var last = inSlot.Count == 1;
                // Cal.com lists the attendee row as stored: the same address, letter case included (a seat is its exact e-mail).
                // The draw that once picked an other-case address stays, so every seed gives the cases it always gave.
                _ = _r.NextDouble();
                Tick();
                Send("BOOKING_CANCELLED", slot.Booking.Uid, SeatBodies.SeatCancelled(Host(slot), slot.Booking, seat.Person, slot.FirstBooker, _clock,
                    cancelledBy: last ? seat.Person.Email : null, location: slot.Location));
                seat.Active = false;
                slot.HadCancel = true;
                slot.Dead = last;
                _story.Add(last ? "last-seat-cancel" : "seat-cancel");
            }
            else if (roll < 0.33)
            {
                Tick();
                Send("BOOKING_CANCELLED", slot.Booking.Uid, SeatBodies.HostCancelled(Host(slot), slot.Booking, [.. inSlot.Select(s => s.Person)], slot.FirstBooker, _clock, slot.Location));
                foreach (var seat in inSlot)
                {
                    seat.Active = false;
                }

                slot.Dead = true;
                _story.Add("host-cancel");
            }
            else if (roll < 0.48)
            {
                // A seat holder moves to an empty slot: a new booking, only the mover in it.
                var seat = inSlot[_r.Next(inSlot.Count)];
                if (seat.Chain.Count >= 3)
                {
                    return;
                }

                Tick();
                var target = NewSlot(slot.Host, slot.Location, seat.Person);
                Send("BOOKING_RESCHEDULED", target.Booking.Uid, SeatBodies.SeatMovedToEmptySlot(Host(slot), slot.Booking, target.Booking, seat.Person, _clock, slot.Location));
                Move(seat, slot, target);
                _story.Add("seat-move-empty");
            }
            else if (roll < 0.63)
            {
                // A seat holder moves into the other existing booking (same host), which lists its earlier attendees too.
                var seat = inSlot[_r.Next(inSlot.Count)];
                var targets = live.Where(t => t != slot && t.Host == slot.Host && !seat.Chain.Contains(t.Booking.Uid) && ActiveIn(t).Count is > 0 and < SeatBodies.SeatsPerTimeSlot).ToList();
                if (targets.Count == 0 || seat.Chain.Count >= 3)
                {
                    return;
                }

                var target = targets[_r.Next(targets.Count)];
                Tick();
                Send("BOOKING_RESCHEDULED", target.Booking.Uid, SeatBodies.SeatMovedIntoBooking(Host(slot), slot.Booking, target.Booking, seat.Person,
                    [.. ActiveIn(target).Select(s => s.Person)], _clock, target.Location));
                Move(seat, slot, target);
                _story.Add("seat-move-into");
            }
            else if (roll < 0.72)
            {
                // The owner moves the whole booking in place (once per slot: a move back would repeat content).
                if (slot.Moved)
                {
                    return;
                }

                Tick();
                var start = FreeStart();
                Send("BOOKING_RESCHEDULED", slot.Booking.Uid, SeatBodies.OwnerMoved(Host(slot), slot.Booking, start, [.. inSlot.Select(s => s.Person)], slot.FirstBooker, _clock,
                    oldTimes: _r.NextDouble() < 0.5, slot.Location));
                slot.Booking = slot.Booking.At(start);
                slot.Moved = true;
                _story.Add("owner-move");
            }
            else if (roll < 0.86)
            {
                if (_seats.Count(s => s.At == slot) >= SeatBodies.SeatsPerTimeSlot)
                {
                    return;
                }

                // A cancelled person books again (a new seat reference, newer than the cancel), or someone new books.
                var again = _seats.Where(s => s.At == slot && !s.Active && !s.Rebooked && s.Chain.Count == 1).ToList();
                if (again.Count > 0 && _r.NextDouble() < 0.3)
                {
                    var seat = again[_r.Next(again.Count)];
                    Tick();
                    Send("BOOKING_CREATED", slot.Booking.Uid, SeatBodies.SeatBooked(Host(slot), slot.Booking, seat.Person, _clock, SeatReference(), slot.Location));
                    seat.Active = true;
                    seat.Rebooked = true;
                    _story.Add("seat-rebooked");
                }
                else
                {
                    _story.Add(slot.HadCancel ? "seat-after-cancel" : "seat-added");
                    BookSeat(slot, NewPerson());
                }
            }
            else if (roll < 0.93)
            {
                if (slot.Relocated)
                {
                    return;
                }

                Tick();
                var previous = slot.Location;
                slot.Location = previous == "integrations:daily" ? "Hauptstraße 12, 10115 Berlin" : "integrations:daily";
                Send("BOOKING_LOCATION_UPDATED", slot.Booking.Uid, SeatBodies.LocationUpdated(Host(slot), slot.Booking, [.. inSlot.Select(s => s.Person)], slot.FirstBooker, slot.Location, previous, _clock));
                slot.Relocated = true;
                _story.Add("seat-relocated");
            }
            else
            {
                if (slot.Reassigned)
                {
                    return;
                }

                var candidates = StaffPool.Where(m => m.Id != slot.Host.Id).ToArray();
                var to = candidates[_r.Next(candidates.Length)];
                Tick();
                Send("BOOKING_REASSIGNED", slot.Booking.Uid, SeatBodies.Reassigned(Host(slot), ToHost(to), slot.Booking, [.. inSlot.Select(s => s.Person)], slot.FirstBooker, _clock, slot.Location));
                slot.Host = to;
                slot.Reassigned = true;
                _story.Add("seat-host-changed");
            }
        }

        private List<Seat> ActiveIn(Slot slot) => _seats.Where(s => s.Active && s.At == slot).ToList();

        private void Move(Seat seat, Slot from, Slot to)
        {
            seat.Chain.Add(to.Booking.Uid);
            seat.At = to;
            // The last seat leaving cancels the original silently (no webhook): nobody can book into it any more.
            from.Dead = ActiveIn(from).Count == 0;
        }

        private void BookSeat(Slot slot, SeatPerson person)
        {
            Tick();
            Send("BOOKING_CREATED", slot.Booking.Uid, SeatBodies.SeatBooked(Host(slot), slot.Booking, person, _clock, SeatReference(), slot.Location));
            _seats.Add(new Seat(person, slot));
        }

        private Slot NewSlot(StaffMember host, string location, SeatPerson firstBooker)
        {
            var start = FreeStart();
            var slot = new Slot(new SeatedBooking(_g.NewUid(), _g._nextBookingId++, start, start.AddMinutes(60)), host, location, firstBooker);
            _slots.Add(slot);
            return slot;
        }

        /// <summary>A quarter-hour start that none of this lifecycle's slots has.</summary>
        private DateTimeOffset FreeStart()
        {
            while (true)
            {
                var start = _day.AddHours(8).AddMinutes(15 * _r.Next(0, 16));
                if (!_slots.Exists(s => s.Booking.Start == start))
                {
                    return start;
                }
            }
        }

        private SeatPerson NewPerson()
        {
            var (first, last) = Names[_r.Next(Names.Length)];
            var n = _people++;
            var email = $"{Ascii(first)}.{Ascii(last)}.{n}{_r.Next(1000):D3}@example.org";
            return new SeatPerson($"{first} {last}", email, "+49" + _r.NextInt64(1_500_000_000, 1_799_999_999).ToString(CultureInfo.InvariantCulture),
                _r.NextDouble() < 0.8 ? "Europe/Berlin" : "Europe/Vienna");
        }

        private static string Ascii(string name) => new([.. name.ToLowerInvariant().Where(c => c is >= 'a' and <= 'z')]);

        private string SeatReference() => _g.NewUid();

        private static SeatHost Host(Slot slot) => ToHost(slot.Host);

        private static SeatHost ToHost(StaffMember m) => new(m.Id, m.Name, m.Email, m.Username);

        private void Tick() => _clock = _clock.AddSeconds(_r.Next(1, 2 * 24 * 3600)).AddMilliseconds(_r.Next(1000));

        private void Send(string trigger, string uid, byte[] body)
        {
            _events.Add(new GeneratedEvent(trigger, uid, _clock, _clock, body));
            _clock = _clock.AddMilliseconds(_r.Next(1, 5000));
        }
    }
}
