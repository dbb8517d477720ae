using AskPro.Functions.Calcom;

namespace AskPro.Functions.Appointments;

public enum ApplyOutcome
{
    /// <summary>A new appointment record.</summary>
    Created,
    /// <summary>An existing record changed (including records joined by a reschedule link).</summary>
    Updated,
    /// <summary>Nothing new: the event (or the same content from another delivery) was applied before.</summary>
    Unchanged,
    /// <summary>An AskPro-made booking (<c>metadata.askpro_appointment_id</c>): AskPro has it already, only the link is kept.</summary>
    Skipped,
}

/// <summary>An appointment as stored: its record, its facts and who it conflicts with.</summary>
public sealed record StoredAppointment(Appointment Record, BookingFacts Facts, IReadOnlyList<string> ConflictsWith)
{
    public bool HasConflict => ConflictsWith.Count > 0;

    /// <summary>TEMPORARY STUB (seats-a): one entry per seat of a seated group (contract); empty until main's store lands.</summary>
    public IReadOnlyList<StoredAppointment> Seats => [];

    /// <summary>
    /// The staff key the stored row was written under, when it differs from what the projection now derives (rows
    /// written before staff were keyed by user id): its calendar is loaded too, so the range moves to the new key.
    /// </summary>
    public string? StoredStaffKey { get; init; }

    /// <summary>
    /// Every uid of the fact set: the chain (original first, current last), then uids off the chain (a second branch
    /// from one original) in ordinal order. Each has a row and reaches this record.
    /// </summary>
    public IReadOnlyList<string> Uids
    {
        get
        {
            // Cached per (record, facts): a `with` copy that changes either recomputes.
            if (_uids is not { } cached || !ReferenceEquals(cached.Record, Record) || !ReferenceEquals(cached.Facts, Facts))
            {
                var chain = Record.CalcomUids;
                IReadOnlyList<string> all = Facts.Count == 0 ? chain : [.. chain, .. Facts.Uids.Where(u => !chain.Contains(u)).Order(StringComparer.Ordinal)];
                _uids = cached = (Record, Facts, all);
            }

            return cached.Uids;
        }
    }

    private (Appointment Record, BookingFacts Facts, IReadOnlyList<string> Uids)? _uids;
}

/// <summary>An active appointment's time range in its staff member's calendar.</summary>
public sealed record StaffRange(string AppointmentId, DateTimeOffset Start, DateTimeOffset End, IReadOnlyList<string> Uids)
{
    public bool Overlaps(StaffRange other) => Start < other.End && other.Start < End;
}

public sealed record ApplyResult(ApplyOutcome Outcome, string AppointmentId, string Status, IReadOnlyList<string> ConflictsWith, IReadOnlyList<string> RetiredIds);

/// <summary>
/// The decision logic, pure: a slice of the appointment table (the records an event touches, and the calendars of
/// their staff) to which events are applied in memory. The table store loads such a slice, applies one event and
/// writes back what changed; tests apply whole lifecycles to one book to check convergence in any order.
/// </summary>
public sealed class AppointmentBook
{
    /// <summary>A calendar keeps at most this many ranges (the earliest-ending drop out): one row holds it.</summary>
    public const int MaxRangesPerStaff = 500;

    private readonly Dictionary<string, StoredAppointment> _records = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _uidIndex = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<StaffRange>> _calendars = new(StringComparer.Ordinal);

    public IReadOnlyDictionary<string, StoredAppointment> Records => _records;
    public IReadOnlyDictionary<string, string> UidIndex => _uidIndex;
    public IReadOnlyDictionary<string, List<StaffRange>> Calendars => _calendars;

    /// <summary>Ids of records written (or retired) since the book was loaded.</summary>
    public HashSet<string> ChangedRecords { get; } = new(StringComparer.Ordinal);
    /// <summary>Records that were joined into another one: id → the id they live on as.</summary>
    public Dictionary<string, string> Retired { get; } = new(StringComparer.Ordinal);
    public HashSet<string> ChangedCalendars { get; } = new(StringComparer.Ordinal);
    /// <summary>New conflict lists of records that are not loaded (their rows are known from the calendar's ranges).</summary>
    public Dictionary<string, (IReadOnlyList<string> ConflictsWith, IReadOnlyList<string> Uids)> ConflictUpdates { get; } = new(StringComparer.Ordinal);

    public void Load(StoredAppointment appointment)
    {
        ArgumentNullException.ThrowIfNull(appointment);
        _plan = null;
        _records[appointment.Record.AppointmentId] = appointment;
        foreach (var uid in appointment.Uids)
        {
            _uidIndex[uid] = appointment.Record.AppointmentId;
        }
    }

    public void LoadCalendar(string staffKey, IEnumerable<StaffRange> ranges) => _calendars[staffKey] = [.. ranges];

    public StoredAppointment? FindByUid(string uid) =>
        _uidIndex.TryGetValue(uid, out var id) && _records.TryGetValue(id, out var found) ? found : null;

    /// <summary>The uids whose records an event touches.</summary>
    public static IEnumerable<string> UidsOf(BookingEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        yield return e.Uid;
        if (e.RescheduleUid is { } r && r != e.Uid)
        {
            yield return r;
        }
    }

    /// <summary>Staff calendars an event may change, given the records it touches (load these before <see cref="Apply"/>).</summary>
    public IReadOnlyList<string> CalendarsNeeded(BookingEvent e)
    {
        var plan = PlanFor(e);
        return plan.Record is null || !plan.TouchesCalendars ? [] : plan.Calendars;
    }

    public ApplyResult Apply(BookingEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        var plan = PlanFor(e);
        _plan = null;
        var (found, merged) = (plan.Found, plan.Merged);
        if (plan.Record is not { } record)
        {
            var same = found[0];
            return new(ApplyOutcome.Unchanged, same.Record.AppointmentId, same.Record.Status, same.ConflictsWith, []);
        }

        var retired = found.Select(a => a.Record.AppointmentId).Where(id => id != record.AppointmentId).ToList();
        foreach (var old in found)
        {
            _records.Remove(old.Record.AppointmentId);
        }

        foreach (var id in retired)
        {
            Retired[id] = record.AppointmentId;
            ChangedRecords.Add(id);
        }

        var previousConflicts = found.SelectMany(a => a.ConflictsWith).Where(id => !retired.Contains(id)).ToHashSet(StringComparer.Ordinal);
        _records[record.AppointmentId] = new StoredAppointment(record, merged, found.FirstOrDefault(a => a.Record.AppointmentId == record.AppointmentId)?.ConflictsWith ?? []);
        ChangedRecords.Add(record.AppointmentId);
        var current = _records[record.AppointmentId];
        foreach (var uid in current.Uids)
        {
            _uidIndex[uid] = record.AppointmentId;
        }

        var calendars = plan.Calendars;
        if (plan.TouchesCalendars)
        {
            var ids = found.Select(a => a.Record.AppointmentId).Append(record.AppointmentId).ToHashSet(StringComparer.Ordinal);
            foreach (var staff in calendars)
            {
                UpdateCalendar(staff, ids, record, current.Uids);
            }

            // A record that left every calendar (cancelled, moved to unknown staff) conflicts with nobody.
            if (!record.HasActiveRange)
            {
                SetConflicts(record.AppointmentId, []);
            }

            foreach (var partner in previousConflicts.Where(id => !calendars.Any(c => _calendars.TryGetValue(c, out var list) && list.Exists(r => r.AppointmentId == id))))
            {
                // A partner not in any loaded calendar cannot overlap the new range: drop the stale pairing.
                if (_records.TryGetValue(partner, out var p))
                {
                    SetConflicts(partner, p.ConflictsWith.Where(x => !ids.Contains(x)).ToList());
                }
            }
        }

        var stored = _records[record.AppointmentId];
        var outcome = e.TriggerEvent == CalcomTriggers.BookingCreated && e.AskProAppointmentId is not null ? ApplyOutcome.Skipped
            : found.Count == 0 ? ApplyOutcome.Created : ApplyOutcome.Updated;
        return new(outcome, record.AppointmentId, record.Status, stored.ConflictsWith, retired);
    }

    /// <summary>
    /// What applying an event means for the loaded records, worked out once: the store asks which calendars to load
    /// and then applies, and both need the same merge and projection.
    /// </summary>
    private sealed record Plan(BookingEvent Event, List<StoredAppointment> Found, BookingFacts Merged, Appointment? Record, List<string> Calendars, bool TouchesCalendars);

    private Plan? _plan;

    private Plan PlanFor(BookingEvent e)
    {
        if (_plan is { } cached && ReferenceEquals(cached.Event, e))
        {
            return cached;
        }

        var found = Found(e);
        var facts = found.Aggregate(BookingFacts.Empty, (f, a) => f.Union(a.Facts));
        var merged = facts.With(e);
        if (found.Count == 1 && ReferenceEquals(merged, facts))
        {
            return _plan = new Plan(e, found, merged, null, [], false); // nothing new: unchanged
        }

        var record = AppointmentProjection.Project(merged);
        var calendars = found.SelectMany(a => new[] { a.StoredStaffKey, a.Record.StaffKey }).Append(record.StaffKey).OfType<string>().Distinct(StringComparer.Ordinal).ToList();
        // The range carries every uid of the record (so a conflict patch reaches every row): a same-slot reschedule
        // or a new branch changes the range too, and so does a row still filed under an old staff key.
        var touches = found.Count != 1 || found[0].Record.AppointmentId != record.AppointmentId
            || RangeOf(found[0].Record) != RangeOf(record) || (found[0].StoredStaffKey is { } old && old != record.StaffKey)
            || (record.HasActiveRange && !found[0].Uids.SequenceEqual(new StoredAppointment(record, merged, []).Uids));
        return _plan = new Plan(e, found, merged, record, calendars, touches);
    }

    private List<StoredAppointment> Found(BookingEvent e)
    {
        var first = FindByUid(e.Uid);
        var second = e.RescheduleUid is { } r && r != e.Uid ? FindByUid(r) : null;
        if (second is null || (first is not null && first.Record.AppointmentId == second.Record.AppointmentId))
        {
            return first is null ? [] : [first];
        }

        if (first is null)
        {
            return [second];
        }

        return string.CompareOrdinal(first.Record.AppointmentId, second.Record.AppointmentId) < 0 ? [first, second] : [second, first];
    }

    private static (string?, DateTimeOffset?, DateTimeOffset?, bool) RangeOf(Appointment a) => (a.StaffKey, a.StartTime, a.EndTime, a.HasActiveRange);

    private void UpdateCalendar(string staffKey, HashSet<string> ids, Appointment record, IReadOnlyList<string> uids)
    {
        if (!_calendars.TryGetValue(staffKey, out var ranges))
        {
            ranges = [];
            _calendars[staffKey] = ranges;
        }

        var before = ranges.ToList();
        ranges.RemoveAll(r => ids.Contains(r.AppointmentId));
        if (record.HasActiveRange && record.StaffKey == staffKey)
        {
            ranges.Add(new StaffRange(record.AppointmentId, record.StartTime!.Value, record.EndTime!.Value, uids));
            ranges.Sort((a, b) => a.Start != b.Start ? a.Start.CompareTo(b.Start) : string.CompareOrdinal(a.AppointmentId, b.AppointmentId));
            if (ranges.Count > MaxRangesPerStaff)
            {
                var drop = ranges.OrderBy(r => r.End).ThenBy(r => r.AppointmentId, StringComparer.Ordinal).Take(ranges.Count - MaxRangesPerStaff).ToHashSet();
                ranges.RemoveAll(drop.Contains);
            }
        }

        ChangedCalendars.Add(staffKey);

        // Conflicts are a function of the calendar: recompute for everyone whose set may have changed.
        var affected = before.Concat(ranges).Where(r => ids.Contains(r.AppointmentId) || ranges.Concat(before).Any(x => ids.Contains(x.AppointmentId) && x.Overlaps(r)))
            .Select(r => r.AppointmentId).Distinct(StringComparer.Ordinal).ToList();
        foreach (var id in affected)
        {
            var mine = ranges.Find(r => r.AppointmentId == id);
            if (mine is null && id == record.AppointmentId && record.HasActiveRange && record.StaffKey != staffKey)
            {
                continue; // the record moved to another staff member's calendar: its conflicts are worked out there
            }

            var conflicts = mine is null ? [] : ranges.Where(r => r.AppointmentId != id && r.Overlaps(mine)).Select(r => r.AppointmentId).Order(StringComparer.Ordinal).ToList();
            SetConflicts(id, conflicts, (mine ?? before.Find(r => r.AppointmentId == id))?.Uids);
        }
    }

    private void SetConflicts(string id, List<string> conflicts, IReadOnlyList<string>? uids = null)
    {
        if (_records.TryGetValue(id, out var a))
        {
            if (!a.ConflictsWith.SequenceEqual(conflicts))
            {
                _records[id] = a with { ConflictsWith = conflicts };
                ChangedRecords.Add(id);
            }
        }
        else if (uids is not null && !Retired.ContainsKey(id))
        {
            ConflictUpdates[id] = (conflicts, uids);
        }
    }
}
