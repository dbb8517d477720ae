using System.Globalization;
using System.Text.Json;

namespace AskPro.Functions.Tests.Appointments;

public sealed partial class LifecycleGenerator
{
    /// <summary>
    /// One non-seated booking's story, step by step as Cal.com allows them (request, confirm or reject, reschedule, cancel,
    /// reassign, move, meeting end, no-shows): the booking's current state and the bodies sent so far.
    /// </summary>
    private sealed class LifecycleStory
    {
        private readonly LifecycleGenerator _g;
        private readonly Random _r;
        /// <summary>The host the booking was made with, and the current one (a reassignment changes it).</summary>
        private readonly StaffMember _staff0;
        private StaffMember _staff;
        /// <summary>The organizer address Cal.com sends: for some event types the destination calendar's, not the account's.</summary>
        private string _organizerEmail;
        private readonly DateTimeOffset _day;
        private readonly LifecycleShape _shape;
        private readonly EventType _type;
        private readonly Customer _customer;
        private readonly object? _askProId;
        private readonly string? _source;
        private readonly string? _companyId;
        private string _location;
        private readonly string? _notes;
        private readonly string _iCalUid;
        private readonly List<GeneratedEvent> _events = [];
        private readonly List<string> _uids = [];
        private readonly List<string> _story = [];
        private DateTimeOffset _clock;
        private DateTimeOffset _bookingCreatedAt;
        private string _uid;
        private long _bookingId;
        private DateTimeOffset _start;
        private DateTimeOffset _end;
        private string _status = "";

        public LifecycleStory(LifecycleGenerator g, StaffMember staff, DateTimeOffset day)
        {
            _g = g;
            _r = g._random;
            _staff = staff;
            _staff0 = staff;
            _day = day;
            _shape = _r.NextDouble() < 0.2 ? LifecycleShape.Seed : LifecycleShape.Calcom;
            _type = EventTypes[_r.Next(EventTypes.Length)];
            var (first, last) = Names[_r.Next(Names.Length)];
            var phone = "+49" + _r.NextInt64(1_500_000_000, 1_799_999_999).ToString(CultureInfo.InvariantCulture);
            var phoneOnly = _shape == LifecycleShape.Calcom && _r.NextDouble() < 0.1;
            var email = phoneOnly ? null : $"{first.ToLowerInvariant()}.{last.ToLowerInvariant()}{_r.Next(100)}@example.org";
            _customer = new Customer(first, last, email, phone, _r.NextDouble() < 0.8 ? "Europe/Berlin" : "Europe/Vienna", _shape == LifecycleShape.Calcom && _r.NextDouble() < 0.15);
            if (_r.NextDouble() < 0.35)
            {
                // AskPro made this booking through the API: its id in metadata, as Cal.com (string) or the seed (number) has it.
                _askProId = _shape == LifecycleShape.Seed ? _r.Next(100, 100_000)
                    : _r.NextDouble() < 0.5 ? $"apt_{_r.Next():x8}" : _r.Next(100, 100_000).ToString(CultureInfo.InvariantCulture);
                _source = _r.NextDouble() < 0.6 ? (_r.NextDouble() < 0.5 ? "askpro_phone" : "askpro_api") : null;
                _companyId = _r.NextDouble() < 0.5 ? "cmp_" + _r.Next(1, 50).ToString(CultureInfo.InvariantCulture) : null;
            }
            else if (_r.NextDouble() < 0.1)
            {
                _source = "website"; // ?metadata[source]=website on the public booking page
            }

            _location = _r.NextDouble() < 0.5 ? "Hauptstraße 12, 10115 Berlin" : "integrations:daily";
            _organizerEmail = _shape == LifecycleShape.Calcom && _r.NextDouble() < 0.3 ? $"{staff.Username}@kalender.praxis-example.de" : staff.Email;
            _notes = _r.NextDouble() < 0.3 ? "Bitte Rückruf vorab, falls sich etwas ändert." : null;
            _uid = g.NewUid();
            _iCalUid = _uid + "@Cal.com";
            _clock = Epoch.AddMinutes(_r.Next(0, 7 * 24 * 60)).AddMilliseconds(_r.Next(1000));
            PickSlot();
        }

        public Lifecycle Build()
        {
            _uids.Add(_uid);
            _bookingId = _g._nextBookingId++;
            _bookingCreatedAt = _clock.AddMilliseconds(-_r.Next(500, 3000));
            if (_type.Price > 0 && _shape == LifecycleShape.Calcom)
            {
                _story.Add("paid");
                Send("BOOKING_PAYMENT_INITIATED", Payload(_uid, "ACCEPTED", Meta.Full, TimeStyle.Plain, null));
                Tick();
                Send("BOOKING_PAID", Payload(_uid, "ACCEPTED", Meta.Full, TimeStyle.Plain, w => w.WriteBoolean("paid", true)));
            }

            if (_type.RequiresConfirmation)
            {
                // After a payment Cal.com leaves the status out of BOOKING_REQUESTED.
                Send("BOOKING_REQUESTED", Payload(_uid, _type.Price > 0 && _shape == LifecycleShape.Calcom ? null : "PENDING", Meta.Full, TimeStyle.Plain, null));
                _status = "requested";
                _story.Add("requested");
                if (!Decide())
                {
                    return Finish();
                }
            }
            else
            {
                Send("BOOKING_CREATED", Payload(_uid, "ACCEPTED", Meta.Full, TimeStyle.Plain, null));
                _status = "confirmed";
                _story.Add("created");
            }

            for (var step = 0; step < 3 && _status == "confirmed"; step++)
            {
                var roll = _r.NextDouble();
                if (roll < 0.3)
                {
                    Reschedule();
                }
                else if (roll < 0.4 && _type.RequiresConfirmation && _shape == LifecycleShape.Calcom)
                {
                    AttendeeRescheduleRequest();
                }
                else if (roll < 0.5)
                {
                    HostRequestsReschedule();
                }
                else if (roll < 0.65)
                {
                    Cancel(requestReschedule: false);
                }
                else if (roll < 0.72 && _shape == LifecycleShape.Calcom)
                {
                    Reassign();
                }
                else if (roll < 0.78 && _shape == LifecycleShape.Calcom)
                {
                    UpdateLocation();
                }
                else
                {
                    break;
                }
            }

            if (_status == "confirmed" && _r.NextDouble() < 0.5)
            {
                AfterTheMeeting();
            }

            return Finish();
        }

        private Lifecycle Finish() => new(
            string.Join(">", _story), _shape, _askProId is not null, _staff0, _events, _uids, _uid, _status, _staff with { Email = _organizerEmail });

        /// <summary>The host confirms (true), rejects, or has not decided yet.</summary>
        private bool Decide()
        {
            var roll = _r.NextDouble();
            if (roll < 0.6)
            {
                Tick();
                if (_shape == LifecycleShape.Seed)
                {
                    Send("BOOKING_CONFIRMED", _uid, Envelope("BOOKING_CONFIRMED", w =>
                    {
                        w.WriteString("uid", _uid);
                        w.WriteString("status", "ACCEPTED");
                        w.WriteString("confirmedAt", CalcomBodyWriter.Iso(_clock.AddMilliseconds(-_r.Next(100, 3000))));
                    }));
                }
                else
                {
                    // Cal.com's confirmation is BOOKING_CREATED for the same uid, metadata missing or only the video link.
                    Send("BOOKING_CREATED", Payload(_uid, "ACCEPTED", _r.NextDouble() < 0.5 ? Meta.None : Meta.VideoOnly, TimeStyle.Millis, null));
                }

                _status = "confirmed";
                _story.Add("confirmed");
                return true;
            }

            if (roll < 0.85)
            {
                Tick();
                Send("BOOKING_REJECTED", Payload(_uid, "REJECTED", Meta.None, TimeStyle.Millis, w =>
                {
                    if (_r.NextDouble() < 0.7)
                    {
                        w.WriteString("rejectionReason", "Zu diesem Termin leider keine Kapazität.");
                    }
                }));
                _status = "rejected";
                _story.Add("rejected");
                return false;
            }

            _story.Add("undecided");
            return false;
        }

        /// <summary>A direct reschedule: Cal.com's new uid with the original as <c>rescheduleUid</c>, or the seed's reading.</summary>
        private void Reschedule(bool afterRequest = false)
        {
            Tick();
            var (oldUid, oldStart, oldEnd, oldBookingId) = (_uid, _start, _end, _bookingId);
            var newUid = _g.NewUid();
            PickSlot(avoid: oldStart);
            _bookingId = _g._nextBookingId++;
            _bookingCreatedAt = _clock.AddMilliseconds(-_r.Next(500, 3000));
            var reason = _r.NextDouble() < 0.4 ? "Terminkollision" : null;
            if (_shape == LifecycleShape.Seed)
            {
                Send("BOOKING_RESCHEDULED", Payload(oldUid, "ACCEPTED", Meta.None, TimeStyle.Millis, w => w.WriteString("rescheduleUid", newUid)));
            }
            else
            {
                // Metadata only comes along when the reschedule went through API v2.
                Send("BOOKING_RESCHEDULED", Payload(newUid, "ACCEPTED", _r.NextDouble() < 0.3 ? Meta.Full : Meta.None, TimeStyle.Plain, w =>
                {
                    w.WriteString("rescheduledBy", _r.NextDouble() < 0.5 ? _customer.AttendeeEmail : _staff.Email);
                    w.WriteNumber("rescheduleId", oldBookingId);
                    w.WriteString("rescheduleUid", oldUid);
                    w.WriteString("rescheduleStartTime", CalcomBodyWriter.Time(oldStart, TimeStyle.Plain));
                    w.WriteString("rescheduleEndTime", CalcomBodyWriter.Time(oldEnd, TimeStyle.Plain));
                }, rescheduleReason: reason));
            }

            _uid = newUid;
            _uids.Add(newUid);
            _status = "confirmed";
            _story.Add(afterRequest ? "rescheduled-after-request" : "rescheduled");
        }

        /// <summary>Round robin hands the booking to another host in place: same uid, the new organizer.</summary>
        private void Reassign()
        {
            Tick();
            var old = _staff;
            var candidates = StaffPool.Where(m => m.Id != old.Id).ToArray();
            _staff = candidates[_r.Next(candidates.Length)];
            _organizerEmail = _staff.Email;
            Send("BOOKING_REASSIGNED", Payload(_uid, "ACCEPTED", Meta.None, TimeStyle.Millis, w =>
            {
                w.WriteStartArray("addedHostUserIds");
                w.WriteNumberValue(_staff.Id);
                w.WriteEndArray();
                w.WriteStartArray("removedHostUserIds");
                w.WriteNumberValue(old.Id);
                w.WriteEndArray();
            }));
            _story.Add("reassigned");
        }

        /// <summary>The host changes the location in place: same uid, <c>previousLocation</c>.</summary>
        private void UpdateLocation()
        {
            Tick();
            var previous = _location;
            _location = previous == "integrations:daily" ? "Hauptstraße 12, 10115 Berlin" : "integrations:daily";
            Send("BOOKING_LOCATION_UPDATED", Payload(_uid, "ACCEPTED", Meta.None, TimeStyle.Millis, w => w.WriteString("previousLocation", previous)));
            _story.Add("location-updated");
        }

        /// <summary>The attendee reschedules a type that needs confirmation: REQUESTED for the new uid, then CREATED or REJECTED.</summary>
        private void AttendeeRescheduleRequest()
        {
            Tick();
            var (oldUid, oldBookingId) = (_uid, _bookingId);
            var newUid = _g.NewUid();
            PickSlot(avoid: _start);
            _bookingId = _g._nextBookingId++;
            _bookingCreatedAt = _clock.AddMilliseconds(-_r.Next(500, 3000));
            Send("BOOKING_REQUESTED", Payload(newUid, "PENDING", Meta.Full, TimeStyle.Plain, w =>
            {
                w.WriteNumber("rescheduleId", oldBookingId);
                w.WriteString("rescheduleUid", oldUid);
            }, rescheduleReason: _r.NextDouble() < 0.5 ? "Kann leider nicht" : null));
            _uid = newUid;
            _uids.Add(newUid);
            _status = "requested";
            _story.Add("reschedule-requested");
            Decide();
        }

        /// <summary>The host clicks "Request reschedule": CANCELLED with requestReschedule, usually followed by the attendee's new booking.</summary>
        private void HostRequestsReschedule()
        {
            Cancel(requestReschedule: true);
            if (_r.NextDouble() < 0.8)
            {
                Reschedule(afterRequest: true);
            }
        }

        private void Cancel(bool requestReschedule)
        {
            Tick();
            Send("BOOKING_CANCELLED", Payload(_uid, "CANCELLED", Meta.None, _shape == LifecycleShape.Seed ? TimeStyle.Millis : TimeStyle.Offset, w =>
            {
                if (requestReschedule || _r.NextDouble() < 0.7)
                {
                    w.WriteString("cancellationReason", requestReschedule ? "Bitte einen anderen Termin wählen." : "Termin passt leider nicht mehr.");
                }

                w.WriteString("cancelledBy", requestReschedule || _r.NextDouble() < 0.3 ? _staff.Email : _customer.AttendeeEmail);
                if (requestReschedule || (_shape == LifecycleShape.Calcom && _r.NextDouble() < 0.7))
                {
                    w.WriteBoolean("requestReschedule", requestReschedule); // a missing flag means false
                }
            }));
            _status = "cancelled";
            _story.Add(requestReschedule ? "host-requested-reschedule" : "cancelled");
        }

        /// <summary>MEETING_ENDED (flat from the scheduled path, or wrapped) and no-show updates after the meeting.</summary>
        private void AfterTheMeeting()
        {
            // Sent 0-60 s after the end by a cron (the booking may have been made long before).
            var ended = _end.AddSeconds(_r.Next(0, 60)).AddMilliseconds(_r.Next(1000));
            _clock = ended > _clock ? ended : _clock.AddSeconds(1);
            if (_r.NextDouble() < 0.7)
            {
                if (_r.NextDouble() < 0.75)
                {
                    Send("MEETING_ENDED", _uid, CalcomBodyWriter.FlatMeetingRow(View()), _bookingCreatedAt);
                }
                else
                {
                    Send("MEETING_ENDED", Payload(_uid, "ACCEPTED", Meta.Full, TimeStyle.Millis, null));
                }

                _story.Add("meeting-ended");
            }

            if (_shape == LifecycleShape.Calcom && _location == "integrations:daily" && _r.NextDouble() < 0.3)
            {
                // Cal Video saw no host join: one webhook per missing host, named bookingUid.
                _clock = _clock.AddMinutes(_r.Next(5, 30));
                Send("AFTER_HOSTS_CAL_VIDEO_NO_SHOW", _uid, Envelope("AFTER_HOSTS_CAL_VIDEO_NO_SHOW", w =>
                {
                    w.WriteString("bookingUid", _uid);
                    w.WriteNumber("bookingId", _bookingId);
                    w.WriteString("hostEmail", _staff.Email);
                    w.WriteBoolean("noShowHost", true);
                }));
                _story.Add("host-no-show");
            }

            var updates = _r.Next(0, 3);
            for (var i = 0; i < updates; i++)
            {
                _clock = _clock.AddMinutes(_r.Next(1, 180));
                var noShow = i == 0 || _r.NextDouble() < 0.5;
                Send("BOOKING_NO_SHOW_UPDATED", _uid, Envelope("BOOKING_NO_SHOW_UPDATED", w =>
                {
                    w.WriteString("message", $"{_customer.AttendeeEmail} wurde als No-Show markiert");
                    w.WriteStartArray("attendees");
                    w.WriteStartObject();
                    w.WriteString("email", _customer.AttendeeEmail);
                    w.WriteBoolean("noShow", noShow);
                    w.WriteEndObject();
                    w.WriteEndArray();
                    w.WriteString("bookingUid", _uid);
                    w.WriteNumber("bookingId", _bookingId);
                }));
                _story.Add(noShow ? "no-show" : "showed-up");
            }
        }

        private void PickSlot(DateTimeOffset? avoid = null)
        {
            // Quarter-hour slots in one morning, so appointments of one staff member often overlap.
            DateTimeOffset start;
            do
            {
                start = _day.AddHours(8).AddMinutes(15 * _r.Next(0, 16));
            }
            while (start == avoid);

            _start = start;
            _end = start.AddMinutes(_type.Length);
        }

        private void Tick() => _clock = _clock.AddSeconds(_r.Next(1, 3 * 24 * 3600)).AddMilliseconds(_r.Next(1000));

        private void Send(string trigger, string uid, byte[] body, DateTimeOffset? createdAt = null)
        {
            _events.Add(new GeneratedEvent(trigger, uid, createdAt ?? _clock, _clock, body));
            _clock = _clock.AddMilliseconds(_r.Next(1, 5000));
        }

        private byte[] Envelope(string trigger, Action<Utf8JsonWriter> payload) => CalcomBodyWriter.Envelope(trigger, _clock, payload);

        private (string, Func<string, byte[]>) Payload(string uid, string? status, Meta meta, TimeStyle times, Action<Utf8JsonWriter>? extra, string? rescheduleReason = null) =>
            (uid, trigger => Envelope(trigger, w =>
            {
                if (_shape == LifecycleShape.Seed)
                {
                    CalcomBodyWriter.SeedBooking(w, View(), uid, status, meta, extra);
                }
                else
                {
                    CalcomBodyWriter.CalcomBooking(w, View(), uid, status, meta, times, extra, rescheduleReason);
                }
            }));

        private void Send(string trigger, (string Uid, Func<string, byte[]> Body) payload) => Send(trigger, payload.Uid, payload.Body(trigger));

        private BookingView View() => new(_shape, _type, _staff, _organizerEmail, _customer, _start, _end, _location, _notes, _iCalUid, _bookingId,
            _askProId, _source, _companyId, _bookingCreatedAt, _uid);
    }
}
