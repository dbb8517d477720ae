using AskPro.Functions.Appointments;
using AskPro.Functions.Calcom;

namespace AskPro.Functions.Reconciliation;

/// <summary>
/// One synthetic seated event a pass should queue: <see cref="Trigger"/> about the seats of <see cref="Attendees"/>
/// (none: about the slot itself), dated <see cref="CreatedAt"/>. <see cref="Field"/> names the drift it repairs
/// (logged); <see cref="RescheduleUid"/> is the slot a seat moved from, or the slot itself for a move in place;
/// <see cref="AppointmentId"/> the seat record it repairs when there is exactly one (logged; null: a new seat or the slot).
/// </summary>
public sealed record SeatRepair(string Trigger, IReadOnlyList<CalcomApiPerson> Attendees, DateTimeOffset CreatedAt, string Field, string? RescheduleUid = null,
    string? AppointmentId = null);

/// <summary>
/// How a seated booking (one API row per time slot) compares with its seat records: the drift, the events that repair
/// it, how many seat repairs wait for a later pass (<see cref="Deferred"/>, see <see cref="SeatDrift"/>), and the
/// slot size the events carry.
/// </summary>
public sealed record SeatComparison(Drift Drift, IReadOnlyList<SeatRepair> Repairs, int Deferred, int SeatsPerTimeSlot);

/// <summary>
/// Compares a seated booking with the seat records, seat by seat. A seat is (uid, attendee e-mail, case-insensitive);
/// only seats whose current uid is this booking's count (a seat that moved to another slot is that slot's business).
/// <list type="bullet">
/// <item>An attendee the API lists without an active seat here: the seat's <c>BOOKING_CREATED</c> (or <c>_REQUESTED</c>;
/// a <c>_RESCHEDULED</c> from the slot the booking names as <c>rescheduledFromUid</c> when the attendee's seat is still
/// there), listing that attendee only.</item>
/// <item>An active seat here whose attendee the API no longer lists while the booking is live: Cal.com deleted the
/// attendee, i.e. the seat was cancelled (its webhook lost): a <c>BOOKING_CANCELLED</c> listing that attendee only.</item>
/// <item>The booking cancelled or rejected: one cancel (reject) listing every seat still active here.</item>
/// <item>The slot's time, host or location differ: one slot-level event (no attendees) for the slot.</item>
/// </list>
/// <para>Dating. Slot-level events are dated by the booking's <c>updatedAt</c>, like every synthetic event. A seat's own
/// change does not move <c>updatedAt</c> (cancelling a seat deletes the attendee row only), so a seat event dated by it
/// would lose to the seat's own older webhooks. A seat event is therefore dated just after the newest event the record
/// holds about that attendee in this slot, when that event is older than the pass's read minus
/// the margin (the API's state is then newer than it); when that event is more recent (the API may have
/// been read before it: replica lag, a change while the pass runs), the seat is left to a later pass, never guessed.</para>
/// </summary>
public static class SeatDrift
{
    public static SeatComparison Compare(CalcomApiBooking booking, IReadOnlyList<Appointment> seats, BookingFacts facts, DateTimeOffset readAt, TimeSpan margin)
    {
        ArgumentNullException.ThrowIfNull(booking);
        ArgumentNullException.ThrowIfNull(seats);
        ArgumentNullException.ThrowIfNull(facts);
        ArgumentException.ThrowIfNullOrEmpty(booking.Uid);
        var uid = booking.Uid;
        var here = seats.Where(s => s.CalcomUid == uid).OrderBy(s => s.AppointmentId, StringComparer.Ordinal).ToList();
        var listed = (booking.Attendees ?? []).Where(a => !string.IsNullOrWhiteSpace(a.Email)).ToList();
        var size = SizeOf(uid, seats, facts, listed.Count);
        var since = booking.UpdatedAt ?? booking.CreatedAt ?? readAt;
        var status = booking.Status?.ToLowerInvariant() switch
        {
            "accepted" => AppointmentStatus.Confirmed,
            "pending" or "awaiting_host" => AppointmentStatus.Requested,
            // A seated reschedule moves a seat and cancels nothing: a cancelled row is cancelled, link or not.
            "cancelled" => AppointmentStatus.Cancelled,
            "rejected" => AppointmentStatus.Rejected,
            _ => null,
        };
        if (status is null)
        {
            return new SeatComparison(Drift.None, [], 0, size);
        }

        var repairs = new List<SeatRepair>();
        var fields = new List<string>();
        var deferred = 0;
        void Add(string trigger, IReadOnlyList<CalcomApiPerson> attendees, string field, string? rescheduleUid = null, string? seatId = null)
        {
            fields.Add(field);
            if (DateFor(facts, uid, attendees, since, readAt, margin) is { } at)
            {
                repairs.Add(new SeatRepair(trigger, attendees, at, field, rescheduleUid, seatId));
            }
            else
            {
                deferred++;
            }
        }

        if (AppointmentStatus.IsActive(status))
        {
            foreach (var a in listed)
            {
                var seat = here.FirstOrDefault(s => SameEmail(s.CustomerEmail, a.Email));
                if (seat?.Status == status)
                {
                    continue;
                }

                if (seat is null && seats.Any(s => s.CalcomUid != uid && s.CalcomUids.Contains(uid) && SameEmail(s.CustomerEmail, a.Email)))
                {
                    continue; // the record has this seat moved on from here: the slot it is in now answers for it
                }

                var from = booking.RescheduledFromUid is { } f && f != uid
                    && seats.Any(s => s.CalcomUid == f && AppointmentStatus.IsActive(s.Status) && SameEmail(s.CustomerEmail, a.Email)) ? f : null;
                var trigger = from is not null ? CalcomTriggers.BookingRescheduled
                    : status == AppointmentStatus.Requested ? CalcomTriggers.BookingRequested : CalcomTriggers.BookingCreated;
                Add(trigger, [a], seat is null ? "seat_missing" : "seat_status", from, seat?.AppointmentId);
            }

            // A live booking lists every seat it has: an empty list means the attendees are hidden, not gone.
            if (listed.Count > 0)
            {
                foreach (var seat in here.Where(s => AppointmentStatus.IsActive(s.Status) && !string.IsNullOrWhiteSpace(s.CustomerEmail)))
                {
                    if (!listed.Any(a => SameEmail(a.Email, seat.CustomerEmail)))
                    {
                        Add(CalcomTriggers.BookingCancelled, [PersonOf(seat, facts, uid)], "seat_lost", seatId: seat.AppointmentId);
                    }
                }
            }
        }
        else
        {
            // Every seat still active here, and every attendee the cancelled row still lists that the record never saw.
            var ended = here.Where(s => AppointmentStatus.IsActive(s.Status)).Select(s => PersonOf(s, facts, uid))
                .Concat(listed.Where(a => !here.Any(s => SameEmail(s.CustomerEmail, a.Email))
                    && !seats.Any(s => s.CalcomUid != uid && s.CalcomUids.Contains(uid) && SameEmail(s.CustomerEmail, a.Email))))
                .ToList();
            if (ended.Count > 0)
            {
                Add(status == AppointmentStatus.Rejected ? CalcomTriggers.BookingRejected : CalcomTriggers.BookingCancelled, ended, "status");
            }
        }

        // The slot itself (cancelled or not: a lost move leaves a cancelled slot at the wrong time too).
        // Its times as the record's events make them even when no seat is here yet (a move known only as a slot event).
        var known = facts.Count > 0 && facts.Uids.Contains(uid) ? SeatProjection.Slots(facts).FirstOrDefault(x => x.Uid == uid) : null;
        var seatHere = here.FirstOrDefault(s => AppointmentStatus.IsActive(s.Status)) ?? here.FirstOrDefault();
        if (seatHere is not null || known is not null)
        {
            var slot = seatHere ?? new Appointment
            {
                AppointmentId = known!.SlotId, RootUid = uid, CalcomUid = uid, CalcomUids = [uid], Status = AppointmentStatus.Pending, Source = AppointmentProjection.DirectSource,
                StartTime = known.Start, EndTime = known.End, StaffKey = known.StaffKey,
            };
            if (known is not null)
            {
                slot = slot with { StartTime = known.Start, EndTime = known.End };
            }

            var slotFields = SlotDifferences(booking, slot, staffAndPlace: seatHere is not null);
            if (slotFields.Count > 0)
            {
                fields.AddRange(slotFields);
                // The event Cal.com sends for that change of the whole slot, dated like any snapshot.
                var trigger = slotFields.Contains("start") || slotFields.Contains("end") ? CalcomTriggers.BookingRescheduled
                    : slotFields.Contains("staff") ? CalcomTriggers.BookingReassigned : CalcomTriggers.BookingLocationUpdated;
                repairs.Add(new SeatRepair(trigger, [], since, string.Join('+', slotFields), trigger == CalcomTriggers.BookingRescheduled ? uid : null));
            }
        }

        var kind = seats.Count == 0 && facts.Count == 0 ? DriftKind.Missing : DriftKind.Different;
        var drift = fields.Count == 0 ? Drift.None : new Drift(kind, fields.Distinct(StringComparer.Ordinal).ToList());
        return new SeatComparison(drift, repairs, deferred, size);
    }

    /// <summary>
    /// When a seat event about <paramref name="attendees"/> in <paramref name="uid"/> must be dated for it to be newer
    /// than what the record knows of them, or null when it cannot safely be (see the class remarks).
    /// </summary>
    public static DateTimeOffset? DateFor(BookingFacts facts, string uid, IReadOnlyList<CalcomApiPerson> attendees, DateTimeOffset since, DateTimeOffset readAt, TimeSpan margin)
    {
        ArgumentNullException.ThrowIfNull(facts);
        ArgumentNullException.ThrowIfNull(attendees);
        DateTimeOffset? newest = null;
        foreach (var e in facts.Events)
        {
            if ((e.Uid == uid || e.RescheduleUid == uid) && e.CreatedAt is { } at && (newest is null || at > newest)
                && e.Attendees is { } listed && listed.Any(l => attendees.Any(a => SameEmail(a.Email, l.Email))))
            {
                newest = at;
            }
        }

        if (newest is not { } n || n < since)
        {
            return since;
        }

        return n <= readAt - margin ? n.AddMilliseconds(1) : null;
    }

    /// <summary>The slot's time, host and location as the API shows them against a seat record of that slot.</summary>
    private static List<string> SlotDifferences(CalcomApiBooking booking, Appointment seat, bool staffAndPlace)
    {
        var fields = new List<string>();
        if (booking.Start is { } start && start != seat.StartTime)
        {
            fields.Add("start");
        }

        if (booking.End is { } end && end != seat.EndTime)
        {
            fields.Add("end");
        }

        if (!staffAndPlace)
        {
            return fields;
        }

        if (booking.Hosts is [{ } host, ..] && !BookingDrift.SameStaff(host, seat))
        {
            fields.Add("staff");
        }

        if (!BookingDrift.SameLocation(booking.Location, seat.Location))
        {
            fields.Add("location");
        }

        return fields;
    }

    /// <summary><c>seatsPerTimeSlot</c> as the slot's events stated it (the API output does not show it), else as many as are known.</summary>
    private static int SizeOf(string uid, IReadOnlyList<Appointment> seats, BookingFacts facts, int listed)
    {
        var stated = facts.Events.Where(e => e.Uid == uid && e.SeatsPerTimeSlot is > 0).Select(e => e.SeatsPerTimeSlot!.Value).DefaultIfEmpty(0).Max();
        var recorded = seats.Where(s => s.CalcomUid == uid).Select(s => s.SeatsPerTimeSlot ?? 0).DefaultIfEmpty(0).Max();
        return Math.Max(1, stated > 0 ? stated : Math.Max(recorded, listed));
    }

    /// <summary>
    /// A seat record's attendee, with the reference of the seat the record knows them by in <paramref name="uid"/>: a
    /// cancel of a rebooked seat then differs from the cancel of the earlier one (events are told apart by content).
    /// </summary>
    private static CalcomApiPerson PersonOf(Appointment seat, BookingFacts facts, string uid) => new()
    {
        Name = seat.CustomerName,
        Email = seat.CustomerEmail,
        PhoneNumber = seat.CustomerPhone,
        TimeZone = seat.TimeZone,
        SeatUid = facts.Events.Where(e => e.Uid == uid && e.CreatedAt is not null)
            .SelectMany(e => (e.Attendees ?? []).Where(a => a.SeatId is not null && SameEmail(a.Email, seat.CustomerEmail)).Select(a => (e.CreatedAt, a.SeatId)))
            .OrderByDescending(x => x.CreatedAt).Select(x => x.SeatId).FirstOrDefault(),
    };

    // Exactly as Cal.com compares them: addresses that differ only in letter case are two seats (docs/records-limits-and-seats.md).
    private static bool SameEmail(string? a, string? b) =>
        a is not null && b is not null && SeatProjection.Normal(a) == SeatProjection.Normal(b);
}
