using AskPro.Functions.Calcom;

namespace AskPro.Functions.Appointments;

/// <summary>
/// E-mail aliases of staff calendars (docs/records.md#staff-identity). A booking whose events never name a Cal.com user id is
/// filed under the hash of its organizer e-mail; once any event pairs that e-mail with a user id, the e-mail's row
/// <c>stf_{e-mail hash}</c> becomes an alias (<c>AliasOf = u{id}</c>, no ranges): its ranges move into <c>stf_u{id}</c>
/// and every later id-less booking of that address is filed there too, so both kinds meet in one calendar whatever the
/// delivery order. Aliases are permanent and the first one wins (two user ids sharing one address: the address stays
/// with the first id seen). The user id's row lists the e-mail keys already settled for it (<c>EmailKeys</c>), so the
/// next booking of that id and address does not read the e-mail row again.
/// <para>
/// Kept apart from <see cref="AppointmentBook"/> (which holds one private instance): the
/// book is the slice of the table an event touches, this class the aliases known in that slice.
/// </para>
/// </summary>
public sealed class StaffAliases
{

    /// <summary>A calendar lists at most this many settled e-mail keys; beyond, an address is checked again each time (correct, one read more).</summary>
    public const int MaxEmailKeys = 100;

    /// <summary>
    /// Moving an e-mail calendar patches every row of every moved record in the event's transaction (100 actions): a
    /// calendar whose ranges need more than this many patches is not aliased (it stays apart; docs/records.md#staff-identity).
    /// </summary>
    public const int MaxMovedRows = 60;

    private readonly Dictionary<string, string> _aliasOf = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SortedSet<string>> _emailKeys = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _established = new(StringComparer.Ordinal);

    /// <summary>Aliases this slice made: e-mail key → user key (rows to write).</summary>
    public IReadOnlyDictionary<string, string> Established => _established;

    public IReadOnlyDictionary<string, string> Known => _aliasOf;

    public static bool IsUserKey(string? key) => key is not null && key.StartsWith(AppointmentProjection.UserKeyPrefix, StringComparison.Ordinal);

    /// <summary>The calendar a staff key files into: the user key an e-mail key is an alias of, else the key itself.</summary>
    public string? Resolve(string? key) => key is not null && _aliasOf.TryGetValue(key, out var target) ? target : key;

    /// <summary>
    /// A record with a range is filed (and keyed) under the alias's user key. A record without one keeps the key its own
    /// events give: which calendar it would have been in depends on when the alias appeared, and no index finds it then.
    /// </summary>
    public Appointment Resolve(Appointment record)
    {
        ArgumentNullException.ThrowIfNull(record);
        return record.HasActiveRange && Resolve(record.StaffKey) is { } key && key != record.StaffKey ? record with { StaffKey = key } : record;
    }

    public StoredAppointment Resolve(StoredAppointment stored)
    {
        ArgumentNullException.ThrowIfNull(stored);
        var record = Resolve(stored.Record);
        var old = Resolve(stored.StoredStaffKey);
        old = old == record.StaffKey ? null : old;
        return ReferenceEquals(record, stored.Record) && old == stored.StoredStaffKey ? stored : stored with { Record = record, StoredStaffKey = old };
    }

    public void LoadAlias(string emailKey, string userKey) => _aliasOf[emailKey] = userKey;

    public void LoadEmailKeys(string userKey, IEnumerable<string> emailKeys)
    {
        ArgumentNullException.ThrowIfNull(emailKeys);
        _emailKeys[userKey] = new SortedSet<string>(emailKeys, StringComparer.Ordinal);
    }

    public IReadOnlyCollection<string> EmailKeysOf(string userKey) => _emailKeys.TryGetValue(userKey, out var keys) ? keys : [];

    /// <summary>
    /// A loaded record that was filed under a user key through an alias (see <see cref="AsStored"/>) tells the alias:
    /// aliases never change, so its later events need not read the e-mail row.
    /// </summary>
    public void Learn(StoredAppointment stored)
    {
        ArgumentNullException.ThrowIfNull(stored);
        var a = stored.Record;
        if (a.StaffUserId is null && IsUserKey(a.StaffKey) && AppointmentProjection.StaffKeyOf(null, a.StaffEmail) is { } emailKey)
        {
            _aliasOf.TryAdd(emailKey, a.StaffKey!);
        }
    }

    /// <summary>
    /// The record of a row: a row of an id-less record with a range that was written under a user key was filed there by
    /// an alias (only an alias gives an id-less record a user key), so the record reads as stored.
    /// </summary>
    public static Appointment AsStored(Appointment projected, string? storedKey)
    {
        ArgumentNullException.ThrowIfNull(projected);
        return projected.StaffUserId is null && projected.HasActiveRange && !IsUserKey(projected.StaffKey) && IsUserKey(storedKey)
            ? projected with { StaffKey = storedKey }
            : projected;
    }

    /// <summary>The (user key, e-mail key) an event states for its organizer, when it names both.</summary>
    public static (string UserKey, string EmailKey)? PairOf(BookingEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return e.OrganizerId is { } id && AppointmentProjection.StaffKeyOf(null, e.Organizer?.Email) is { } emailKey
            ? (AppointmentProjection.StaffKeyOf(id, null)!, emailKey)
            : null;
    }

    /// <summary>
    /// The pairs to settle when <paramref name="e"/> is applied: the event's own pair when no stored event of the records
    /// had it (so every pair ever stated is settled once, whatever the order), and the record's current pair whenever its
    /// calendar changes anyway (cheap then: the calendar is read, and it lists the settled e-mail keys).
    /// </summary>
    public static List<(string UserKey, string EmailKey)> Probes(BookingEvent e, IEnumerable<StoredAppointment> found, Appointment? record, bool touchesCalendars)
    {
        ArgumentNullException.ThrowIfNull(found);
        var probes = new List<(string, string)>(2);
        if (PairOf(e) is { } pair && !found.Any(a => a.Facts.Events.Any(x => PairOf(x) == pair)))
        {
            probes.Add(pair);
        }

        if (touchesCalendars && record?.StaffUserId is { } id && AppointmentProjection.StaffKeyOf(null, record.StaffEmail) is { } emailKey)
        {
            var current = (AppointmentProjection.StaffKeyOf(id, null)!, emailKey);
            if (!probes.Contains(current))
            {
                probes.Add(current);
            }
        }

        return probes;
    }

    /// <summary>
    /// Rows the probes still need read: the user key's calendar (it lists the settled e-mail keys), then the e-mail row
    /// when the calendar does not list it.
    /// </summary>
    public IEnumerable<string> Needed(IEnumerable<(string UserKey, string EmailKey)> probes, Func<string, bool> loaded)
    {
        ArgumentNullException.ThrowIfNull(probes);
        ArgumentNullException.ThrowIfNull(loaded);
        foreach (var (userKey, emailKey) in probes)
        {
            if (!loaded(userKey))
            {
                yield return userKey;
            }
            else if (!EmailKeysOf(userKey).Contains(emailKey) && !_aliasOf.ContainsKey(emailKey) && !loaded(emailKey))
            {
                yield return emailKey;
            }
        }
    }

    /// <summary>
    /// Settles the probes: an e-mail key not yet an alias becomes one of the pair's user key, its calendar's ranges move
    /// there and the conflicts of every moved or now-overlapping range are recomputed. Returns whether any alias was made
    /// (the caller then plans the event again, under it). A calendar not loaded counts as empty (the store loads every
    /// row <see cref="Needed"/> names, empty ones too).
    /// </summary>
    public bool Establish(IEnumerable<(string UserKey, string EmailKey)> probes, Dictionary<string, StaffCalendar> calendars, HashSet<string> changedCalendars,
        Action<string, string> refile, Action<string, List<string>, StaffRange> setConflicts)
    {
        ArgumentNullException.ThrowIfNull(probes);
        ArgumentNullException.ThrowIfNull(calendars);
        ArgumentNullException.ThrowIfNull(changedCalendars);
        ArgumentNullException.ThrowIfNull(refile);
        ArgumentNullException.ThrowIfNull(setConflicts);
        var made = false;
        foreach (var (userKey, emailKey) in probes)
        {
            if (EmailKeysOf(userKey).Contains(emailKey))
            {
                continue;
            }

            var moving = _aliasOf.ContainsKey(emailKey) ? StaffCalendar.Empty : calendars.GetValueOrDefault(emailKey) ?? StaffCalendar.Empty;
            if (moving.Sum(r => 1 + r.Uids.Count) > MaxMovedRows)
            {
                continue; // does not fit one transaction: the e-mail calendar stays apart (checked again next time)
            }

            if (!_emailKeys.TryGetValue(userKey, out var settled))
            {
                _emailKeys[userKey] = settled = new SortedSet<string>(StringComparer.Ordinal);
            }

            if (settled.Count < MaxEmailKeys)
            {
                settled.Add(emailKey);
            }

            if (!calendars.TryGetValue(userKey, out var target))
            {
                calendars[userKey] = target = StaffCalendar.Empty;
            }

            changedCalendars.Add(userKey);
            if (_aliasOf.ContainsKey(emailKey))
            {
                continue; // the first alias wins: this address already stands for another (or this) user id
            }

            _aliasOf[emailKey] = userKey;
            _established[emailKey] = userKey;
            made = true;
            calendars.Remove(emailKey);
            changedCalendars.Remove(emailKey);
            var present = target.Select(r => r.AppointmentId).ToHashSet(StringComparer.Ordinal);
            var moved = moving.Where(r => present.Add(r.AppointmentId)).ToList();
            calendars[userKey] = target = target.With(moved);
            moved.RemoveAll(r => !target.Contains(r));
            foreach (var r in moved)
            {
                refile(r.AppointmentId, userKey);
            }

            // Conflicts are a function of the calendar: every moved range and every range it now overlaps.
            foreach (var r in target.Where(r => moved.Exists(m => m.AppointmentId == r.AppointmentId || m.Overlaps(r))).ToList())
            {
                setConflicts(r.AppointmentId, target.ConflictsOf(r), r);
            }
        }

        return made;
    }
}
