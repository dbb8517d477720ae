using System.Text.Json;
using System.Text.Json.Serialization;

namespace AskPro.Functions.Reconciliation;

/// <summary>
/// One booking as <c>GET /v2/bookings</c> (<c>cal-api-version: 2024-08-13</c>) returns it: the plain, the recurring
/// and the seated variants share these fields, and any of them may be missing (docs/calcom-api.md).
/// </summary>
public sealed record CalcomApiBooking
{
    [JsonPropertyName("id")] public long? Id { get; init; }
    [JsonPropertyName("uid")] public string? Uid { get; init; }
    [JsonPropertyName("title")] public string? Title { get; init; }
    /// <summary>Lowercase: accepted, cancelled, rejected, pending, awaiting_host.</summary>
    [JsonPropertyName("status")] public string? Status { get; init; }
    [JsonPropertyName("start")] public DateTimeOffset? Start { get; init; }
    [JsonPropertyName("end")] public DateTimeOffset? End { get; init; }
    [JsonPropertyName("createdAt")] public DateTimeOffset? CreatedAt { get; init; }
    [JsonPropertyName("updatedAt")] public DateTimeOffset? UpdatedAt { get; init; }
    [JsonPropertyName("hosts")] public IReadOnlyList<CalcomApiPerson>? Hosts { get; init; }
    [JsonPropertyName("attendees")] public IReadOnlyList<CalcomApiPerson>? Attendees { get; init; }
    [JsonPropertyName("location")] public string? Location { get; init; }
    [JsonPropertyName("eventTypeId")] public long? EventTypeId { get; init; }
    [JsonPropertyName("eventType")] public CalcomApiEventType? EventType { get; init; }
    /// <summary>
    /// Not in the 2024-08-13 output as read in code (docs/calcom-api.md); read when a version or variant carries it,
    /// for a tenant's team scope (<see cref="TenantScope"/>).
    /// </summary>
    [JsonPropertyName("teamId")] public long? TeamId { get; init; }
    [JsonPropertyName("cancellationReason")] public string? CancellationReason { get; init; }
    [JsonPropertyName("cancelledByEmail")] public string? CancelledByEmail { get; init; }
    [JsonPropertyName("reschedulingReason")] public string? ReschedulingReason { get; init; }
    [JsonPropertyName("rescheduledByEmail")] public string? RescheduledByEmail { get; init; }
    /// <summary>Set on the booking a reschedule created: the uid it replaced.</summary>
    [JsonPropertyName("rescheduledFromUid")] public string? RescheduledFromUid { get; init; }
    /// <summary>Set on a rescheduled (cancelled) booking: the uid that replaced it. Recurring outputs never carry it.</summary>
    [JsonPropertyName("rescheduledToUid")] public string? RescheduledToUid { get; init; }
    [JsonPropertyName("recurringBookingUid")] public string? RecurringBookingUid { get; init; }
    [JsonPropertyName("absentHost")] public bool? AbsentHost { get; init; }
    [JsonPropertyName("metadata")] public JsonElement? Metadata { get; init; }
    [JsonPropertyName("bookingFieldsResponses")] public JsonElement? BookingFieldsResponses { get; init; }

    /// <summary>
    /// A seated booking (<c>GetSeatedBookingOutput</c>): one row per time slot whose attendees each carry a
    /// <c>seatUid</c>. The output has no <c>seatsPerTimeSlot</c>, so the seat references are the only sign.
    /// </summary>
    [JsonIgnore]
    public bool IsSeated => Attendees?.Any(a => !string.IsNullOrEmpty(a.SeatUid)) == true;
}

public sealed record CalcomApiPerson
{
    [JsonPropertyName("id")] public long? Id { get; init; }
    [JsonPropertyName("name")] public string? Name { get; init; }
    [JsonPropertyName("email")] public string? Email { get; init; }
    [JsonPropertyName("timeZone")] public string? TimeZone { get; init; }
    [JsonPropertyName("phoneNumber")] public string? PhoneNumber { get; init; }
    [JsonPropertyName("absent")] public bool? Absent { get; init; }
    [JsonPropertyName("displayEmail")] public string? DisplayEmail { get; init; }
    [JsonPropertyName("language")] public string? Language { get; init; }
    /// <summary>Seated bookings: the attendee's seat reference (a webhook's <c>attendeeSeatId</c>).</summary>
    [JsonPropertyName("seatUid")] public string? SeatUid { get; init; }
    /// <summary>Seated bookings: the seat's own booking form answers (Cal.com removes the e-mail from them).</summary>
    [JsonPropertyName("bookingFieldsResponses")] public JsonElement? BookingFieldsResponses { get; init; }
    /// <summary>Seated bookings: the seat's own metadata.</summary>
    [JsonPropertyName("metadata")] public JsonElement? Metadata { get; init; }
}

public sealed record CalcomApiEventType
{
    [JsonPropertyName("id")] public long? Id { get; init; }
    [JsonPropertyName("slug")] public string? Slug { get; init; }
    /// <summary>The event type's team, when the output carries it (see <see cref="CalcomApiBooking.TeamId"/>).</summary>
    [JsonPropertyName("teamId")] public long? TeamId { get; init; }
}

/// <summary>The API's error envelope: <c>{"status":"error","error":{"code","message","details"}}</c>.</summary>
internal sealed record CalcomApiErrorEnvelope
{
    [JsonPropertyName("status")] public string? Status { get; init; }
    [JsonPropertyName("error")] public CalcomApiError? Error { get; init; }
}

internal sealed record CalcomApiError
{
    [JsonPropertyName("code")] public string? Code { get; init; }
    [JsonPropertyName("message")] public string? Message { get; init; }
}

internal sealed record CalcomApiListEnvelope
{
    [JsonPropertyName("status")] public string? Status { get; init; }
    [JsonPropertyName("data")] public IReadOnlyList<CalcomApiBooking>? Data { get; init; }
}

internal sealed record CalcomApiItemEnvelope
{
    [JsonPropertyName("status")] public string? Status { get; init; }
    /// <summary>One booking, or an array of occurrences when the path named a recurring booking uid.</summary>
    [JsonPropertyName("data")] public JsonElement Data { get; init; }
}

[JsonSourceGenerationOptions(PropertyNameCaseInsensitive = false)]
[JsonSerializable(typeof(CalcomApiListEnvelope))]
[JsonSerializable(typeof(CalcomApiItemEnvelope))]
[JsonSerializable(typeof(CalcomApiErrorEnvelope))]
[JsonSerializable(typeof(CalcomApiBooking))]
[JsonSerializable(typeof(List<CalcomApiBooking>))]
internal sealed partial class CalcomApiJsonContext : JsonSerializerContext;
