using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace AskPro.Functions.Tests.Appointments;

/// <summary>The host of a seated event type (Cal.com sends <c>organizer.id</c>, the user id, on every booking payload).</summary>
public sealed record SeatHost(long Id, string Name, string Email, string Username);

/// <summary>One person holding (or having held) a seat.</summary>
public sealed record SeatPerson(string Name, string Email, string Phone, string TimeZone = "Europe/Berlin");

/// <summary>One seated booking: a time slot with its own uid and bookingId, shared by every seat in it.</summary>
public sealed record SeatedBooking(string Uid, long BookingId, DateTimeOffset Start, DateTimeOffset End)
{
    public SeatedBooking At(DateTimeOffset start) => this with { Start = start, End = start + (End - Start) };
}

/// <summary>
/// Seated webhook bodies as Cal.com sends them (docs/calcom-booking-kinds.md; Cal.com's handleSeats code): every seat of
/// a slot shares the slot's uid and bookingId, <c>seatsPerTimeSlot</c> is set, and <c>attendees</c> lists only the
/// seat(s) concerned. The quirks that break naive receivers are kept: a seat cancel names no seat id and no
/// <c>cancelledBy</c>, and its <c>responses</c> describe the slot's FIRST booker; a seat move to an empty slot has no
/// <c>rescheduleId</c>/<c>rescheduleStartTime</c>; a move into an existing booking lists that booking's earlier
/// attendees too; the owner's move of the whole booking keeps the uid (<c>uid</c> = <c>rescheduleUid</c>).
/// Written with <see cref="Utf8JsonWriter"/> (compact, umlauts raw), so the property's generator can use it at speed.
/// </summary>
public static class SeatBodies
{
    public const int SeatsPerTimeSlot = 6;
    public const long EventTypeId = 1234580;
    public const string EventTitle = "Gruppenkurs Rückenschule";
    public const string Practice = "Hauptstraße 12, 10115 Berlin";

    public static readonly SeatHost Anna = new(98765, "Dr. Anna Schmidt", "anna.schmidt@praxis-example.de", "anna-schmidt");

    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>
    /// The seat id the contract defines, computed here independently of the implementation (the test oracle):
    /// <c>apt_</c> + 20 lower hex of SHA-256(rootUid + "\n" + trimmed e-mail, letter case as sent: seats are told apart
    /// as Cal.com tells them apart, and for a lower-case address this is the id seats always had).
    /// </summary>
    public static string ExpectedSeatId(string rootUid, string email) =>
        "apt_" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(rootUid + "\n" + email.Trim())).AsSpan(0, 10));

    /// <summary>A person books a seat: BOOKING_CREATED for the slot's uid, only that person listed, <c>attendeeSeatId</c>.</summary>
    public static byte[] SeatBooked(SeatHost host, SeatedBooking slot, SeatPerson person, DateTimeOffset createdAt, string seatReference, string location = Practice) =>
        Write(new Spec("BOOKING_CREATED", createdAt, host, slot, [person], person, "ACCEPTED", location) { AttendeeSeatId = seatReference });

    /// <summary>
    /// A seat holder cancels their seat: BOOKING_CANCELLED for the shared uid, that attendee only, no seat id, no
    /// <c>cancelledBy</c>, and <c>responses</c> rebuilt from the booking row (the first booker's). The last seat of a
    /// slot goes through the normal cancel path instead, which names <paramref name="cancelledBy"/>.
    /// </summary>
    public static byte[] SeatCancelled(SeatHost host, SeatedBooking slot, SeatPerson person, SeatPerson firstBooker, DateTimeOffset createdAt,
        string? cancelledBy = null, string location = Practice) =>
        Write(new Spec("BOOKING_CANCELLED", createdAt, host, slot, [person], firstBooker, "CANCELLED", location)
        {
            Offset = true,
            CancellationReason = "Ich kann leider nicht teilnehmen.",
            CancelledBy = cancelledBy,
            RequestReschedule = false,
        });

    /// <summary>The host cancels the whole slot: everyone listed, <c>cancelledBy</c> = the host.</summary>
    public static byte[] HostCancelled(SeatHost host, SeatedBooking slot, IReadOnlyList<SeatPerson> everyone, SeatPerson firstBooker, DateTimeOffset createdAt, string location = Practice) =>
        Write(new Spec("BOOKING_CANCELLED", createdAt, host, slot, everyone, firstBooker, "CANCELLED", location)
        {
            Offset = true,
            CancellationReason = "Der Kurs fällt leider aus.",
            CancelledBy = host.Email,
            RequestReschedule = false,
        });

    /// <summary>
    /// A seat holder moves to an empty slot: a new booking <paramref name="to"/>; BOOKING_RESCHEDULED with uid = the new
    /// booking, <c>rescheduleUid</c> = the original, no <c>rescheduleId</c>, no <c>rescheduleStartTime</c>, the mover only.
    /// </summary>
    public static byte[] SeatMovedToEmptySlot(SeatHost host, SeatedBooking from, SeatedBooking to, SeatPerson mover, DateTimeOffset createdAt, string location = Practice) =>
        Write(new Spec("BOOKING_RESCHEDULED", createdAt, host, to, [mover], mover, "ACCEPTED", location)
        {
            RescheduleUid = from.Uid,
            RescheduledBy = mover.Email,
        });

    /// <summary>
    /// A seat holder moves into another existing booking <paramref name="into"/>: uid = that booking, <c>rescheduleUid</c>
    /// = the original, <c>rescheduleStartTime</c> = the original's time; the mover and the booking's earlier attendees listed.
    /// </summary>
    public static byte[] SeatMovedIntoBooking(SeatHost host, SeatedBooking from, SeatedBooking into, SeatPerson mover, IReadOnlyList<SeatPerson> intoEarlier,
        DateTimeOffset createdAt, string location = Practice) =>
        Write(new Spec("BOOKING_RESCHEDULED", createdAt, host, into, [mover, .. intoEarlier], mover, "ACCEPTED", location)
        {
            RescheduleUid = from.Uid,
            RescheduleStartTime = from.Start,
            RescheduledBy = mover.Email,
        });

    /// <summary>
    /// The owner moves the whole seated booking in place: uid = <c>rescheduleUid</c> = the booking, new times, everyone
    /// listed. With <paramref name="oldTimes"/> the payload also carries <c>rescheduleStartTime/EndTime</c> = the old times
    /// (handleSeats builds its webhook from the original booking), which must not be read as the slot's time.
    /// </summary>
    public static byte[] OwnerMoved(SeatHost host, SeatedBooking before, DateTimeOffset newStart, IReadOnlyList<SeatPerson> everyone, SeatPerson firstBooker,
        DateTimeOffset createdAt, bool oldTimes = true, string location = Practice) =>
        Write(new Spec("BOOKING_RESCHEDULED", createdAt, host, before.At(newStart), everyone, firstBooker, "ACCEPTED", location)
        {
            RescheduleUid = before.Uid,
            RescheduleStartTime = oldTimes ? before.Start : null,
            RescheduleEndTime = oldTimes ? before.End : null,
            RescheduledBy = host.Email,
        });

    /// <summary>The host changes the slot's location in place (slot-level: every seat of the uid).</summary>
    public static byte[] LocationUpdated(SeatHost host, SeatedBooking slot, IReadOnlyList<SeatPerson> everyone, SeatPerson firstBooker, string location, string previous, DateTimeOffset createdAt) =>
        Write(new Spec("BOOKING_LOCATION_UPDATED", createdAt, host, slot, everyone, firstBooker, "ACCEPTED", location) { PreviousLocation = previous });

    /// <summary>The slot handed to another host in place (slot-level: every seat of the uid moves to the new host's calendar).</summary>
    public static byte[] Reassigned(SeatHost from, SeatHost to, SeatedBooking slot, IReadOnlyList<SeatPerson> everyone, SeatPerson firstBooker, DateTimeOffset createdAt, string location = Practice) =>
        Write(new Spec("BOOKING_REASSIGNED", createdAt, to, slot, everyone, firstBooker, "ACCEPTED", location) { AddedHost = to.Id, RemovedHost = from.Id });

    /// <summary>A manual no-show mark for one seat's attendee (bookingUid = the slot the seat is in).</summary>
    public static byte[] NoShowUpdated(SeatedBooking slot, string email, bool noShow, DateTimeOffset createdAt)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var w = new Utf8JsonWriter(buffer, WriterOptions))
        {
            w.WriteStartObject();
            w.WriteString("triggerEvent", "BOOKING_NO_SHOW_UPDATED");
            w.WriteString("createdAt", Iso(createdAt));
            w.WriteStartObject("payload");
            w.WriteString("message", "x_marked_as_no_show");
            w.WriteStartArray("attendees");
            w.WriteStartObject();
            w.WriteString("email", email);
            w.WriteBoolean("noShow", noShow);
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteString("bookingUid", slot.Uid);
            w.WriteNumber("bookingId", slot.BookingId);
            w.WriteEndObject();
            w.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>An ordinary (non-seated) booking of <paramref name="host"/>: what a seated slot conflicts with.</summary>
    public static byte[] NonSeatedBooking(SeatHost host, SeatedBooking booking, SeatPerson person, DateTimeOffset createdAt) =>
        Write(new Spec("BOOKING_CREATED", createdAt, host, booking, [person], person, "ACCEPTED", Practice) { Seats = null, Title = "Erstberatung", Type = "erstberatung", TypeId = 1234567 });

    /// <summary>What one body says; <see cref="Write"/> lays it out in Cal.com's field order.</summary>
    public sealed record Spec(string Trigger, DateTimeOffset CreatedAt, SeatHost Host, SeatedBooking Slot, IReadOnlyList<SeatPerson> Attendees, SeatPerson Responses, string Status, string Location)
    {
        public int? Seats { get; init; } = SeatsPerTimeSlot;
        public string Title { get; init; } = EventTitle;
        public string Type { get; init; } = "gruppenkurs-ruecken";
        public long TypeId { get; init; } = EventTypeId;
        /// <summary>Cancellations carry server-local times with an offset (<c>+00:00</c>).</summary>
        public bool Offset { get; init; }
        public string? AttendeeSeatId { get; init; }
        public string? RescheduleUid { get; init; }
        public DateTimeOffset? RescheduleStartTime { get; init; }
        public DateTimeOffset? RescheduleEndTime { get; init; }
        public string? RescheduledBy { get; init; }
        public string? CancellationReason { get; init; }
        public string? CancelledBy { get; init; }
        public bool? RequestReschedule { get; init; }
        public string? PreviousLocation { get; init; }
        public long? AddedHost { get; init; }
        public long? RemovedHost { get; init; }
    }

    public static byte[] Write(Spec s)
    {
        ArgumentNullException.ThrowIfNull(s);
        var buffer = new ArrayBufferWriter<byte>(4096);
        using (var w = new Utf8JsonWriter(buffer, WriterOptions))
        {
            w.WriteStartObject();
            w.WriteString("triggerEvent", s.Trigger);
            w.WriteString("createdAt", Iso(s.CreatedAt));
            w.WriteStartObject("payload");
            w.WriteString("bookerUrl", "https://cal.com");
            w.WriteString("title", $"{s.Title} zwischen {s.Host.Name} und {s.Responses.Name}");
            w.WriteString("startTime", Time(s.Slot.Start, s.Offset));
            w.WriteString("endTime", Time(s.Slot.End, s.Offset));
            w.WriteNull("additionalNotes");
            w.WriteString("type", s.Type);
            w.WriteString("description", "Bewegung in der Gruppe, höchstens sechs Personen.");
            w.WriteNumber("eventTypeId", s.TypeId);
            w.WriteNull("schedulingType");
            if (s.Seats is { } seats)
            {
                w.WriteNumber("seatsPerTimeSlot", seats);
            }
            else
            {
                w.WriteNull("seatsPerTimeSlot");
            }

            w.WriteBoolean("seatsShowAttendees", false);
            w.WriteBoolean("seatsShowAvailabilityCount", true);
            w.WriteStartObject("organizer");
            w.WriteNumber("id", s.Host.Id);
            w.WriteString("name", s.Host.Name);
            w.WriteString("email", s.Host.Email);
            w.WriteString("username", s.Host.Username);
            w.WriteString("timeZone", "Europe/Berlin");
            w.WriteStartObject("language");
            w.WriteString("locale", "de");
            w.WriteEndObject();
            w.WriteString("timeFormat", "HH:mm");
            w.WriteNumber("utcOffset", 60);
            w.WriteEndObject();
            w.WriteStartArray("attendees");
            foreach (var a in s.Attendees)
            {
                w.WriteStartObject();
                w.WriteString("email", a.Email);
                w.WriteString("name", a.Name);
                w.WriteString("phoneNumber", a.Phone);
                w.WriteString("firstName", "");
                w.WriteString("lastName", "");
                w.WriteString("timeZone", a.TimeZone);
                w.WriteStartObject("language");
                w.WriteString("locale", "de");
                w.WriteEndObject();
                w.WriteNumber("utcOffset", 60);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteStartObject("customInputs");
            w.WriteEndObject();
            w.WriteStartObject("responses");
            Response(w, "name", "your_name", s.Responses.Name);
            Response(w, "email", "email_address", s.Responses.Email);
            Response(w, "attendeePhoneNumber", "phone_number", s.Responses.Phone);
            w.WriteStartObject("location");
            w.WriteString("label", "location");
            w.WriteStartObject("value");
            w.WriteString("value", s.Location);
            w.WriteString("optionValue", "");
            w.WriteEndObject();
            w.WriteBoolean("isHidden", false);
            w.WriteEndObject();
            w.WriteStartObject("guests");
            w.WriteString("label", "additional_guests");
            w.WriteStartArray("value");
            w.WriteEndArray();
            w.WriteBoolean("isHidden", false);
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteStartObject("userFieldsResponses");
            w.WriteEndObject();
            w.WriteString("location", s.Location);
            w.WriteStartArray("destinationCalendar");
            w.WriteEndArray();
            w.WriteString("iCalUID", s.Slot.Uid + "@Cal.com");
            w.WriteNumber("iCalSequence", 0);
            w.WriteBoolean("requiresConfirmation", false);
            w.WriteNull("organizationId");
            w.WriteString("uid", s.Slot.Uid);
            w.WriteString("eventTitle", s.Title);
            w.WriteNumber("price", 0);
            w.WriteString("currency", "eur");
            w.WriteNumber("length", (int)(s.Slot.End - s.Slot.Start).TotalMinutes);
            w.WriteNumber("bookingId", s.Slot.BookingId);
            if (s.AttendeeSeatId is { } seat)
            {
                w.WriteString("attendeeSeatId", seat);
            }

            if (s.RescheduleUid is { } r)
            {
                w.WriteString("rescheduleUid", r);
            }

            if (s.RescheduleStartTime is { } rs)
            {
                w.WriteString("rescheduleStartTime", Time(rs, false));
            }

            if (s.RescheduleEndTime is { } re)
            {
                w.WriteString("rescheduleEndTime", Time(re, false));
            }

            if (s.RescheduledBy is { } by)
            {
                w.WriteString("rescheduledBy", by);
            }

            if (s.PreviousLocation is { } previous)
            {
                w.WriteString("previousLocation", previous);
            }

            if (s.AddedHost is { } added)
            {
                w.WriteStartArray("addedHostUserIds");
                w.WriteNumberValue(added);
                w.WriteEndArray();
            }

            if (s.RemovedHost is { } removed)
            {
                w.WriteStartArray("removedHostUserIds");
                w.WriteNumberValue(removed);
                w.WriteEndArray();
            }

            if (s.Trigger != "BOOKING_CANCELLED")
            {
                w.WriteStartObject("metadata"); // missing on cancellations
                w.WriteEndObject();
            }

            w.WriteString("status", s.Status);
            if (s.CancellationReason is { } reason)
            {
                w.WriteString("cancellationReason", reason);
            }

            if (s.CancelledBy is { } cancelledBy)
            {
                w.WriteString("cancelledBy", cancelledBy);
            }

            if (s.RequestReschedule is { } rr)
            {
                w.WriteBoolean("requestReschedule", rr);
            }

            w.WriteEndObject();
            w.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static void Response(Utf8JsonWriter w, string key, string label, string value)
    {
        w.WriteStartObject(key);
        w.WriteString("label", label);
        w.WriteString("value", value);
        w.WriteBoolean("isHidden", false);
        w.WriteEndObject();
    }

    public static string Iso(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private static string Time(DateTimeOffset t, bool offset) =>
        t.UtcDateTime.ToString(offset ? "yyyy-MM-dd'T'HH:mm:ss'+00:00'" : "yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
