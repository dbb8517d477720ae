using AskPro.Functions.Appointments;

namespace AskPro.Functions.Tests.Appointments;

/// <summary>The oracles both test levels judge books by: what differs between two books, and a record's key fields.</summary>
public static class BookComparison
{
    /// <summary>What differs between two books (records, facts, conflicts, uid index, calendars), or null.</summary>
    public static string? Difference(AppointmentBook expected, AppointmentBook actual)
    {
        var ids = expected.Records.Keys.Order(StringComparer.Ordinal).ToList();
        if (!ids.SequenceEqual(actual.Records.Keys.Order(StringComparer.Ordinal)))
        {
            return $"record ids [{string.Join(", ", ids)}] vs [{string.Join(", ", actual.Records.Keys.Order(StringComparer.Ordinal))}]";
        }

        foreach (var id in ids)
        {
            var (a, b) = (expected.Records[id], actual.Records[id]);
            if (!a.Record.CalcomUids.SequenceEqual(b.Record.CalcomUids))
            {
                return $"{id}: uids [{string.Join(", ", a.Record.CalcomUids)}] vs [{string.Join(", ", b.Record.CalcomUids)}]";
            }

            if (a.Record with { CalcomUids = [] } != b.Record with { CalcomUids = [] })
            {
                return $"{id}: record\n  {a.Record with { CalcomUids = [] }}\nvs\n  {b.Record with { CalcomUids = [] }}";
            }

            if (!a.ConflictsWith.SequenceEqual(b.ConflictsWith))
            {
                return $"{id}: conflicts [{string.Join(", ", a.ConflictsWith)}] vs [{string.Join(", ", b.ConflictsWith)}]";
            }

            var (fa, fb) = (Facts(a.Facts), Facts(b.Facts));
            if (!fa.SequenceEqual(fb))
            {
                return $"{id}: facts [{string.Join(", ", fa)}] vs [{string.Join(", ", fb)}]";
            }

            if (a.Facts.Events.Any(e => e.IsSeated) && SeatDifference(id, a, b) is { } seats)
            {
                return seats;
            }
        }

        var (ia, ib) = (Index(expected), Index(actual));
        if (!ia.SequenceEqual(ib))
        {
            return $"uid index [{string.Join(", ", ia)}] vs [{string.Join(", ", ib)}]";
        }

        var (ca, cb) = (Calendars(expected), Calendars(actual));
        return ca.SequenceEqual(cb) ? null : $"calendars [{string.Join(", ", ca)}] vs [{string.Join(", ", cb)}]";
    }

    /// <summary>Every seat's record (the pure projection) and every stored seat's record and conflicts, or what differs.</summary>
    private static string? SeatDifference(string id, StoredAppointment a, StoredAppointment b)
    {
        var (pa, pb) = (SeatProjection.Project(a.Facts), SeatProjection.Project(b.Facts));
        if (pa.Count != pb.Count || pa.Zip(pb).Any(p => !SameRecord(p.First, p.Second)))
        {
            return $"{id}: seat projections differ:\n  {string.Join("\n  ", pa)}\nvs\n  {string.Join("\n  ", pb)}";
        }

        var (sa, sb) = (a.Seats, b.Seats);
        if (sa.Count != sb.Count || sa.Zip(sb).Any(p => !SameRecord(p.First.Record, p.Second.Record)))
        {
            return $"{id}: stored seats differ:\n  {string.Join("\n  ", sa.Select(s => s.Record))}\nvs\n  {string.Join("\n  ", sb.Select(s => s.Record))}";
        }

        foreach (var (x, y) in sa.Zip(sb))
        {
            if (!x.ConflictsWith.SequenceEqual(y.ConflictsWith))
            {
                return $"{id}: seat {x.Record.AppointmentId} conflicts [{string.Join(", ", x.ConflictsWith)}] vs [{string.Join(", ", y.ConflictsWith)}]";
            }
        }

        return null;
    }

    public static bool SameRecord(Appointment x, Appointment y) => x.CalcomUids.SequenceEqual(y.CalcomUids) && x with { CalcomUids = [] } == y with { CalcomUids = [] };

    private static List<string> Facts(BookingFacts facts) =>
        facts.Events.Select(e => $"{e.TriggerEvent}:{BookingFacts.Fingerprint(e)}@{e.CreatedAt:O}").Order(StringComparer.Ordinal).ToList();

    private static List<string> Index(AppointmentBook book) =>
        book.UidIndex.Select(kv => $"{kv.Key}->{kv.Value}").Order(StringComparer.Ordinal).ToList();

    /// <summary>Non-empty calendars (a calendar emptied again is the same as one never started).</summary>
    private static List<string> Calendars(AppointmentBook book) =>
        book.Calendars.Where(c => c.Value.Count > 0).OrderBy(c => c.Key, StringComparer.Ordinal)
            .Select(c => $"{c.Key}: {string.Join(" ", c.Value.Select(r => $"{r.AppointmentId}[{r.Start:O}..{r.End:O}]({string.Join(">", r.Uids)})"))}")
            .ToList();

    /// <summary>A record on the fields a caller relies on (status, times, current uid, id, staff, location).</summary>
    public static (string Status, DateTimeOffset? Start, DateTimeOffset? End, string Uid, string Id, string? Staff, string? Location) Key(Appointment a) =>
        (a.Status, a.StartTime, a.EndTime, a.CalcomUid, a.AppointmentId, a.StaffKey, a.Location);
}
