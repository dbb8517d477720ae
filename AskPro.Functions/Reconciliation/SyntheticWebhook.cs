using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using AskPro.Functions.Calcom;

namespace AskPro.Functions.Reconciliation;

/// <summary>
/// Turns a booking read from the API into the webhook Cal.com would have sent for its current state, so that a
/// repair travels the same path as a delivery: the same reader, envelope, queue and apply code, and the same
/// order-independent merge (a synthetic event and the real webhook for the same change converge to one record).
/// The body is marked (<c>askpro.origin = reconciliation</c>, with the pass id) and its <c>createdAt</c> is the
/// booking's <c>updatedAt</c>: a snapshot is as old as the change it shows, so a later real change still wins.
/// </summary>
public static class SyntheticWebhook
{
    public const string Origin = "reconciliation";

    /// <summary>
    /// The trigger that brings a record to this booking's state, or null when the booking needs no event of its own
    /// (a cancelled booking superseded by its reschedule: the new booking's event carries the link).
    /// </summary>
    public static string? TriggerFor(CalcomApiBooking booking)
    {
        ArgumentNullException.ThrowIfNull(booking);
        return booking.Status?.ToLowerInvariant() switch
        {
            "accepted" when booking.RescheduledFromUid is not null => CalcomTriggers.BookingRescheduled,
            "accepted" => CalcomTriggers.BookingCreated,
            "pending" or "awaiting_host" => CalcomTriggers.BookingRequested,
            "cancelled" when booking.RescheduledToUid is not null => null,
            "cancelled" => CalcomTriggers.BookingCancelled,
            "rejected" => CalcomTriggers.BookingRejected,
            _ => null,
        };
    }

    /// <summary>
    /// The webhook body for <paramref name="booking"/> under <paramref name="trigger"/>. <paramref name="replaced"/>
    /// is the booking a reschedule replaced, when known: its times become <c>rescheduleStartTime/EndTime</c>, which also
    /// tells the reader this is Cal.com's direction (new uid, original as <c>rescheduleUid</c>).
    /// </summary>
    public static byte[] Body(CalcomApiBooking booking, string trigger, string passId, DateTimeOffset now, CalcomApiBooking? replaced = null)
    {
        var payload = SlotPayload(booking, trigger, StatusFor(trigger));
        var attendees = new JsonArray();
        foreach (var a in booking.Attendees ?? [])
        {
            attendees.Add(AttendeeOf(a));
        }

        payload["attendees"] = attendees;
        if (booking.IsSeated)
        {
            // The seated output names seats but not the slot's size; any positive size marks the booking as seated.
            payload["seatsPerTimeSlot"] = booking.Attendees!.Count;
        }

        if (Responses(booking.BookingFieldsResponses) is { } responses)
        {
            payload["responses"] = responses;
        }

        if (booking.RescheduledFromUid is { } from && TriggerCatalogue.Of(trigger).Has(TriggerFlags.MayLink))
        {
            payload["rescheduleUid"] = from;
            payload["rescheduledBy"] = NullIfEmpty(booking.RescheduledByEmail);
            if (replaced is { Start: { } s, End: { } e })
            {
                payload["rescheduleStartTime"] = Iso(s);
                payload["rescheduleEndTime"] = Iso(e);
            }
        }

        switch (trigger)
        {
            case CalcomTriggers.BookingCancelled:
                payload["cancellationReason"] = NullIfEmpty(booking.CancellationReason);
                payload["cancelledBy"] = NullIfEmpty(booking.CancelledByEmail);
                break;
            case CalcomTriggers.BookingRejected:
                payload["rejectionReason"] = NullIfEmpty(booking.CancellationReason);
                break;
        }

        return Serialize(trigger, booking.UpdatedAt ?? booking.CreatedAt ?? now, passId, payload);
    }

    /// <summary>
    /// A seated event about some seats of a slot only, as Cal.com sends them: <paramref name="attendees"/> are the seats
    /// it concerns (one for a seat booked or cancelled, every remaining one for a slot cancelled; none for a change of the
    /// slot itself: its time, host or location), each with its seat reference; <c>seatsPerTimeSlot</c> is set, and a
    /// booked seat names its <c>attendeeSeatId</c>. The seat's own booking form answers are its responses (on a cancel
    /// Cal.com's responses describe the first booker, so none are sent). <paramref name="createdAt"/> is chosen by the
    /// caller (<see cref="SeatDrift"/>): a seat cancel does not move the booking's <c>updatedAt</c>.
    /// <paramref name="rescheduleUid"/> is the slot a seat moved from, or the slot itself for an owner's move in place.
    /// </summary>
    public static byte[] SeatBody(CalcomApiBooking booking, string trigger, IReadOnlyList<CalcomApiPerson> attendees, int seatsPerTimeSlot,
        DateTimeOffset createdAt, string passId, string? rescheduleUid = null)
    {
        ArgumentNullException.ThrowIfNull(attendees);
        ArgumentOutOfRangeException.ThrowIfLessThan(seatsPerTimeSlot, 1);
        // An event about seats states its own status; a slot-level change states the booking's.
        var status = TriggerCatalogue.Of(trigger) is { Level: TriggerLevel.Seat, CalcomStatus: { } stated } ? stated
            : booking.Status?.ToLowerInvariant() is "pending" or "awaiting_host" ? "PENDING" : "ACCEPTED";
        var payload = SlotPayload(booking, trigger, status);
        payload["seatsPerTimeSlot"] = seatsPerTimeSlot;
        var list = new JsonArray();
        foreach (var a in attendees)
        {
            list.Add(AttendeeOf(a));
        }

        payload["attendees"] = list;
        var books = trigger is CalcomTriggers.BookingCreated or CalcomTriggers.BookingRequested or CalcomTriggers.BookingRescheduled;
        if (books && attendees is [{ } seat])
        {
            if (!string.IsNullOrEmpty(seat.SeatUid))
            {
                payload["attendeeSeatId"] = seat.SeatUid;
            }

            // The seat's own answers, with the name and e-mail the API leaves out of them.
            var responses = Responses(seat.BookingFieldsResponses) ?? [];
            responses["name"] ??= seat.Name;
            responses["email"] ??= seat.Email;
            payload["responses"] = responses;
        }

        if (rescheduleUid is not null)
        {
            payload["rescheduleUid"] = rescheduleUid;
        }

        switch (trigger)
        {
            case CalcomTriggers.BookingCancelled when attendees.Count != 1 || !string.Equals(booking.Status, "accepted", StringComparison.OrdinalIgnoreCase):
                // A slot cancelled as a whole carries the booking's reason; one seat's cancel of a live slot has none.
                payload["cancellationReason"] = NullIfEmpty(booking.CancellationReason);
                payload["cancelledBy"] = NullIfEmpty(booking.CancelledByEmail);
                break;
            case CalcomTriggers.BookingRejected:
                payload["rejectionReason"] = NullIfEmpty(booking.CancellationReason);
                break;
        }

        return Serialize(trigger, createdAt, passId, payload);
    }

    /// <summary>The fields every body about this booking's slot carries: ids, title, times, status, location, organizer.</summary>
    private static JsonObject SlotPayload(CalcomApiBooking booking, string trigger, string status)
    {
        ArgumentNullException.ThrowIfNull(booking);
        ArgumentException.ThrowIfNullOrEmpty(booking.Uid);
        ArgumentException.ThrowIfNullOrEmpty(trigger);
        var payload = new JsonObject
        {
            ["uid"] = booking.Uid,
            ["bookingId"] = booking.Id,
            ["eventTypeId"] = booking.EventType?.Id ?? booking.EventTypeId,
            ["title"] = booking.Title,
            ["startTime"] = Iso(booking.Start),
            ["endTime"] = Iso(booking.End),
            ["status"] = status,
            ["location"] = booking.Location,
        };
        if (booking.Hosts is [{ } host, ..])
        {
            payload["organizer"] = new JsonObject { ["id"] = host.Id, ["name"] = host.Name, ["email"] = host.Email, ["timeZone"] = host.TimeZone };
        }

        if (booking.Metadata is { ValueKind: JsonValueKind.Object } metadata)
        {
            payload["metadata"] = JsonNode.Parse(metadata.GetRawText());
        }

        return payload;
    }

    /// <summary>An attendee as a webhook lists it; a seat's reference goes where Cal.com puts it (<c>bookingSeat.referenceUid</c>).</summary>
    private static JsonObject AttendeeOf(CalcomApiPerson a)
    {
        var attendee = new JsonObject { ["name"] = a.Name, ["email"] = a.Email, ["timeZone"] = a.TimeZone, ["phoneNumber"] = a.PhoneNumber };
        if (!string.IsNullOrEmpty(a.SeatUid))
        {
            attendee["bookingSeat"] = new JsonObject { ["referenceUid"] = a.SeatUid };
        }

        return attendee;
    }

    private static byte[] Serialize(string trigger, DateTimeOffset createdAt, string passId, JsonObject payload)
    {
        var body = new JsonObject
        {
            ["triggerEvent"] = trigger,
            ["createdAt"] = Iso(createdAt),
            ["askpro"] = new JsonObject { ["origin"] = Origin, ["passId"] = passId },
            ["payload"] = payload,
        };
        return JsonSerializer.SerializeToUtf8Bytes(body, SyntheticJsonContext.Default.JsonObject);
    }

    /// <summary>The no-show marks the API shows (<c>attendees[].absent</c>) as a <c>BOOKING_NO_SHOW_UPDATED</c> body.</summary>
    public static byte[] NoShowBody(CalcomApiBooking booking, string passId, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(booking);
        var marks = new JsonArray();
        foreach (var a in booking.Attendees ?? [])
        {
            if (a.Email is not null && a.Absent is { } absent)
            {
                marks.Add(new JsonObject { ["email"] = a.Email, ["noShow"] = absent });
            }
        }

        var body = new JsonObject
        {
            ["triggerEvent"] = CalcomTriggers.BookingNoShowUpdated,
            ["createdAt"] = Iso(booking.UpdatedAt ?? now),
            ["askpro"] = new JsonObject { ["origin"] = Origin, ["passId"] = passId },
            ["payload"] = new JsonObject { ["bookingUid"] = booking.Uid, ["bookingId"] = booking.Id, ["attendees"] = marks },
        };
        return JsonSerializer.SerializeToUtf8Bytes(body, SyntheticJsonContext.Default.JsonObject);
    }

    private static string StatusFor(string trigger) => TriggerCatalogue.Of(trigger).CalcomStatus ?? "ACCEPTED";

    /// <summary>
    /// <c>bookingFieldsResponses</c> is the raw booking form (flat values, the shape the reader also takes from the
    /// seed) plus the API's own display fields, which are left out. Its parse-failure fallback ("unknown") is dropped.
    /// </summary>
    private static JsonObject? Responses(JsonElement? responses)
    {
        if (responses is not { ValueKind: JsonValueKind.Object } r)
        {
            return null;
        }

        var result = new JsonObject();
        foreach (var field in r.EnumerateObject())
        {
            if (field.Name is "displayEmail" or "displayGuests" || (field.Value.ValueKind == JsonValueKind.String && field.Value.GetString() == "unknown"))
            {
                continue;
            }

            result[field.Name] = JsonNode.Parse(field.Value.GetRawText());
        }

        return result.Count == 0 ? null : result;
    }

    private static string? NullIfEmpty(string? s) => string.IsNullOrWhiteSpace(s) ? null : s;

    /// <summary>UTC ISO 8601 with milliseconds and <c>Z</c>, as Cal.com writes times and parses its filters.</summary>
    internal static string? Iso(DateTimeOffset? t) => t?.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
}

[System.Text.Json.Serialization.JsonSerializable(typeof(JsonObject))]
internal sealed partial class SyntheticJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
