using System.Collections.Frozen;
using AskPro.Functions.Appointments;
using T = AskPro.Functions.Calcom.CalcomTriggers;

namespace AskPro.Functions.Calcom;

/// <summary>What the service does with a trigger.</summary>
public enum TriggerHandling
{
    /// <summary>Not a booking change (or a name never seen): answered 200 "ignored" before the body is read further.</summary>
    Ignored,
    /// <summary>Answered 200 "ok", nothing queued (<c>PING</c>).</summary>
    Acknowledged,
    /// <summary>Read, queued and applied to the appointment record.</summary>
    Applied,
}

/// <summary>Which record of a seated booking an event of the trigger is about.</summary>
public enum TriggerLevel
{
    /// <summary>Not applied: no record.</summary>
    None,
    /// <summary>
    /// The seats its <c>attendees</c> list (Cal.com lists only the seat concerned); with no attendee listed, or as an
    /// owner's move in place (<c>rescheduleUid</c> = <c>uid</c>), the whole slot.
    /// </summary>
    Seat,
    /// <summary>Always the whole slot, whoever it lists (host, place, meeting, payment, no-show marks).</summary>
    Slot,
}

/// <summary>Booking data beyond the status that an event of the trigger states as it is now.</summary>
[Flags]
public enum TriggerStates
{
    None = 0,
    /// <summary>Its <c>organizer</c> is the host now: the newest such event decides the record's staff.</summary>
    Staff = 1,
    /// <summary>Its <c>location</c> is the place now: the newest such event decides the record's location.</summary>
    Location = 2,
}

/// <summary>How the reader and the consumers treat a trigger's body beyond its row's columns.</summary>
[Flags]
public enum TriggerFlags
{
    None = 0,
    /// <summary>May arrive as a flat booking row without <c>payload</c> (Cal.com's scheduled MEETING_* path): its booking id is <c>id</c>, its <c>noShowHost</c> is stale and not read.</summary>
    MayBeFlat = 1,
    /// <summary>Changes a booking in place (same uid) and says nothing about its status.</summary>
    InPlaceChange = 2,
    /// <summary>Marks guests as no-shows or not: each listed attendee's <c>noShow</c>.</summary>
    GuestNoShowMarks = 4,
    /// <summary>Marks the host as a no-show or not (<c>noShowHost</c>); no other trigger's <c>noShowHost</c> counts.</summary>
    HostNoShowMark = 8,
    /// <summary>Cal Video's automatic signal: whoever it names did not join unless the body says otherwise.</summary>
    NoShowByDefault = 128,
    /// <summary>May carry <c>rescheduleUid</c>, the link to the booking it replaced.</summary>
    MayLink = 16,
    /// <summary>On an occurrence of a series (<c>recurringEvent</c>), may stand for later occurrences Cal.com sends nothing for.</summary>
    MayChangeSeries = 32,
    /// <summary>Only the AskPro seed sends it (Cal.com sends BOOKING_CREATED when a host confirms).</summary>
    SeedOnly = 64,
}

/// <summary>
/// One row of <see cref="TriggerCatalogue"/>: everything the service knows about a trigger.
/// </summary>
/// <param name="Name">The <c>triggerEvent</c> value.</param>
/// <param name="Handling">Applied, only acknowledged, or ignored.</param>
/// <param name="StatusRank">
/// How strongly it states the booking's status (0: not at all). Among a uid's events the highest rank decides; for a
/// seat the newest event decides and the rank breaks ties of the same <c>createdAt</c>. Ending beats confirming beats
/// requesting: a late BOOKING_CREATED never revives a cancelled booking.
/// </param>
/// <param name="Status">The <see cref="AppointmentStatus"/> it states when <paramref name="StatusRank"/> is above 0.</param>
/// <param name="CalcomStatus">The <c>status</c> Cal.com writes into its body (reconciliation writes the same).</param>
/// <param name="Weight">
/// How much its body says about the booking's own data (times, title, customer): booking events 3, meeting events 2,
/// endings and payments 1, the rest 0. A uid's times come from its weightiest event, then its newest.
/// </param>
/// <param name="States">Staff and location it states as they are now.</param>
/// <param name="Level">Slot or seat, for a seated booking.</param>
/// <param name="UidField">The payload field that names the booking: <c>uid</c> or <c>bookingUid</c>.</param>
/// <param name="Flags">Further reading rules (<see cref="TriggerFlags"/>).</param>
public sealed record TriggerInfo(
    string Name,
    TriggerHandling Handling,
    int StatusRank = 0,
    string? Status = null,
    string? CalcomStatus = null,
    int Weight = 0,
    TriggerStates States = TriggerStates.None,
    TriggerLevel Level = TriggerLevel.None,
    string UidField = "uid",
    TriggerFlags Flags = TriggerFlags.None)
{
    public bool IsApplied => Handling == TriggerHandling.Applied;

    public bool Has(TriggerFlags flag) => (Flags & flag) == flag;

    public bool StatesStaff => (States & TriggerStates.Staff) != 0;

    public bool StatesLocation => (States & TriggerStates.Location) != 0;

    /// <summary>An ending status (cancelled, rejected): applies to a seated slot as a whole when no attendee is listed.</summary>
    public bool Ends => StatusRank >= EndingRank;

    internal const int EndingRank = 3;
}

/// <summary>
/// Every Cal.com trigger the service knows, one row each: the one place to look a trigger up (the reader, both
/// projections and reconciliation do) and the one place to add one (docs/calcom-webhooks.md, "Adding a trigger").
/// A trigger not listed is ignored, whatever its body.
/// </summary>
public static class TriggerCatalogue
{
    private const TriggerStates StaffAndLocation = TriggerStates.Staff | TriggerStates.Location;

    private static TriggerInfo Applied(string name, TriggerLevel level, int rank = 0, string? status = null, string? calcomStatus = null,
        int weight = 0, TriggerStates states = TriggerStates.None, string uidField = "uid", TriggerFlags flags = TriggerFlags.None) =>
        new(name, TriggerHandling.Applied, rank, status, calcomStatus, weight, states, level, uidField, flags);

    /// <summary>Every row, in the order the docs list them.</summary>
    public static IReadOnlyList<TriggerInfo> All { get; } =
    [
        Applied(T.BookingCreated, TriggerLevel.Seat, 2, AppointmentStatus.Confirmed, "ACCEPTED", 3, StaffAndLocation, flags: TriggerFlags.MayChangeSeries),
        Applied(T.BookingRequested, TriggerLevel.Seat, 1, AppointmentStatus.Requested, "PENDING", 3, StaffAndLocation, flags: TriggerFlags.MayLink),
        Applied(T.BookingRescheduled, TriggerLevel.Seat, 2, AppointmentStatus.Confirmed, "ACCEPTED", 3, StaffAndLocation, flags: TriggerFlags.MayLink),
        Applied(T.BookingConfirmed, TriggerLevel.Seat, 2, AppointmentStatus.Confirmed, "ACCEPTED", 3, StaffAndLocation,
            flags: TriggerFlags.MayChangeSeries | TriggerFlags.SeedOnly),
        Applied(T.BookingCancelled, TriggerLevel.Seat, 3, AppointmentStatus.Cancelled, "CANCELLED", 1, StaffAndLocation, flags: TriggerFlags.MayChangeSeries),
        Applied(T.BookingRejected, TriggerLevel.Seat, 4, AppointmentStatus.Rejected, "REJECTED", 1, StaffAndLocation, flags: TriggerFlags.MayChangeSeries),
        Applied(T.BookingPaymentInitiated, TriggerLevel.Slot, calcomStatus: "ACCEPTED", weight: 1, states: StaffAndLocation),
        Applied(T.BookingPaid, TriggerLevel.Slot, weight: 1, states: StaffAndLocation),
        Applied(T.MeetingStarted, TriggerLevel.Slot, 2, AppointmentStatus.Confirmed, "ACCEPTED", 2, flags: TriggerFlags.MayBeFlat),
        Applied(T.MeetingEnded, TriggerLevel.Slot, 2, AppointmentStatus.Confirmed, "ACCEPTED", 2, flags: TriggerFlags.MayBeFlat),
        Applied(T.BookingReassigned, TriggerLevel.Slot, calcomStatus: "ACCEPTED", states: StaffAndLocation, flags: TriggerFlags.InPlaceChange),
        Applied(T.BookingLocationUpdated, TriggerLevel.Slot, calcomStatus: "ACCEPTED", states: TriggerStates.Location, flags: TriggerFlags.InPlaceChange),
        Applied(T.BookingNoShowUpdated, TriggerLevel.Slot, uidField: "bookingUid", flags: TriggerFlags.GuestNoShowMarks | TriggerFlags.HostNoShowMark),
        Applied(T.AfterHostsNoShow, TriggerLevel.Slot, uidField: "bookingUid", flags: TriggerFlags.HostNoShowMark | TriggerFlags.NoShowByDefault),
        Applied(T.AfterGuestsNoShow, TriggerLevel.Slot, uidField: "bookingUid", flags: TriggerFlags.GuestNoShowMarks | TriggerFlags.NoShowByDefault),
        new(T.Ping, TriggerHandling.Acknowledged),
        .. new[]
        {
            // Cal.com's 2026 list of triggers that are not booking changes: named for the docs and tests only.
            "INSTANT_MEETING", "INSTANT_MEETING_ACCEPTED", "FORM_SUBMITTED", "FORM_SUBMITTED_NO_EVENT", "ROUTING_FORM_FALLBACK_HIT",
            "RECORDING_READY", "RECORDING_TRANSCRIPTION_GENERATED", "OOO_CREATED", "WRONG_ASSIGNMENT_REPORT",
            "DELEGATION_CREDENTIAL_ERROR", "DELEGATION_CREDENTIAL_SECRET_ROTATED", "DELEGATION_CREDENTIAL_SECRET_ROTATION_FAILED",
            "DELEGATION_CREDENTIAL_ROTATION_REQUIRED",
        }.Select(name => new TriggerInfo(name, TriggerHandling.Ignored)),
    ];

    private static readonly FrozenDictionary<string, TriggerInfo> ByName = All.ToFrozenDictionary(t => t.Name, StringComparer.Ordinal);

    /// <summary>The row of <paramref name="trigger"/>; a name not listed gets an ignored row of its own (nothing stated).</summary>
    public static TriggerInfo Of(string trigger)
    {
        ArgumentNullException.ThrowIfNull(trigger);
        return ByName.TryGetValue(trigger, out var info) ? info : new TriggerInfo(trigger, TriggerHandling.Ignored);
    }
}
