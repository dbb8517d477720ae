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

    private static readonly HashSet<string> AppliedSet = new(StringComparer.Ordinal)
    {
        BookingCreated, BookingRescheduled, BookingCancelled, BookingConfirmed, BookingRejected, BookingRequested,
        BookingPaymentInitiated, BookingPaid, BookingNoShowUpdated, MeetingStarted, MeetingEnded,
    };

    public static IReadOnlyCollection<string> Applied => AppliedSet;

    public static bool IsApplied(string trigger) => AppliedSet.Contains(trigger);

    /// <summary>MEETING_* from Cal.com's scheduled path is a flat booking row without <c>payload</c>.</summary>
    public static bool MayBeFlat(string trigger) => trigger is MeetingStarted or MeetingEnded;
}
