namespace AskPro.Functions.Appointments;

/// <summary>Appointment status as AskPro reads it (docs/records.md#status).</summary>
public static class AppointmentStatus
{
    /// <summary>Only events that do not state the booking's status are known yet (e.g. a no-show update or payment first).</summary>
    public const string Pending = "pending";
    public const string Requested = "requested";
    public const string Confirmed = "confirmed";
    public const string Cancelled = "cancelled";
    public const string Rejected = "rejected";

    public static bool IsActive(string status) => status is Requested or Confirmed;
}

/// <summary>
/// The appointment record derived from a <see cref="BookingFacts"/> set (conflict fields are added by the store,
/// which alone sees other appointments).
/// </summary>
public sealed record Appointment
{
    public required string AppointmentId { get; init; }
    /// <summary>The chain's original booking uid; <see cref="AppointmentId"/> is derived from it.</summary>
    public required string RootUid { get; init; }
    public required string CalcomUid { get; init; }
    /// <summary>Every uid of the chain, original first, current last.</summary>
    public required IReadOnlyList<string> CalcomUids { get; init; }
    public long? CalcomBookingId { get; init; }
    public long? EventTypeId { get; init; }
    public string? Title { get; init; }
    public DateTimeOffset? StartTime { get; init; }
    public DateTimeOffset? EndTime { get; init; }
    public string? TimeZone { get; init; }
    public DateTimeOffset? PreviousStartTime { get; init; }
    public DateTimeOffset? PreviousEndTime { get; init; }
    public required string Status { get; init; }
    public bool RescheduleRequested { get; init; }
    public string? CustomerName { get; init; }
    public string? CustomerEmail { get; init; }
    public string? CustomerPhone { get; init; }
    public string? StaffName { get; init; }
    public string? StaffEmail { get; init; }
    /// <summary>The organizer's Cal.com user id, from the event or learnt from another event of the set with the same e-mail.</summary>
    public long? StaffUserId { get; init; }
    public string? Location { get; init; }
    public string? Notes { get; init; }
    public required string Source { get; init; }
    public string? AskProAppointmentId { get; init; }
    public string? CompanyId { get; init; }
    /// <summary>An event of this appointment named AskPro ids without AskPro's proof (spoofable from public booking pages).</summary>
    public bool AskProMetadataUnproven { get; init; }
    public string? CancellationReason { get; init; }
    public string? CancelledBy { get; init; }
    public string? RejectionReason { get; init; }
    public string? RescheduleReason { get; init; }
    public string? RescheduledBy { get; init; }
    public DateTimeOffset? ConfirmedAt { get; init; }
    /// <summary>True when an attendee is currently marked as no-show; null when nothing was said.</summary>
    public bool? CustomerNoShow { get; init; }
    public bool? HostNoShow { get; init; }
    public bool MeetingStarted { get; init; }
    public bool MeetingEnded { get; init; }
    /// <summary><c>initiated</c> or <c>paid</c>; null for unpaid event types.</summary>
    public string? PaymentStatus { get; init; }
    public DateTimeOffset? LastEventAt { get; init; }
    public string? LastTriggerEvent { get; init; }

    /// <summary>A seat's record: the slot (uid) it is in now, as <c>apt_</c> id; null for a booking without seats.</summary>
    public string? SlotId { get; init; }
    /// <summary><c>seatsPerTimeSlot</c> of a seated event type; null otherwise.</summary>
    public int? SeatsPerTimeSlot { get; init; }

    public bool IsInternal => AskProAppointmentId is not null;

    /// <summary>
    /// The staff member's calendar key: <c>u{user id}</c> when the Cal.com user id is known, else a hash of the organizer
    /// e-mail (keys and logs carry no e-mail).
    /// </summary>
    public string? StaffKey { get; init; }

    public bool HasActiveRange => AppointmentStatus.IsActive(Status) && StartTime is { } s && EndTime is { } e && e > s && StaffKey is not null;
}
