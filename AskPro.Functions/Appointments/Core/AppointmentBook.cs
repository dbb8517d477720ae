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
    /// <summary>The booking was erased (Operating/Erasure.cs): the event is dropped, nothing is written.</summary>
    Erased,
}

/// <summary>An appointment as stored: its record, its facts and who it conflicts with.</summary>
public sealed record StoredAppointment(Appointment Record, BookingFacts Facts, IReadOnlyList<string> ConflictsWith)
{
    public bool HasConflict => ConflictsWith.Count > 0;

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

    /// <summary>A seated booking's conflicts, per slot (slot id → ids of the overlapping appointments or slots).</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> SlotConflicts { get; init; } = NoSlotConflicts;

    private static readonly Dictionary<string, IReadOnlyList<string>> NoSlotConflicts = new(StringComparer.Ordinal);

    /// <summary>True when the set is about a seated event type: its records are <see cref="Seats"/>, one per seat.</summary>
    public bool IsSeated => SeatProjection.IsSeated(Facts);

    /// <summary>One stored appointment per seat (its conflicts are its slot's); empty for a booking without seats.</summary>
    public IReadOnlyList<StoredAppointment> Seats => IsSeated
        ? [.. SeatProjection.Project(Facts).Select(seat => new StoredAppointment(seat, Facts, SlotConflicts.GetValueOrDefault(seat.SlotId!) ?? []))]
        : [];

    /// <summary>A seated booking's slots (one per uid); empty for a booking without seats.</summary>
    public IReadOnlyList<SeatSlot> Slots => IsSeated ? SeatProjection.Slots(Facts) : [];

    /// <summary>
    /// The ranges this appointment holds in staff calendars: its own while active, or, seated, one per active slot
    /// (the slot once, however many seats); a plain range lists every uid so a conflict patch reaches every row, a slot's
    /// range names its booking's group row and its seats instead.
    /// </summary>
    public IReadOnlyList<StaffRange> Ranges => IsSeated
        ? [.. Slots.Where(s => s.IsActive).Select(s => new StaffRange(s.SlotId, s.Start!.Value, s.End!.Value, []) { StaffKey = s.StaffKey, Group = Record.AppointmentId, Seats = s.ActiveSeatIds })]
        : Record.HasActiveRange ? [new StaffRange(Record.AppointmentId, Record.StartTime!.Value, Record.EndTime!.Value, Uids) { StaffKey = Record.StaffKey }] : [];

    /// <summary>Every staff key this appointment's rows or slots name (active or not): the calendars a change may touch.</summary>
    public IEnumerable<string> StaffKeys => (IsSeated ? Slots.Select(s => s.StaffKey) : [Record.StaffKey]).Append(StoredStaffKey).OfType<string>();
}

/// <summary>An active appointment's time range in its staff member's calendar.</summary>
public sealed record StaffRange(string AppointmentId, DateTimeOffset Start, DateTimeOffset End, IReadOnlyList<string> Uids)
{
    public bool Overlaps(StaffRange other) => Start < other.End && other.Start < End;

    /// <summary>A seated slot's range: the id of the booking (fact set) whose slot it is; null for a plain appointment.</summary>
    public string? Group { get; init; }

    /// <summary>A seated slot's range: its active seats' appointment ids, whose rows carry the slot's conflicts.</summary>
    public IReadOnlyList<string>? Seats { get; init; }

    /// <summary>The calendar the range is meant for (not stored: the calendar row is the staff key).</summary>
    public string? StaffKey { get; init; }

    /// <summary>The same range, compared by value (lists by content).</summary>
    public bool SameAs(StaffRange other) => other is not null && AppointmentId == other.AppointmentId && Start == other.Start && End == other.End
        && StaffKey == other.StaffKey && Group == other.Group && Uids.SequenceEqual(other.Uids) && (Seats ?? []).SequenceEqual(other.Seats ?? []);
}

public sealed record ApplyResult(ApplyOutcome Outcome, string AppointmentId, string Status, IReadOnlyList<string> ConflictsWith, IReadOnlyList<string> RetiredIds)
{
    /// <summary>A seated booking: the seats the event is about (their histories get its entry); null otherwise.</summary>
    public IReadOnlyList<string>? SeatIds { get; init; }
}

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
    private readonly Dictionary<string, StoredAppointment> _loaded = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _uidIndex = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<StaffRange>> _calendars = new(StringComparer.Ordinal);
    /// <summary>Slot id → the id of the seated booking (record) whose slot it is, for every loaded seated record.</summary>
    private readonly Dictionary<string, string> _slotOwners = new(StringComparer.Ordinal);

    public IReadOnlyDictionary<string, StoredAppointment> Records => _records;
    /// <summary>The records as they were loaded (before any event was applied): what the store compares against.</summary>
    public IReadOnlyDictionary<string, StoredAppointment> Loaded => _loaded;
    public IReadOnlyDictionary<string, string> UidIndex => _uidIndex;
    public IReadOnlyDictionary<string, List<StaffRange>> Calendars => _calendars;

    /// <summary>Ids of records written (or retired) since the book was loaded.</summary>
    public HashSet<string> ChangedRecords { get; } = new(StringComparer.Ordinal);
    /// <summary>Records that were joined into another one: id → the id they live on as.</summary>
    public Dictionary<string, string> Retired { get; } = new(StringComparer.Ordinal);
    public HashSet<string> ChangedCalendars { get; } = new(StringComparer.Ordinal);
    /// <summary>
    /// New conflict lists of records (or seated slots) that are not loaded; their rows are known from the calendar's
    /// range: the uids, and for a slot its seats.
    /// </summary>
    public Dictionary<string, ConflictUpdate> ConflictUpdates { get; } = new(StringComparer.Ordinal);

    /// <summary>Staff aliases (StaffAliases.cs): e-mail keys that stand for a user key, known in this slice.</summary>
    public StaffAliases Aliases { get; } = new();

    public void Load(StoredAppointment appointment)
    {
        ArgumentNullException.ThrowIfNull(appointment);
        _plan = null;
        _records[appointment.Record.AppointmentId] = appointment;
        _loaded.TryAdd(appointment.Record.AppointmentId, appointment);
        Index(appointment);
        Aliases.Learn(appointment); // staff alias hook: a record filed through an alias names it
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

    /// <summary>Staff alias hook: the row <c>stf_{emailKey}</c> is an alias of <paramref name="userKey"/> (the plan changes).</summary>
    public void LoadAlias(string emailKey, string userKey)
    {
        _plan = null;
        Aliases.LoadAlias(emailKey, userKey);
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
        // Staff alias hook: the rows settling an (id, e-mail) pair come after the calendars (the store reads until none is new).
        return plan.Record is null ? [] : [.. (plan.TouchesCalendars ? plan.Calendars : []).Union(Aliases.Needed(AliasProbes(plan), IsLoaded), StringComparer.Ordinal)];
    }

    public ApplyResult Apply(BookingEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        var plan = PlanFor(e);
        // Staff alias hook: a pair new to the facts makes its e-mail calendar an alias first; the event is then planned under it.
        if (plan.Record is not null && Aliases.Establish(AliasProbes(plan), _calendars, ChangedCalendars, Refile, (id, conflicts, range) => SetConflicts(id, conflicts, range)))
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
            Retired[id] = record.AppointmentId;
            ChangedRecords.Add(id);
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
        ChangedRecords.Add(record.AppointmentId);
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

            foreach (var partner in previousConflicts.Where(id => !calendars.Any(c => _calendars.TryGetValue(c, out var list) && list.Exists(r => r.AppointmentId == id))))
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
    private static ApplyResult ResultOf(ApplyOutcome outcome, StoredAppointment stored, BookingEvent e, IReadOnlyList<string> retired)
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
        // Staff alias hook: records with a range, and every calendar, are filed under the user key an e-mail key aliases.
        (found, record) = (found.ConvertAll(Aliases.Resolve), Aliases.Resolve(record));
        var next = new StoredAppointment(record, merged, []);
        var calendars = found.SelectMany(a => a.StaffKeys).Concat(next.StaffKeys).Select(c => Aliases.Resolve(c)!).Distinct(StringComparer.Ordinal).ToList();
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

    // Staff alias hooks (the logic is in StaffAliases.cs).
    private List<(string UserKey, string EmailKey)> AliasProbes(Plan plan) => StaffAliases.Probes(plan.Event, plan.Found, plan.Record, plan.TouchesCalendars);

    private bool IsLoaded(string staffKey) => _calendars.ContainsKey(staffKey) || Aliases.Known.ContainsKey(staffKey);

    /// <summary>A range moved to a user key's calendar: a loaded record is re-keyed, a record not loaded gets its key patched.</summary>
    private void Refile(string id, string userKey)
    {
        if (_records.TryGetValue(id, out var a))
        {
            var moved = Aliases.Resolve(a);
            if (!ReferenceEquals(moved, a))
            {
                _records[id] = moved;
                ChangedRecords.Add(id);
            }
        }
        else if (!Retired.ContainsKey(id))
        {
            Aliases.Moved[id] = userKey;
        }
    }

    private void UpdateCalendar(string staffKey, HashSet<string> ids, IReadOnlyList<StaffRange> mineAll)
    {
        if (!_calendars.TryGetValue(staffKey, out var ranges))
        {
            ranges = [];
            _calendars[staffKey] = ranges;
        }

        bool Ours(StaffRange r) => ids.Contains(r.AppointmentId) || (r.Group is { } g && ids.Contains(g));
        var before = ranges.ToList();
        ranges.RemoveAll(Ours);
        var added = mineAll.Where(r => r.StaffKey == staffKey).ToList();
        if (added.Count > 0)
        {
            ranges.AddRange(added);
            ranges.Sort((a, b) => a.Start != b.Start ? a.Start.CompareTo(b.Start) : string.CompareOrdinal(a.AppointmentId, b.AppointmentId));
            if (ranges.Count > MaxRangesPerStaff)
            {
                var drop = ranges.OrderBy(r => r.End).ThenBy(r => r.AppointmentId, StringComparer.Ordinal).Take(ranges.Count - MaxRangesPerStaff).ToHashSet();
                ranges.RemoveAll(drop.Contains);
            }
        }

        ChangedCalendars.Add(staffKey);

        // Conflicts are a function of the calendar: recompute for everyone whose set may have changed.
        var changed = before.Concat(ranges).Where(Ours).ToList();
        var affected = before.Concat(ranges).Where(r => Ours(r) || changed.Exists(x => x.Overlaps(r)))
            .Select(r => r.AppointmentId).Distinct(StringComparer.Ordinal).ToList();
        foreach (var id in affected)
        {
            var mine = ranges.Find(r => r.AppointmentId == id);
            if (mine is null && mineAll.Any(r => r.AppointmentId == id && r.StaffKey != staffKey))
            {
                continue; // the record (or slot) moved to another staff member's calendar: its conflicts are worked out there
            }

            var conflicts = mine is null ? [] : ranges.Where(r => r.AppointmentId != id && r.Overlaps(mine)).Select(r => r.AppointmentId).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
            SetConflicts(id, conflicts, mine ?? before.Find(r => r.AppointmentId == id));
        }
    }

    private void SetConflicts(string id, List<string> conflicts, StaffRange? range = null)
    {
        if (_records.TryGetValue(id, out var a) && !a.IsSeated)
        {
            if (!a.ConflictsWith.SequenceEqual(conflicts))
            {
                _records[id] = a with { ConflictsWith = conflicts };
                ChangedRecords.Add(id);
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
                ChangedRecords.Add(owner);
            }
        }
        else if (range is not null && !Retired.ContainsKey(id) && !_records.ContainsKey(id))
        {
            ConflictUpdates[id] = new ConflictUpdate(conflicts, range.Uids, range.Seats) { Group = range.Group };
        }
    }
}

/// <summary>A conflict change for rows that were not loaded: a record's (its uids) or a seated slot's (its uids and seats).</summary>
public sealed record ConflictUpdate(IReadOnlyList<string> ConflictsWith, IReadOnlyList<string> Uids, IReadOnlyList<string>? Seats)
{
    /// <summary>A slot's booking: its group row carries the slot's conflicts for the next event.</summary>
    public string? Group { get; init; }
}
