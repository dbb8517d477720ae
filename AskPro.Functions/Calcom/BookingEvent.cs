namespace AskPro.Functions.Calcom;

public sealed record Person(string? Name, string? Email, string? Phone);

public sealed record NoShowMark(string? Email, bool NoShow);

/// <summary>
/// One Cal.com booking event, normalised from either the real or the seed's shape. Every field but the trigger and
/// the uid is optional: Cal.com omits undefined fields and several events carry only a few.
/// </summary>
public sealed record BookingEvent
{
    public required string TriggerEvent { get; init; }
    /// <summary>Booking uid the event is about (<c>payload.uid</c>, <c>bookingUid</c> for no-show updates, top-level <c>uid</c> when flat).</summary>
    public required string Uid { get; init; }
    public string? RescheduleUid { get; init; }
    public DateTimeOffset? CreatedAt { get; init; }
    public string? Status { get; init; }
    public long? BookingId { get; init; }
    public long? EventTypeId { get; init; }
    public string? Title { get; init; }
    public DateTimeOffset? StartTime { get; init; }
    public DateTimeOffset? EndTime { get; init; }
    public DateTimeOffset? RescheduleStartTime { get; init; }
    public DateTimeOffset? RescheduleEndTime { get; init; }
    public DateTimeOffset? ConfirmedAt { get; init; }
    /// <summary>The attendee's IANA time zone.</summary>
    public string? TimeZone { get; init; }
    public Person? Customer { get; init; }
    public Person? Organizer { get; init; }
    public string? Location { get; init; }
    public string? Notes { get; init; }
    public string? Source { get; init; }
    public string? AskProAppointmentId { get; init; }
    public string? CompanyId { get; init; }
    public bool HasMetadata { get; init; }
    /// <summary>True when the AskPro ids in metadata were not proven (Security/AskProMetadataProof); null otherwise, so older events keep their fingerprint.</summary>
    public bool? AskProMetadataUnproven { get; init; }
    public string? CancellationReason { get; init; }
    public string? CancelledBy { get; init; }
    public bool RequestReschedule { get; init; }
    public string? RejectionReason { get; init; }
    public string? RescheduleReason { get; init; }
    public string? RescheduledBy { get; init; }
    public IReadOnlyList<NoShowMark> NoShowAttendees { get; init; } = [];
    public bool? NoShowHost { get; init; }
    public bool? Paid { get; init; }
}
