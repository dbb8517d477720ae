using AskPro.Functions.Tenants;
using Azure;
using Azure.Data.Tables;
using E = AskPro.Functions.Appointments.AppointmentEntities;

namespace AskPro.Functions.Appointments;

/// <summary>
/// Which rows one applied event writes, and how (pure: the store submits the plan). Owns the ETag policy (a row read
/// is replaced under its ETag; a row of a record read through another row follows that row's guard; a new row is
/// added) and the size budget (the rows the next event relies on go into the first transaction; rows derived from them
/// fill what it has left and spill into follow-up transactions).
/// </summary>
public static class AppointmentWriter
{
    /// <summary>An entity-group transaction holds at most 100 operations.</summary>
    public const int MaxBatch = 100;

    /// <summary>What a transaction may carry besides its framing (the per-action framing is in PayloadBytes' margin).</summary>
    private const long TransactionLimit = E.MaxTransactionBytes - (256 * 1024);

    /// <summary>
    /// The transactions that write <paramref name="result"/>'s changes, the first being the one everything depends on.
    /// Throws <see cref="UnstorableEventException"/> when the event set cannot fit or the first transaction would need
    /// more than 100 actions.
    /// </summary>
    public static WritePlan Plan(ApplyResult result, HistoryEntry? entry, RowsRead read, DateTimeOffset now) =>
        Plan(result, entry, read, now, TenantRows.Default);

    /// <summary>The plan for <paramref name="tenant"/>: every row in its partition, every record row naming it (<see cref="Place"/>).</summary>
    public static WritePlan Plan(ApplyResult result, HistoryEntry? entry, RowsRead read, DateTimeOffset now, TenantRows tenant)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(tenant);
        ArgumentNullException.ThrowIfNull(read);
        var changes = result.Changes;
        // Two kinds of writes: the rows every reader and the next event rely on (uid rows with the event set, record
        // rows, calendars), and rows derived from them for table readers (a seated booking's slot and seat rows) plus
        // conflict patches of partners. Both go into one transaction when they fit; beyond 100 actions the derived rows
        // follow in further transactions once the first has landed (docs/records.md#size-limits).
        var batch = new List<TableTransactionAction>();
        var derived = new Dictionary<string, TableTransactionAction>(StringComparer.Ordinal);
        var degraded = new List<DegradedFacts>();
        void Write(TableEntity entity) => batch.Add(ActionFor(entity, read));
        void Derive(TableEntity entity, TableTransactionActionType kind = TableTransactionActionType.UpsertReplace) =>
            derived[entity.RowKey] = new TableTransactionAction(kind, entity, kind == TableTransactionActionType.UpsertReplace ? default : ETag.All);

        var firstCreated = read.CreatedAt.Count > 0 ? read.CreatedAt.Values.Min() : now;
        foreach (var (id, stored) in changes.Written.Where(w => w.Value.IsSeated).OrderBy(w => w.Key, StringComparer.Ordinal))
        {
            var previous = changes.Before.Values.Where(a => a.Record.AppointmentId == id || changes.Retired.GetValueOrDefault(a.Record.AppointmentId) == id).ToList();
            SeatRows.Derive(stored, previous, read.Histories, entry, id == result.AppointmentId || result.SeatIds is not null, read.CreatedAt.GetValueOrDefault(id, firstCreated), now, Derive);
        }

        var staffEntities = changes.Calendars.Select(c => AppointmentEntities.WithEmailKeys(E.StaffEntity(c.Key, c.Value, now), changes.EmailKeys.GetValueOrDefault(c.Key) ?? [])).ToList();
        // New alias rows replace their e-mail calendars.
        staffEntities.AddRange(changes.NewAliases.Select(a => AppointmentEntities.AliasEntity(a.Key, a.Value, now)));
        var factRows = changes.Written.Values.Sum(a => a.IsSeated ? 1 : 1 + a.Uids.Count);
        // Size limits are checked before writing: every row of a record carries its event set, so the set must fit one
        // entity and, times the record's rows, one transaction next to the calendars; beyond that it degrades. Derived
        // rows are not counted: they fill what the first transaction has left and the rest follow in further ones.
        var factsBudget = Math.Min(E.MaxFactsBytes,
            (int)((E.MaxTransactionBytes - (256L * 1024) - staffEntities.Sum(E.PayloadBytes)
                - (factRows * 64L * 1024)) * 3 / 4 / Math.Max(1, factRows)));
        foreach (var id in changes.RecordIds)
        {
            if (changes.Retired.TryGetValue(id, out var into))
            {
                if (changes.Before.TryGetValue(id, out var gone) && gone.IsSeated)
                {
                    Write(E.MergedEntity(id, into, now, E.GroupKey(id)));
                }

                // A seated booking's id is also its first slot's id: a live slot row is never replaced by a redirect.
                if (!derived.ContainsKey(E.AppointmentKey(id)) && !changes.Written[into].Slots.Any(s => s.SlotId == id))
                {
                    Write(E.MergedEntity(id, into, now));
                }

                continue;
            }

            // Only the event's own record is left: partners that were not read are patched below.
            var stored = changes.Written[id];
            var created = read.CreatedAt.GetValueOrDefault(id, firstCreated);
            var fitted = stored.Facts.FitInto(Math.Max(0, factsBudget))
                ?? throw new UnstorableEventException($"the event set of {id} cannot be made to fit {factRows} rows of one transaction");
            if (!ReferenceEquals(fitted.Facts, stored.Facts))
            {
                degraded.Add(new DegradedFacts(id, stored.Facts.Count, fitted.Facts.Count, fitted.Bytes.Length));
            }

            // The histories of every record that lives on as this one, plus this event's entry.
            var history = AppointmentHistory.ToJson(AppointmentHistory.Merge(
                read.Histories.Where(h => h.Key == id || changes.Retired.GetValueOrDefault(h.Key) == id).Select(h => h.Value),
                id == result.AppointmentId || (stored.IsSeated && result.SeatIds is not null && result.Record?.Record.AppointmentId == id) ? entry : null));
            if (stored.IsSeated)
            {
                // One row holds a seated booking's event set however many slots its seats moved between; each uid row is a
                // pointer to it, written when the uid joins (or its booking was joined into this one).
                Write(E.ToEntity(E.GroupKey(id), stored, fitted.Bytes, created, now, fitted.Facts.Count).WithHistory(history));
                foreach (var uid in stored.Uids.Where(u => changes.Before.Values.FirstOrDefault(a => a.Uids.Contains(u)) is not { IsSeated: true } was || was.Record.AppointmentId != id))
                {
                    Write(E.PointerEntity(uid, id, now));
                }

                continue;
            }

            Write(E.ToEntity(E.AppointmentKey(id), stored, fitted.Bytes, created, now, fitted.Facts.Count).WithHistory(history));
            foreach (var uid in stored.Uids)
            {
                Write(E.ToEntity(E.UidKey(uid), stored, fitted.Bytes, created, now, fitted.Facts.Count).WithHistory(history));
            }
        }

        // Which partner each conflict patch is for: a patch that finds its row gone names the range to drop.
        var patchOf = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (id, update) in changes.Partners)
        {
            foreach (var patch in ConflictPatches(id, update, now))
            {
                patchOf[patch.RowKey] = id;
                // Merge-update of the conflict fields only: the staff row's ETag serialises every conflict change.
                Derive(patch, TableTransactionActionType.UpdateMerge);
            }
        }

        foreach (var staff in staffEntities)
        {
            Write(staff);
        }

        if (batch.Count > MaxBatch)
        {
            throw new UnstorableEventException($"applying the event to {result.AppointmentId} needs {batch.Count} writes, more than one transaction holds");
        }

        var keys = batch.Select(a => a.Entity.RowKey).ToHashSet(StringComparer.Ordinal);
        var transactions = Transactions(batch, [.. derived.Values.Where(a => !keys.Contains(a.Entity.RowKey))]);
        transactions.ForEach(t => Place(t, tenant));
        return new WritePlan(transactions, patchOf, degraded);
    }

    /// <summary>
    /// Puts rows into <paramref name="tenant"/>'s partition (row kinds encode without one). Every full record row names
    /// the tenant; a tenant with a company makes it the record's company and keeps the company its booking's metadata
    /// claimed beside it as <c>ClaimedCompanyId</c> (docs/tenants.md#what-a-tenant-is). Patches only get the partition.
    /// </summary>
    public static void Place(IEnumerable<TableTransactionAction> actions, TenantRows tenant)
    {
        ArgumentNullException.ThrowIfNull(actions);
        ArgumentNullException.ThrowIfNull(tenant);
        foreach (var action in actions)
        {
            var entity = (TableEntity)action.Entity;
            entity.PartitionKey = tenant.Partition;
            if (action.ActionType == TableTransactionActionType.UpdateMerge || !entity.ContainsKey("CompanyId"))
            {
                continue;
            }

            entity["TenantId"] = tenant.TenantId;
            if (tenant.CompanyId is not null)
            {
                entity["ClaimedCompanyId"] = entity.GetString("CompanyId");
                entity["CompanyId"] = tenant.CompanyId;
            }
        }
    }

    /// <summary>
    /// The rows that carry a partner's conflict flags: a record's <c>apt_</c> row and uid rows, or a seated slot's row,
    /// its seats' rows and its group row's column for the slot. A record whose range moved through a new staff alias
    /// gets its <c>StaffKey</c> in the same patch.
    /// </summary>
    public static IEnumerable<TableEntity> ConflictPatches(string id, ConflictUpdate update, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(update);
        TableEntity Moved(TableEntity patch)
        {
            if (update.MovedToStaffKey is { } key)
            {
                patch["StaffKey"] = key;
            }

            return patch;
        }

        yield return Moved(E.ConflictPatch(E.AppointmentKey(id), update.ConflictsWith, now));
        if (update.Seats is { } seats)
        {
            foreach (var seat in seats)
            {
                yield return E.ConflictPatch(E.AppointmentKey(seat), update.ConflictsWith, now);
            }

            if (update.Group is { } group)
            {
                yield return E.SlotConflictPatch(E.GroupKey(group), id, update.ConflictsWith, now);
            }
        }
        else
        {
            foreach (var uid in update.Uids)
            {
                yield return Moved(E.ConflictPatch(E.UidKey(uid), update.ConflictsWith, now));
            }
        }
    }

    /// <summary>
    /// A duplicate from another delivery is noted in the record's history (a retry of a delivery already noted writes
    /// nothing: null), guarded by the ETags of the rows read.
    /// </summary>
    public static IReadOnlyList<TableTransactionAction>? DuplicateNote(StoredAppointment? stored, HistoryEntry? entry, RowsRead read) =>
        DuplicateNote(stored, entry, read, TenantRows.Default);

    /// <summary>The duplicate note in <paramref name="tenant"/>'s partition.</summary>
    public static IReadOnlyList<TableTransactionAction>? DuplicateNote(StoredAppointment? stored, HistoryEntry? entry, RowsRead read, TenantRows tenant)
    {
        ArgumentNullException.ThrowIfNull(read);
        ArgumentNullException.ThrowIfNull(tenant);
        if (entry is null || stored is null
            || !read.Histories.TryGetValue(stored.Record.AppointmentId, out var history)
            || AppointmentHistory.Contains(history, new ApplySource(entry.SourceId!, entry.SourceKind)))
        {
            return null;
        }

        var merged = AppointmentHistory.ToJson(AppointmentHistory.Merge([history], entry));
        // A seated booking's history lives on its group row (a seat row shows its own entries from its last change).
        var keys = stored.IsSeated ? [E.GroupKey(stored.Record.AppointmentId)] : stored.Uids.Select(E.UidKey).Prepend(E.AppointmentKey(stored.Record.AppointmentId));
        // The ETags of the uid rows read guard the patch: a concurrent change re-runs the whole apply.
        var batch = keys.Select(key => new TableTransactionAction(TableTransactionActionType.UpdateMerge,
            new TableEntity(tenant.Partition, key).WithHistory(merged), read.ETags.GetValueOrDefault(key, ETag.All))).ToList();
        return batch.Count <= MaxBatch ? batch : null;
    }

    /// <summary>The ETag policy for a row the event relies on.</summary>
    private static TableTransactionAction ActionFor(TableEntity entity, RowsRead read)
    {
        if (read.ETags.TryGetValue(entity.RowKey, out var etag))
        {
            return new TableTransactionAction(TableTransactionActionType.UpdateReplace, entity, etag);
        }

        if (read.Existing.Contains(entity.RowKey))
        {
            // Not read itself, but part of a record read through another row whose ETag guards the whole batch.
            return new TableTransactionAction(TableTransactionActionType.UpdateReplace, entity, ETag.All);
        }

        if (entity.RowKey.StartsWith(E.AppointmentPrefix, StringComparison.Ordinal) || entity.RowKey.StartsWith(E.GroupPrefix, StringComparison.Ordinal))
        {
            // A chain whose original changed back can land on the id of a record (or seated group) it once absorbed
            // (a merged redirect row). The uid rows and the group rows read, added or ETag-checked in this batch,
            // are the guard; this row just follows them.
            return new TableTransactionAction(TableTransactionActionType.UpsertReplace, entity);
        }

        return new TableTransactionAction(TableTransactionActionType.Add, entity);
    }

    /// <summary>
    /// The first transaction (<paramref name="batch"/>, the rows the next event relies on) filled up with derived rows
    /// while it stays within 100 actions and the 4 MiB a transaction carries, then the remaining derived rows in
    /// further transactions within the same limits (docs/records.md#size-limits).
    /// </summary>
    internal static List<List<TableTransactionAction>> Transactions(List<TableTransactionAction> batch, List<TableTransactionAction> rest)
    {
        var transactions = new List<List<TableTransactionAction>> { batch };
        var bytes = batch.Sum(a => (long)E.PayloadBytes((TableEntity)a.Entity));
        foreach (var action in rest)
        {
            var size = E.PayloadBytes((TableEntity)action.Entity);
            if (transactions[^1].Count >= MaxBatch || bytes + size > TransactionLimit)
            {
                transactions.Add([]);
                bytes = 0;
            }

            transactions[^1].Add(action);
            bytes += size;
        }

        return transactions;
    }
}

/// <summary>
/// The writes of one applied event: <see cref="Transactions"/>[0] holds every row the next event relies on and must
/// land first; the rest are derived rows (seats, slots, partners' conflict flags) that follow.
/// </summary>
public sealed record WritePlan(IReadOnlyList<List<TableTransactionAction>> Transactions, IReadOnlyDictionary<string, string> PatchOf, IReadOnlyList<DegradedFacts> Degraded)
{
    /// <summary>The partner a conflict patch in <paramref name="batch"/> was for, when that action failed because its row is gone (404).</summary>
    public string? GonePatch(TableTransactionFailedException ex, IReadOnlyList<TableTransactionAction> batch)
    {
        ArgumentNullException.ThrowIfNull(ex);
        ArgumentNullException.ThrowIfNull(batch);
        return ex.Status == 404 && ex.FailedTransactionActionIndex is int i && i >= 0 && i < batch.Count
            && batch[i].ActionType == TableTransactionActionType.UpdateMerge && PatchOf.TryGetValue(batch[i].Entity.RowKey, out var id) ? id : null;
    }
}

/// <summary>A record whose event set did not fit its rows: it was stored with its newest <see cref="Kept"/> events.</summary>
public sealed record DegradedFacts(string AppointmentId, int Events, int Kept, int Bytes);
