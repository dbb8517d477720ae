using AskPro.Functions.Calcom;

namespace AskPro.Functions.Appointments;

/// <summary>
/// The decision logic, pure: a slice of the appointment table (the records an event touches, and the calendars of
/// their staff) to which events are applied in memory. Its state is private: the store loads rows it asks for (typed
/// keys: <see cref="UidsOf"/>, <see cref="CalendarsNeeded"/>), and <see cref="Apply"/> answers with one immutable
/// <see cref="ApplyResult"/> whose <see cref="BookChanges"/> the writer turns into rows (docs/apply-core.md). Tests
/// apply whole lifecycles to one book to check convergence in any order.
/// </summary>
public sealed class AppointmentBook
{
    /// <summary>A calendar keeps at most this many ranges (the earliest-ending drop out): one row holds it.</summary>
    public const int MaxRangesPerStaff = StaffCalendar.MaxRanges;

    private readonly Dictionary<string, StoredAppointment> _records = new(StringComparer.Ordinal);
    private readonly Dictionary<string, StoredAppointment> _loaded = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _uidIndex = new(StringComparer.Ordinal);
    private readonly Dictionary<string, StaffCalendar> _calendars = new(StringComparer.Ordinal);
    /// <summary>Slot id → the id of the seated booking (record) whose slot it is, for every loaded seated record.</summary>
    private readonly Dictionary<string, string> _slotOwners = new(StringComparer.Ordinal);

    // What changed since the book was loaded (the one list of changes it raised; BookChanges is its snapshot).
    private readonly HashSet<string> _changedRecords = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _retired = new(StringComparer.Ordinal);
    private readonly HashSet<string> _changedCalendars = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ConflictUpdate> _partners = new(StringComparer.Ordinal);
    /// <summary>Records (not loaded) whose range moved to a user key's calendar: their rows' <c>StaffKey</c> is patched.</summary>
    private readonly Dictionary<string, string> _movedStaffKeys = new(StringComparer.Ordinal);

    /// <summary>Staff aliases (StaffAliases.cs): e-mail keys that stand for a user key, known in this slice.</summary>
    private readonly StaffAliases _aliases = new();

    public IReadOnlyDictionary<string, StoredAppointment> Records => _records;
    public IReadOnlyDictionary<string, string> UidIndex => _uidIndex;
    public IReadOnlyDictionary<string, StaffCalendar> Calendars => _calendars;

    public void Load(StoredAppointment appointment)
    {
        ArgumentNullException.ThrowIfNull(appointment);
        _plan = null;
        _records[appointment.Record.AppointmentId] = appointment;
        _loaded.TryAdd(appointment.Record.AppointmentId, appointment);
        Index(appointment);
        _aliases.Learn(appointment); // a record filed through an alias names it
    }

    private void Index(StoredAppointment appointment)
    {
        foreach (var uid in appointment.Uids)
        {
            _uidIndex[uid] = appointment.Record.AppointmentId;
        }

        foreach (var slot in appointment.Slots)
        {
            _slotOwners[slot.SlotId] = appointment.Record.AppointmentId;
        }
    }

    /// <summary>
    /// A calendar row the book asked for (<see cref="CalendarsNeeded"/>), decoded; null when the row does not exist (an
    /// empty calendar). An alias row names the user key the book follows next; a calendar lists its settled e-mail keys.
    /// </summary>
    public void LoadCalendar(StaffCalendarKey key, StaffCalendarRow? row)
    {
        if (row?.AliasOf is { } userKey)
        {
            _plan = null;
            _aliases.LoadAlias(key.StaffKey, userKey);
            return;
        }

        _calendars[key.StaffKey] = row?.Calendar ?? StaffCalendar.Empty;
        if (row is not null)
        {
            _aliases.LoadEmailKeys(key.StaffKey, row.EmailKeys);
        }
    }

    public StoredAppointment? FindByUid(string uid) =>
        _uidIndex.TryGetValue(uid, out var id) && _records.TryGetValue(id, out var found) ? found : null;

    /// <summary>The uid rows an event touches: the first rows to read (its uid, and the uid it reschedules).</summary>
    public static IReadOnlyList<UidKey> UidsOf(BookingEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return e.RescheduleUid is { } r && r != e.Uid ? [new(e.Uid), new(r)] : [new(e.Uid)];
    }

    /// <summary>
    /// Staff calendar rows an event may change, given the records it touches (load these before <see cref="Apply"/>,
    /// and ask again: an alias row, or a calendar's e-mail keys, can name more; most events need one round).
    /// </summary>
    public IReadOnlyList<StaffCalendarKey> CalendarsNeeded(BookingEvent e)
    {
        var plan = PlanFor(e);
        // The rows settling an (id, e-mail) pair come after the calendars (StaffAliases.cs).
        return plan.Record is null ? [] : [.. (plan.TouchesCalendars ? plan.Calendars : []).Union(_aliases.Needed(AliasProbes(plan), IsLoaded), StringComparer.Ordinal).Select(k => new StaffCalendarKey(k))];
    }

    public ApplyResult Apply(BookingEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        var plan = PlanFor(e);
        // A pair new to the facts makes its e-mail calendar an alias first; the event is then planned under it.
        if (plan.Record is not null && _aliases.Establish(AliasProbes(plan), _calendars, _changedCalendars, Refile, (id, conflicts, range) => SetConflicts(id, conflicts, range)))
        {
            _plan = null;
            plan = PlanFor(e);
        }

        _plan = null;
        var (found, merged) = (plan.Found, plan.Merged);
        if (plan.Record is not { } record)
        {
            var same = found[0];
            return ResultOf(ApplyOutcome.Unchanged, same, e, []);
        }

        var retired = found.Select(a => a.Record.AppointmentId).Where(id => id != record.AppointmentId).ToList();
        foreach (var old in found)
        {
            _records.Remove(old.Record.AppointmentId);
        }

        foreach (var id in retired)
        {
            _retired[id] = record.AppointmentId;
            _changedRecords.Add(id);
        }

        var previousConflicts = found.SelectMany(a => a.ConflictsWith.Concat(a.SlotConflicts.Values.SelectMany(c => c)))
            .Where(id => !retired.Contains(id)).ToHashSet(StringComparer.Ordinal);
        var slotConflicts = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        foreach (var (slot, conflicts) in found.SelectMany(a => a.SlotConflicts))
        {
            slotConflicts[slot] = conflicts;
        }

        _records[record.AppointmentId] = new StoredAppointment(record, merged, found.FirstOrDefault(a => a.Record.AppointmentId == record.AppointmentId)?.ConflictsWith ?? [])
        {
            SlotConflicts = slotConflicts,
        };
        _changedRecords.Add(record.AppointmentId);
        var current = _records[record.AppointmentId];
        Index(current);

        var calendars = plan.Calendars;
        if (plan.TouchesCalendars)
        {
            // Everything the old and new rows hold ranges as: the records, and a seated booking's slots.
            var ids = found.Select(a => a.Record.AppointmentId).Append(record.AppointmentId)
                .Concat(found.Append(current).SelectMany(a => a.Slots.Select(s => s.SlotId))).ToHashSet(StringComparer.Ordinal);
            var ranges = current.Ranges;
            foreach (var staff in calendars)
            {
                UpdateCalendar(staff, ids, ranges);
            }

            // What left every calendar (cancelled, moved to unknown staff; a slot without active seats) conflicts with nobody.
            if (current.IsSeated)
            {
                foreach (var slot in current.Slots.Where(s => !s.IsActive))
                {
                    SetConflicts(slot.SlotId, []);
                }

                if (current.ConflictsWith.Count > 0)
                {
                    _records[record.AppointmentId] = _records[record.AppointmentId] with { ConflictsWith = [] };
                }
            }
            else if (!record.HasActiveRange)
            {
                SetConflicts(record.AppointmentId, []);
            }

            foreach (var partner in previousConflicts.Where(id => !calendars.Any(c => _calendars.TryGetValue(c, out var calendar) && calendar.Holds(id))))
            {
                // A partner not in any loaded calendar cannot overlap the new range: drop the stale pairing.
                if (_records.TryGetValue(partner, out var p))
                {
                    SetConflicts(partner, p.ConflictsWith.Where(x => !ids.Contains(x)).ToList());
                }
            }
        }

        var outcome = e.TriggerEvent == CalcomTriggers.BookingCreated && e.AskProAppointmentId is not null ? ApplyOutcome.Skipped
            : found.Count == 0 ? ApplyOutcome.Created : ApplyOutcome.Updated;
        return ResultOf(outcome, _records[record.AppointmentId], e, retired);
    }

    /// <summary>
    /// The result names the appointment the event is about: the record, or for a seated booking the first seat the event
    /// concerns (the listed attendee's; every seat of the slot for a slot-wide event), all of them in <c>SeatIds</c>.
    /// </summary>
    private ApplyResult ResultOf(ApplyOutcome outcome, StoredAppointment stored, BookingEvent e, IReadOnlyList<string> retired) =>
        AboutOf(outcome, stored, e, retired) with { Record = FindByUid(e.Uid), Changes = Changes() };

    private static ApplyResult AboutOf(ApplyOutcome outcome, StoredAppointment stored, BookingEvent e, IReadOnlyList<string> retired)
    {
        if (!stored.IsSeated)
        {
            return new(outcome, stored.Record.AppointmentId, stored.Record.Status, stored.ConflictsWith, retired);
        }

        var listed = e.Attendees?.Select(a => SeatProjection.Normal(a.Email)).ToHashSet(StringComparer.Ordinal);
        var seats = stored.Seats;
        var about = seats.Where(s => s.Record.CalcomUids.Contains(e.Uid) && (listed is null || listed.Contains(SeatProjection.Normal(s.Record.CustomerEmail))))
            .ToList();
        if (about.Count == 0)
        {
            about = [.. seats.Where(s => s.Record.CalcomUids.Contains(e.Uid))];
        }

        if (about.Count == 0)
        {
            var slotId = AppointmentProjection.AppointmentIdOf(e.Uid);
            return new(outcome, slotId, stored.Record.Status, stored.SlotConflicts.GetValueOrDefault(slotId) ?? [], retired) { SeatIds = [] };
        }

        var first = about[0];
        return new(outcome, first.Record.AppointmentId, first.Record.Status, first.ConflictsWith, retired) { SeatIds = [.. about.Select(s => s.Record.AppointmentId)] };
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
        // Records with a range, and every calendar, are filed under the user key an e-mail key aliases.
        (found, record) = (found.ConvertAll(_aliases.Resolve), _aliases.Resolve(record));
        var next = new StoredAppointment(record, merged, []);
        var calendars = found.SelectMany(a => a.StaffKeys).Concat(next.StaffKeys).Select(c => _aliases.Resolve(c)!).Distinct(StringComparer.Ordinal).ToList();
        // The range carries every uid of the record (so a conflict patch reaches every row): a same-slot reschedule
        // or a new branch changes the range too, and so does a row still filed under an old staff key, and a seated
        // slot's seat list.
        var touches = found.Count != 1 || found[0].Record.AppointmentId != record.AppointmentId
            || (found[0].StoredStaffKey is { } old && old != record.StaffKey)
            || !SameRanges(found[0].Ranges, next.Ranges)
            || (!found[0].IsSeated && !next.IsSeated && RangeOf(found[0].Record) != RangeOf(record));
        return _plan = new Plan(e, found, merged, record, calendars, touches);
    }

    private static bool SameRanges(IReadOnlyList<StaffRange> a, IReadOnlyList<StaffRange> b) =>
        a.Count == b.Count && a.Zip(b).All(p => p.First.SameAs(p.Second));

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

    // Staff aliases (the logic is in StaffAliases.cs).
    private List<(string UserKey, string EmailKey)> AliasProbes(Plan plan) => StaffAliases.Probes(plan.Event, plan.Found, plan.Record, plan.TouchesCalendars);

    private bool IsLoaded(string staffKey) => _calendars.ContainsKey(staffKey) || _aliases.Known.ContainsKey(staffKey);

    /// <summary>A range moved to a user key's calendar: a loaded record is re-keyed, a record not loaded gets its key patched.</summary>
    private void Refile(string id, string userKey)
    {
        if (_records.TryGetValue(id, out var a))
        {
            var moved = _aliases.Resolve(a);
            if (!ReferenceEquals(moved, a))
            {
                _records[id] = moved;
                _changedRecords.Add(id);
            }
        }
        else if (!_retired.ContainsKey(id))
        {
            _movedStaffKeys[id] = userKey;
        }
    }

    private void UpdateCalendar(string staffKey, HashSet<string> ids, IReadOnlyList<StaffRange> mineAll)
    {
        bool Ours(StaffRange r) => ids.Contains(r.AppointmentId) || (r.Group is { } g && ids.Contains(g));
        var before = _calendars.GetValueOrDefault(staffKey) ?? StaffCalendar.Empty;
        var ranges = before.Without(Ours);
        var added = mineAll.Where(r => r.StaffKey == staffKey).ToList();
        if (added.Count > 0)
        {
            ranges = ranges.With(added);
        }

        _calendars[staffKey] = ranges;
        _changedCalendars.Add(staffKey);

        // Conflicts are a function of the calendar: recompute for everyone whose set may have changed.
        var changed = before.Concat(ranges).Where(Ours).ToList();
        var affected = before.Concat(ranges).Where(r => Ours(r) || changed.Exists(x => x.Overlaps(r)))
            .Select(r => r.AppointmentId).Distinct(StringComparer.Ordinal).ToList();
        foreach (var id in affected)
        {
            var mine = ranges.Find(id);
            if (mine is null && mineAll.Any(r => r.AppointmentId == id && r.StaffKey != staffKey))
            {
                continue; // the record (or slot) moved to another staff member's calendar: its conflicts are worked out there
            }

            var conflicts = mine is null ? [] : ranges.ConflictsOf(mine);
            SetConflicts(id, conflicts, mine ?? before.Find(id));
        }
    }

    private void SetConflicts(string id, List<string> conflicts, StaffRange? range = null)
    {
        if (_records.TryGetValue(id, out var a) && !a.IsSeated)
        {
            if (!a.ConflictsWith.SequenceEqual(conflicts))
            {
                _records[id] = a with { ConflictsWith = conflicts };
                _changedRecords.Add(id);
            }
        }
        else if (_slotOwners.TryGetValue(id, out var owner) && _records.TryGetValue(owner, out var group) && group.Slots.Any(s => s.SlotId == id))
        {
            var had = group.SlotConflicts.GetValueOrDefault(id) ?? [];
            if (!had.SequenceEqual(conflicts))
            {
                var next = new Dictionary<string, IReadOnlyList<string>>(group.SlotConflicts, StringComparer.Ordinal);
                if (conflicts.Count == 0)
                {
                    next.Remove(id);
                }
                else
                {
                    next[id] = conflicts;
                }

                _records[owner] = group with { SlotConflicts = next };
                _changedRecords.Add(owner);
            }
        }
        else if (range is not null && !_retired.ContainsKey(id) && !_records.ContainsKey(id))
        {
            _partners[id] = new ConflictUpdate(conflicts, range.Uids, range.Seats) { Group = range.Group };
        }
    }

    /// <summary>A snapshot of everything changed since the book was loaded.</summary>
    private BookChanges Changes() => new()
    {
        Written = _changedRecords.Where(id => !_retired.ContainsKey(id)).ToDictionary(id => id, id => _records[id], StringComparer.Ordinal),
        Retired = new Dictionary<string, string>(_retired, StringComparer.Ordinal),
        Before = new Dictionary<string, StoredAppointment>(_loaded, StringComparer.Ordinal),
        Calendars = _changedCalendars.ToDictionary(k => k, k => _calendars[k], StringComparer.Ordinal),
        EmailKeys = _changedCalendars.ToDictionary(k => k, k => (IReadOnlyCollection<string>)[.. _aliases.EmailKeysOf(k)], StringComparer.Ordinal),
        NewAliases = new Dictionary<string, string>(_aliases.Established, StringComparer.Ordinal),
        // A record whose range moved through a new alias gets its StaffKey in the same patch.
        Partners = _partners.ToDictionary(p => p.Key, p => _movedStaffKeys.TryGetValue(p.Key, out var key) ? p.Value with { MovedToStaffKey = key } : p.Value, StringComparer.Ordinal),
    };
}
