using AskPro.Functions.Appointments;

namespace AskPro.Functions.Reconciliation;

public enum DriftKind
{
    /// <summary>The record says what the API says.</summary>
    Unchanged,
    /// <summary>No record for the booking's uid.</summary>
    Missing,
    /// <summary>A record, but status, times, staff, location or chain differ.</summary>
    Different,
}

/// <summary>How a record compares with the API's booking; <see cref="Fields"/> names what differs (names only: they are logged).</summary>
public sealed record Drift(DriftKind Kind, IReadOnlyList<string> Fields)
{
    public static readonly Drift None = new(DriftKind.Unchanged, []);
}

/// <summary>
/// Compares what the service holds with what Cal.com holds, on the fields that make an appointment true or false for
/// a caller: status, start and end, staff, location and the uid chain. Representation differences that carry no
/// meaning (the API shows a conferencing app's URL where the webhook names the app) are not drift.
/// </summary>
public static class BookingDrift
{
    public static Drift Compare(CalcomApiBooking booking, Appointment? record)
    {
        ArgumentNullException.ThrowIfNull(booking);
        if (record is null)
        {
            return new Drift(DriftKind.Missing, ["record"]);
        }

        var fields = new List<string>();
        if (IsSuperseded(booking))
        {
            // Replaced by a reschedule: the record follows the new booking, so only this row's links are its to check.
            return HasLink(record, booking.Uid, booking.RescheduledToUid!) && (booking.RescheduledFromUid is not { } earlier || HasLink(record, earlier, booking.Uid))
                ? Drift.None
                : new Drift(DriftKind.Different, ["chain"]);
        }

        if (ExpectedStatus(booking) is { } status && status != record.Status)
        {
            fields.Add("status");
        }

        if (booking.Start is { } start && start != record.StartTime)
        {
            fields.Add("start");
        }

        if (booking.End is { } end && end != record.EndTime)
        {
            fields.Add("end");
        }

        if (booking.Hosts is [{ } host, ..] && !SameStaff(host, record))
        {
            fields.Add("staff");
        }

        if (!SameLocation(booking.Location, record.Location))
        {
            fields.Add("location");
        }

        if (booking.RescheduledFromUid is { } from && !HasLink(record, from, booking.Uid))
        {
            fields.Add("chain");
        }

        return fields.Count == 0 ? Drift.None : new Drift(DriftKind.Different, fields.Distinct(StringComparer.Ordinal).ToList());
    }

    /// <summary>
    /// The record's chain has <paramref name="from"/> before <paramref name="to"/>: a link pointing the wrong way (a
    /// seed-shaped reschedule read without its hint) is drift too, not only a missing one.
    /// </summary>
    public static bool HasLink(Appointment record, string? from, string? to)
    {
        ArgumentNullException.ThrowIfNull(record);
        var (f, t) = (from is null ? -1 : IndexOf(record.CalcomUids, from), to is null ? -1 : IndexOf(record.CalcomUids, to));
        return f >= 0 && t > f;
    }

    private static int IndexOf(IReadOnlyList<string> uids, string uid)
    {
        for (var i = 0; i < uids.Count; i++)
        {
            if (uids[i] == uid)
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>A cancelled booking that a reschedule replaced (the old row of a completed reschedule).</summary>
    public static bool IsSuperseded(CalcomApiBooking booking)
    {
        ArgumentNullException.ThrowIfNull(booking);
        return string.Equals(booking.Status, "cancelled", StringComparison.OrdinalIgnoreCase) && booking.RescheduledToUid is not null;
    }

    /// <summary>The record status a booking in this API state has (null: the API state says nothing comparable).</summary>
    public static string? ExpectedStatus(CalcomApiBooking booking)
    {
        ArgumentNullException.ThrowIfNull(booking);
        return booking.Status?.ToLowerInvariant() switch
        {
            _ when IsSuperseded(booking) => null,
            "accepted" => AppointmentStatus.Confirmed,
            "pending" or "awaiting_host" => AppointmentStatus.Requested,
            "cancelled" => AppointmentStatus.Cancelled,
            "rejected" => AppointmentStatus.Rejected,
            _ => null,
        };
    }

    /// <summary>Staff are the Cal.com user id where both sides know it (e-mails vary per event type), else the e-mail.</summary>
    internal static bool SameStaff(CalcomApiPerson host, Appointment record) => (host.Id, record.StaffUserId) switch
    {
        ({ } id, { } known) => id == known,
        // The API knows the user id the record lacks (the webhooks that carried it were lost): the record's staff
        // calendar is keyed by e-mail and misses overlaps with the same person's id-keyed bookings.
        ({ }, null) => false,
        _ => host.Email is null || string.Equals(host.Email, record.StaffEmail, StringComparison.OrdinalIgnoreCase),
    };

    /// <summary>
    /// The API's <c>location</c> is the video call URL when there is one, the booking's location otherwise; webhooks
    /// name the conferencing app (<c>integrations:daily</c>). An app on our side and a URL on theirs are the same place.
    /// </summary>
    internal static bool SameLocation(string? api, string? record)
    {
        if (string.IsNullOrWhiteSpace(api))
        {
            return true; // the API says nothing: nothing to correct
        }

        if (string.Equals(api, record, StringComparison.Ordinal))
        {
            return true;
        }

        return record is not null && record.StartsWith("integrations:", StringComparison.Ordinal)
            && api.StartsWith("http", StringComparison.OrdinalIgnoreCase);
    }
}
