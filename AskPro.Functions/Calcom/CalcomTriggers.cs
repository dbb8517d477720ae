namespace AskPro.Functions.Calcom;

/// <summary>
/// Trigger names Cal.com (and the AskPro seed) send. What each one means to the service (applied or not, status, seat or
/// slot, uid field) is its row in <see cref="TriggerCatalogue"/>; the helpers below look it up.
/// </summary>
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
        [.. TriggerCatalogue.All.Where(t => t.Handling == TriggerHandling.Ignored).Select(t => t.Name)];

    /// <summary>The triggers <see cref="TriggerCatalogue"/> marks as applied.</summary>
    public static IReadOnlyCollection<string> Applied { get; } =
        [.. TriggerCatalogue.All.Where(t => t.IsApplied).Select(t => t.Name)];

    public static bool IsApplied(string trigger) => TriggerCatalogue.Of(trigger).IsApplied;

    /// <summary>MEETING_* from Cal.com's scheduled path is a flat booking row without <c>payload</c>.</summary>
    public static bool MayBeFlat(string trigger) => TriggerCatalogue.Of(trigger).Has(TriggerFlags.MayBeFlat);

    /// <summary>Triggers that name their booking <c>bookingUid</c> rather than <c>uid</c>.</summary>
    public static bool NamesBookingUid(string trigger) => TriggerCatalogue.Of(trigger).UidField == "bookingUid";

    /// <summary>Changes made to a booking in place (same uid) that say nothing about its status.</summary>
    public static bool IsInPlaceChange(string trigger) => TriggerCatalogue.Of(trigger).Has(TriggerFlags.InPlaceChange);
}
