namespace AskPro.Functions.Calcom;

/// <summary>Trigger names Cal.com (and the AskPro seed) send, and which of them this service applies.</summary>
public static class CalcomTriggers
{
    public const string Ping = "PING";
    public const string BookingCreated = "BOOKING_CREATED";
    public const string BookingRescheduled = "BOOKING_RESCHEDULED";
    public const string BookingCancelled = "BOOKING_CANCELLED";
    /// <summary>Only in the seed: Cal.com itself sends BOOKING_CREATED when a host confirms.</summary>
    public const string BookingConfirmed = "BOOKING_CONFIRMED";
    public const string BookingRejected = "BOOKING_REJECTED";
    public const string BookingRequested = "BOOKING_REQUESTED";
    public const string BookingPaymentInitiated = "BOOKING_PAYMENT_INITIATED";
    public const string BookingPaid = "BOOKING_PAID";
    public const string BookingNoShowUpdated = "BOOKING_NO_SHOW_UPDATED";
    public const string MeetingStarted = "MEETING_STARTED";
    public const string MeetingEnded = "MEETING_ENDED";
    /// <summary>Round-robin or manual host change: same uid, <c>organizer</c> is the new host.</summary>
    public const string BookingReassigned = "BOOKING_REASSIGNED";
    /// <summary>Location changed in place: same uid, <c>location</c> is the new one (<c>previousLocation</c> or <c>updatedLocation</c> ride along).</summary>
    public const string BookingLocationUpdated = "BOOKING_LOCATION_UPDATED";
    /// <summary>Cal Video's automatic signal that a host did not join (<c>bookingUid</c>, <c>hostEmail</c>).</summary>
    public const string AfterHostsNoShow = "AFTER_HOSTS_CAL_VIDEO_NO_SHOW";
    /// <summary>Cal Video's automatic signal that guests did not join.</summary>
    public const string AfterGuestsNoShow = "AFTER_GUESTS_CAL_VIDEO_NO_SHOW";

    /// <summary>
    /// Triggers Cal.com sends that are not booking changes (its 2026 list). Named for the docs and tests only: every
    /// trigger outside <see cref="Applied"/>, these and any future one, is answered 200 "ignored" and touches no record.
    /// </summary>
    public static IReadOnlyList<string> KnownNotApplied { get; } =
    [
        "INSTANT_MEETING", "INSTANT_MEETING_ACCEPTED", "FORM_SUBMITTED", "FORM_SUBMITTED_NO_EVENT", "ROUTING_FORM_FALLBACK_HIT",
        "RECORDING_READY", "RECORDING_TRANSCRIPTION_GENERATED", "OOO_CREATED", "WRONG_ASSIGNMENT_REPORT",
        "DELEGATION_CREDENTIAL_ERROR", "DELEGATION_CREDENTIAL_SECRET_ROTATED", "DELEGATION_CREDENTIAL_SECRET_ROTATION_FAILED",
        "DELEGATION_CREDENTIAL_ROTATION_REQUIRED",
    ];

    private static readonly HashSet<string> AppliedSet = new(StringComparer.Ordinal)
    {
        BookingCreated, BookingRescheduled, BookingCancelled, BookingConfirmed, BookingRejected, BookingRequested,
        BookingPaymentInitiated, BookingPaid, BookingNoShowUpdated, MeetingStarted, MeetingEnded,
        BookingReassigned, BookingLocationUpdated, AfterHostsNoShow, AfterGuestsNoShow,
    };

    public static IReadOnlyCollection<string> Applied => AppliedSet;

    public static bool IsApplied(string trigger) => AppliedSet.Contains(trigger);

    /// <summary>MEETING_* from Cal.com's scheduled path is a flat booking row without <c>payload</c>.</summary>
    public static bool MayBeFlat(string trigger) => trigger is MeetingStarted or MeetingEnded;

    /// <summary>Triggers that name their booking <c>bookingUid</c> rather than <c>uid</c>.</summary>
    public static bool NamesBookingUid(string trigger) => trigger is BookingNoShowUpdated or AfterHostsNoShow or AfterGuestsNoShow;

    /// <summary>Changes made to a booking in place (same uid) that say nothing about its status.</summary>
    public static bool IsInPlaceChange(string trigger) => trigger is BookingReassigned or BookingLocationUpdated;
}
