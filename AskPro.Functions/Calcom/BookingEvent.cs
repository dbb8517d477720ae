namespace AskPro.Functions.Calcom;

public sealed record Person(string? Name, string? Email, string? Phone);

public sealed record NoShowMark(string? Email, bool NoShow);

/// <summary>One entry of <c>attendees</c>: for a seated event type only the seat's own attendee(s) are listed.</summary>
public sealed record Attendee(string? Name, string? Email, string? Phone, bool? NoShow, string? SeatId);

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
    /// <summary>The organizer's Cal.com user id (<c>organizer.id</c>, <c>userId</c> on flat rows): the staff identity.</summary>
    public long? OrganizerId { get; init; }
    /// <summary>Every attendee listed (null when the payload lists none); e-mails as sent.</summary>
    public IReadOnlyList<Attendee>? Attendees { get; init; }
    /// <summary><c>seatsPerTimeSlot</c> when the event type is seated (null or 0 otherwise).</summary>
    public int? SeatsPerTimeSlot { get; init; }
    /// <summary>BOOKING_REASSIGNED: Cal.com user ids that became, or stopped being, hosts.</summary>
    public IReadOnlyList<long>? AddedHostUserIds { get; init; }
    public IReadOnlyList<long>? RemovedHostUserIds { get; init; }
    /// <summary>BOOKING_LOCATION_UPDATED: the location before the change.</summary>
    public string? PreviousLocation { get; init; }
    /// <summary>AFTER_HOSTS_CAL_VIDEO_NO_SHOW: the host who did not join.</summary>
    public string? HostEmail { get; init; }
    /// <summary><c>attendeeSeatId</c>: the reference of the seat a seated BOOKING_CREATED booked.</summary>
    public string? AttendeeSeatId { get; init; }
    /// <summary>
    /// True when the payload carries <c>recurringEvent</c>: the booking is an occurrence of a series, and a cancel,
    /// reject or confirm of it may have changed later occurrences that Cal.com sends no webhook for.
    /// </summary>
    public bool? IsRecurring { get; init; }
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

    /// <summary>
    /// The event's identity: a hash of everything it says except <c>createdAt</c> (32 hex digits). Cal.com stamps
    /// <c>createdAt</c> per subscriber and per re-send, so two deliveries of one change differ only there: they have
    /// one identity and count as one fact (the earliest <c>createdAt</c> is kept). Any other difference, even a retry
    /// that carries the booking as it is by then, makes a second fact, never a replacement: which body arrived last
    /// says nothing about which was built last. Wherever the newest event decides, equal <c>createdAt</c>s are ordered
    /// by identity, the same choice in every delivery order. Every property of this record is part of it, so a new
    /// property changes the identity of events that carry it. Null properties are left out, so a new property is added
    /// as nullable and left null where it says nothing (as <see cref="AskProMetadataUnproven"/> is): stored events then
    /// keep their identity and still match their re-deliveries.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string Identity => Identities.GetValue(this, static e =>
    {
        // Events are immutable and every merge and projection asks again for the same instances: computed once each.
        var bytes = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(e with { CreatedAt = null }, Appointments.FactsJsonContext.Default.BookingEvent);
        return Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes).AsSpan(0, 16));
    });

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<BookingEvent, string> Identities = new();

    /// <summary>The trigger's row in <see cref="TriggerCatalogue"/>: what this event states, and about which record.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public TriggerInfo Trigger => TriggerCatalogue.Of(TriggerEvent);

    /// <summary>A seated event type: <c>seatsPerTimeSlot</c> set, or an attendee carrying a seat reference.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool IsSeated => SeatsPerTimeSlot is > 0 || AttendeeSeatId is not null || (Attendees?.Any(a => a.SeatId is not null) ?? false);
}
