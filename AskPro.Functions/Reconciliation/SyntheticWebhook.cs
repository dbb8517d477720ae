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
        ArgumentNullException.ThrowIfNull(booking);
        ArgumentException.ThrowIfNullOrEmpty(booking.Uid);
        var host = booking.Hosts is { Count: > 0 } hosts ? hosts[0] : null;
        var payload = new JsonObject
        {
            ["uid"] = booking.Uid,
            ["bookingId"] = booking.Id,
            ["eventTypeId"] = booking.EventType?.Id ?? booking.EventTypeId,
            ["title"] = booking.Title,
            ["startTime"] = Iso(booking.Start),
            ["endTime"] = Iso(booking.End),
            ["status"] = StatusFor(trigger),
            ["location"] = booking.Location,
        };
        if (host is not null)
        {
            payload["organizer"] = new JsonObject { ["id"] = host.Id, ["name"] = host.Name, ["email"] = host.Email, ["timeZone"] = host.TimeZone };
        }

        var attendees = new JsonArray();
        foreach (var a in booking.Attendees ?? [])
        {
            var attendee = new JsonObject { ["name"] = a.Name, ["email"] = a.Email, ["timeZone"] = a.TimeZone, ["phoneNumber"] = a.PhoneNumber };
            if (a.SeatUid is not null)
            {
                attendee["attendeeSeatId"] = a.SeatUid;
            }

            attendees.Add(attendee);
        }

        payload["attendees"] = attendees;
        if (booking.Attendees?.Any(a => a.SeatUid is not null) == true)
        {
            // The seated output names seats but not the slot's size; any positive size marks the booking as seated.
            payload["seatsPerTimeSlot"] = booking.Attendees.Count;
        }

        if (Responses(booking.BookingFieldsResponses) is { } responses)
        {
            payload["responses"] = responses;
        }

        if (booking.Metadata is { ValueKind: JsonValueKind.Object } metadata)
        {
            payload["metadata"] = JsonNode.Parse(metadata.GetRawText());
        }

        if (booking.RescheduledFromUid is { } from && trigger is CalcomTriggers.BookingRescheduled or CalcomTriggers.BookingRequested)
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

        var body = new JsonObject
        {
            ["triggerEvent"] = trigger,
            ["createdAt"] = Iso(booking.UpdatedAt ?? booking.CreatedAt ?? now),
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

    private static string StatusFor(string trigger) => trigger switch
    {
        CalcomTriggers.BookingRequested => "PENDING",
        CalcomTriggers.BookingCancelled => "CANCELLED",
        CalcomTriggers.BookingRejected => "REJECTED",
        _ => "ACCEPTED",
    };

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
