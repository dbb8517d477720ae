using AskPro.Functions.Calcom;
using AskPro.Functions.Logging;
using AskPro.Functions.Storage;
using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.Logging;
using E = AskPro.Functions.Appointments.AppointmentEntities;

namespace AskPro.Functions.Appointments;

/// <summary>
/// Applies one event to the appointments table: point-read the rows the event touches into an
/// <see cref="AppointmentBook"/>, apply the pure decision, write everything that changed in one entity-group
/// transaction guarded by the ETags that were read. When another worker got there first (409/412), re-read and
/// re-apply: no update is lost, and the decision is made again on fresh state.
/// </summary>
public sealed partial class AppointmentTableStore(StorageClients storage, TimeProvider time, ILogger<AppointmentTableStore> logger)
{
    public const int MaxAttempts = 25;
    /// <summary>An entity-group transaction holds at most 100 operations.</summary>
    private const int MaxBatch = 100;

    private readonly TableClient _table = storage.Appointments;
    private readonly CreateOnce _created = new(ct => storage.Appointments.CreateIfNotExistsAsync(ct));

    public Task<ApplyResult> ApplyAsync(BookingEvent e, CancellationToken ct) => ApplyAsync(e, null, ct);

    /// <summary>Applies an event; <paramref name="source"/> (the delivery or reconciliation pass) goes into the record's history.</summary>
    public async Task<ApplyResult> ApplyAsync(BookingEvent e, ApplySource? source, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(e);
        await EnsureCreatedAsync(ct);
        // Appointments whose rows turned out to be gone (erased, or deleted by hand) while a calendar still lists them.
        var gone = new HashSet<string>(StringComparer.Ordinal);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await TryApplyAsync(e, source, gone, ct);
            }
            catch (PartnerGoneException ex) when (gone.Add(ex.AppointmentId) && gone.Count <= AppointmentBook.MaxRangesPerStaff)
            {
                // A row that is gone is not a lost race: re-reading would find it gone again, 25 times. The next try
                // drops its range from the calendar (which is rewritten anyway) and patches nobody who is not there.
                Log.PartnerGone(logger, UidPseudonym.Of(e.Uid), ex.AppointmentId);
                attempt--;
            }
            catch (RequestFailedException ex) when (ex.Status is 409 or 412 or 404 && attempt < MaxAttempts)
            {
                Log.Contention(logger, UidPseudonym.Of(e.Uid), attempt, ex.Status);
                await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(5, 20 * Math.Min(attempt, 10))), ct);
            }
        }
    }

    private async Task<ApplyResult> TryApplyAsync(BookingEvent e, ApplySource? source, HashSet<string> goneRanges, CancellationToken ct)
    {
        var book = new AppointmentBook();
        // History hook 1 of 3: each loaded record's history, by AppointmentId.
        var histories = new Dictionary<string, IReadOnlyList<HistoryEntry>>(StringComparer.Ordinal);
        var etags = new Dictionary<string, ETag>(StringComparer.Ordinal);
        var existingRows = new HashSet<string>(StringComparer.Ordinal);
        var createdAt = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);

        var uidRows = await Task.WhenAll(AppointmentBook.UidsOf(e).Select(uid => ReadAsync(E.UidKey(uid), ct)));
        // Erasure hook (Operating/Erasure.cs): a uid without a row may have been erased, and then the event is dropped. Only
        // a uid new to the table costs this read (a create, the new uid of a reschedule); it runs alongside the calendar
        // reads and is awaited before anything is decided or written.
        var erased = ErasedAmongAsync(AppointmentBook.UidsOf(e).Where((_, i) => uidRows[i] is null).ToList(), ct);
        // A seated booking's uid rows point to its group row, which holds the event set: one more round of reads.
        var rows = new List<TableEntity>();
        foreach (var row in uidRows.OfType<TableEntity>())
        {
            etags[row.RowKey] = row.ETag;
            if (E.IsPointer(row))
            {
                existingRows.Add(row.RowKey);
            }
            else
            {
                rows.Add(row);
            }
        }

        foreach (var group in await ReadGroupsAsync(uidRows.OfType<TableEntity>().Where(E.IsPointer).Select(r => r.GetString("GroupId")!).Distinct(StringComparer.Ordinal), ct))
        {
            etags[group.RowKey] = group.ETag;
            rows.Add(group);
        }

        foreach (var row in rows)
        {
            if (book.Records.ContainsKey(row.GetString("AppointmentId") ?? ""))
            {
                continue;
            }

            var stored = E.FromEntity(row);
            book.Load(stored);
            createdAt[stored.Record.AppointmentId] = row.GetDateTimeOffset("CreatedAt") ?? time.GetUtcNow();
            histories[stored.Record.AppointmentId] = AppointmentHistory.Read(row);
            existingRows.UnionWith(stored.Uids.Select(E.UidKey));
            existingRows.Add(row.RowKey.StartsWith(E.GroupPrefix, StringComparison.Ordinal) ? row.RowKey : E.AppointmentKey(stored.Record.AppointmentId));
        }

        // Staff alias hook (StaffAliases.cs): a calendar read can name more to read (an alias's user key, an e-mail row to
        // settle), so rows are read in rounds until the book needs none it has not got; most events need one round.
        var read = new HashSet<string>(StringComparer.Ordinal);
        for (var calendars = book.CalendarsNeeded(e).Where(read.Add).ToList(); calendars.Count > 0; calendars = book.CalendarsNeeded(e).Where(read.Add).ToList())
        {
            var staffRows = await Task.WhenAll(calendars.Select(staff => ReadAsync(E.StaffRowKey(staff), ct)));
            for (var i = 0; i < calendars.Count; i++)
            {
                if (staffRows[i] is { } row)
                {
                    etags[row.RowKey] = row.ETag;
                    existingRows.Add(row.RowKey);
                    if (StaffAliases.AliasOf(row) is { } userKey)
                    {
                        book.LoadAlias(calendars[i], userKey);
                        continue;
                    }

                    book.LoadCalendar(calendars[i], E.RangesOf(row).Where(r => !goneRanges.Contains(r.AppointmentId)));
                    book.Aliases.LoadEmailKeys(calendars[i], StaffAliases.EmailKeysOf(row));
                }
                else
                {
                    book.LoadCalendar(calendars[i], []); // known to be empty (an alias probe tells absent from unread)
                }
            }
        }

        if (await erased)
        {
            Log.DroppedErased(logger, UidPseudonym.Of(e.Uid), e.TriggerEvent);
            return new ApplyResult(ApplyOutcome.Erased, AppointmentProjection.AppointmentIdOf(e.Uid), HistoryOutcome.Erased, [], []);
        }

        var result = book.Apply(e);
        var now = time.GetUtcNow();
        var entry = source is null ? null : new HistoryEntry(source.Id, source.Kind, e.TriggerEvent, e.CreatedAt, now, HistoryOutcome.Of(result)) { Seats = result.SeatIds, PayloadVersion = source.PayloadVersion };
        if (result.Outcome == ApplyOutcome.Unchanged)
        {
            // History hook 2 of 3: a duplicate from another delivery is noted; a retry of a delivery already noted writes nothing.
            await NoteDuplicateAsync(book.FindByUid(e.Uid), entry, histories, etags, ct);
            return result;
        }

        // Two kinds of writes: the rows every reader and the next event rely on (uid rows with the event set, record
        // rows, calendars), and rows derived from them for table readers (a seated booking's slot and seat rows) plus
        // conflict patches of partners. Both go into one transaction when they fit; beyond 100 actions the derived rows
        // follow in further transactions once the first has landed (README "Size limits").
        var batch = new List<TableTransactionAction>();
        var derived = new Dictionary<string, TableTransactionAction>(StringComparer.Ordinal);
        void Write(TableEntity entity, TableTransactionActionType update = TableTransactionActionType.UpdateReplace)
        {
            if (etags.TryGetValue(entity.RowKey, out var etag))
            {
                batch.Add(new TableTransactionAction(update, entity, etag));
            }
            else if (existingRows.Contains(entity.RowKey))
            {
                // Not read itself, but part of a record read through another row whose ETag guards the whole batch.
                batch.Add(new TableTransactionAction(update, entity, ETag.All));
            }
            else if (entity.RowKey.StartsWith(E.AppointmentPrefix, StringComparison.Ordinal) || entity.RowKey.StartsWith(E.GroupPrefix, StringComparison.Ordinal))
            {
                // A chain whose original changed back can land on the id of a record (or seated group) it once absorbed
                // (a merged redirect row). The uid rows and the group rows read, added or ETag-checked in this batch,
                // are the guard; this row just follows them.
                batch.Add(new TableTransactionAction(TableTransactionActionType.UpsertReplace, entity));
            }
            else
            {
                batch.Add(new TableTransactionAction(TableTransactionActionType.Add, entity));
            }
        }

        void Derive(TableEntity entity, TableTransactionActionType kind = TableTransactionActionType.UpsertReplace) =>
            derived[entity.RowKey] = new TableTransactionAction(kind, entity, kind == TableTransactionActionType.UpsertReplace ? default : ETag.All);

        var firstCreated = createdAt.Count > 0 ? createdAt.Values.Min() : now;
        foreach (var id in book.ChangedRecords.Where(id => !book.Retired.ContainsKey(id)).Order(StringComparer.Ordinal))
        {
            var stored = book.Records[id];
            if (stored.IsSeated)
            {
                var previous = book.Loaded.Values.Where(a => a.Record.AppointmentId == id || book.Retired.GetValueOrDefault(a.Record.AppointmentId) == id).ToList();
                DeriveSeatRows(stored, previous, histories, entry, id == result.AppointmentId || result.SeatIds is not null, createdAt.GetValueOrDefault(id, firstCreated), now, Derive);
            }
        }

        var staffEntities = book.ChangedCalendars.Select(staff => E.StaffEntity(staff, book.Calendars[staff], now)).ToList();
        // Staff alias hook: calendars keep the e-mail keys settled for them; new alias rows replace their e-mail calendars.
        staffEntities = staffEntities.ConvertAll(row => StaffAliases.WithEmailKeys(row, book.Aliases.EmailKeysOf(row.RowKey[E.StaffPrefix.Length..])));
        staffEntities.AddRange(book.Aliases.Established.Select(a => StaffAliases.AliasEntity(a.Key, a.Value, now)));
        var factRows = book.ChangedRecords.Where(id => !book.Retired.ContainsKey(id)).Sum(id => book.Records[id].IsSeated ? 1 : 1 + book.Records[id].Uids.Count);
        // Size limits are checked before writing: every row of a record carries its event set, so the set must fit one
        // entity and, times the record's rows, one transaction next to the calendars; beyond that it degrades. Derived
        // rows are not counted: they fill what the first transaction has left and the rest follow in further ones.
        var factsBudget = Math.Min(E.MaxFactsBytes,
            (int)((E.MaxTransactionBytes - (256L * 1024) - staffEntities.Sum(E.PayloadBytes)
                - (factRows * 64L * 1024)) * 3 / 4 / Math.Max(1, factRows)));
        foreach (var id in book.ChangedRecords.Order(StringComparer.Ordinal))
        {
            if (book.Retired.TryGetValue(id, out var into))
            {
                if (book.Loaded.TryGetValue(id, out var gone) && gone.IsSeated)
                {
                    Write(E.MergedEntity(id, into, now, E.GroupKey(id)));
                }

                // A seated booking's id is also its first slot's id: a live slot row is never replaced by a redirect.
                if (!derived.ContainsKey(E.AppointmentKey(id)) && !book.Records[into].Slots.Any(s => s.SlotId == id))
                {
                    Write(E.MergedEntity(id, into, now));
                }

                continue;
            }

            // Only the event's own record is left: partners that were not read are patched below.
            var stored = book.Records[id];
            var created = createdAt.GetValueOrDefault(id, firstCreated);
            var fitted = stored.Facts.FitInto(Math.Max(0, factsBudget))
                ?? throw new UnstorableEventException($"the event set of {id} cannot be made to fit {factRows} rows of one transaction");
            if (!ReferenceEquals(fitted.Facts, stored.Facts))
            {
                Log.FactsDegraded(logger, id, stored.Facts.Count, fitted.Facts.Count, fitted.Bytes.Length);
            }

            // History hook 3 of 3: the histories of every record that lives on as this one, plus this event's entry.
            var history = AppointmentHistory.ToJson(AppointmentHistory.Merge(
                histories.Where(h => h.Key == id || book.Retired.GetValueOrDefault(h.Key) == id).Select(h => h.Value),
                id == result.AppointmentId || (stored.IsSeated && result.SeatIds is not null && book.FindByUid(e.Uid)?.Record.AppointmentId == id) ? entry : null));
            if (stored.IsSeated)
            {
                // One row holds a seated booking's event set however many slots its seats moved between; each uid row is a
                // pointer to it, written when the uid joins (or its booking was joined into this one).
                Write(E.ToEntity(E.GroupKey(id), stored, fitted.Bytes, created, now, fitted.Facts.Count).WithHistory(history));
                foreach (var uid in stored.Uids.Where(u => book.Loaded.Values.FirstOrDefault(a => a.Uids.Contains(u)) is not { IsSeated: true } was || was.Record.AppointmentId != id))
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
        foreach (var (id, update) in book.ConflictUpdates)
        {
            foreach (var key in update.Seats is { } seatIds
                ? seatIds.Select(E.AppointmentKey).Append(E.AppointmentKey(id)).Concat(update.Group is { } g ? [E.GroupKey(g)] : [])
                : update.Uids.Select(E.UidKey).Append(E.AppointmentKey(id)))
            {
                patchOf[key] = id;
            }

            // Merge-update of the conflict fields only: the staff row's ETag serialises every conflict change.
            // Staff alias hook: a record whose range moved through a new alias gets its StaffKey in the same patch.
            Derive(book.Aliases.WithStaffKey(E.ConflictPatch(E.AppointmentKey(id), update.ConflictsWith, now), id), TableTransactionActionType.UpdateMerge);
            if (update.Seats is { } seats)
            {
                foreach (var seat in seats)
                {
                    Derive(E.ConflictPatch(E.AppointmentKey(seat), update.ConflictsWith, now), TableTransactionActionType.UpdateMerge);
                }

                if (update.Group is { } group)
                {
                    Derive(E.SlotConflictPatch(E.GroupKey(group), id, update.ConflictsWith, now), TableTransactionActionType.UpdateMerge);
                }
            }
            else
            {
                foreach (var uid in update.Uids)
                {
                    Derive(book.Aliases.WithStaffKey(E.ConflictPatch(E.UidKey(uid), update.ConflictsWith, now), id), TableTransactionActionType.UpdateMerge);
                }
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
        var rest = derived.Values.Where(a => !keys.Contains(a.Entity.RowKey)).ToList();
        var transactions = Transactions(batch, rest);
        try
        {
            await _table.SubmitTransactionAsync(transactions[0], ct);
        }
        catch (TableTransactionFailedException ex) when (GonePatch(ex, transactions[0], patchOf) is { } goneId)
        {
            throw new PartnerGoneException(goneId, ex);
        }

        foreach (var followUp in transactions.Skip(1))
        {
            await SubmitFollowUpAsync(followUp, patchOf, ct);
        }

        if (transactions.Count > 1)
        {
            Log.RowsFollowed(logger, result.AppointmentId, transactions.Skip(1).Sum(t => t.Count));
        }

        if (result.ConflictsWith.Count > 0)
        {
            Log.Conflict(logger, result.AppointmentId, UidPseudonym.Of(e.Uid), string.Join(',', result.ConflictsWith));
        }

        return result;
    }

    /// <summary>
    /// The first transaction (<paramref name="batch"/>, the rows the next event relies on) filled up with derived rows
    /// while it stays within 100 actions and the 4 MiB a transaction carries, then the remaining derived rows in
    /// further transactions within the same limits (README "Size limits").
    /// </summary>
    private static List<List<TableTransactionAction>> Transactions(List<TableTransactionAction> batch, List<TableTransactionAction> rest)
    {
        const long Limit = E.MaxTransactionBytes - (256 * 1024); // the request's own framing per action is in PayloadBytes' margin
        var transactions = new List<List<TableTransactionAction>> { batch };
        var bytes = batch.Sum(a => (long)E.PayloadBytes((TableEntity)a.Entity));
        foreach (var action in rest)
        {
            var size = E.PayloadBytes((TableEntity)action.Entity);
            if (transactions[^1].Count >= MaxBatch || bytes + size > Limit)
            {
                transactions.Add([]);
                bytes = 0;
            }

            transactions[^1].Add(action);
            bytes += size;
        }

        return transactions;
    }

    /// <summary>
    /// A seated booking's slot and seat rows that changed (or are new) against the records loaded, each seat with its
    /// own history; a seat id that no longer exists (its chain learnt an earlier uid) becomes a redirect to its successor.
    /// </summary>
    private static void DeriveSeatRows(StoredAppointment stored, List<StoredAppointment> previous, Dictionary<string, IReadOnlyList<HistoryEntry>> histories,
        HistoryEntry? entry, bool withEntry, DateTimeOffset created, DateTimeOffset now, Action<TableEntity, TableTransactionActionType> derive)
    {
        var id = stored.Record.AppointmentId;
        var oldSeats = previous.SelectMany(p => p.Seats).GroupBy(s => s.Record.AppointmentId, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        var oldSlots = previous.SelectMany(p => p.Slots.Select(s => (Slot: s, Conflicts: p.SlotConflicts.GetValueOrDefault(s.SlotId) ?? [])))
            .GroupBy(s => s.Slot.SlotId, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        var history = AppointmentHistory.Merge(histories.Where(h => previous.Any(p => p.Record.AppointmentId == h.Key)).Select(h => h.Value), withEntry ? entry : null);
        foreach (var slot in stored.Slots)
        {
            var conflicts = stored.SlotConflicts.GetValueOrDefault(slot.SlotId) ?? [];
            if (!oldSlots.TryGetValue(slot.SlotId, out var old) || !SameSlot(old.Slot, slot) || !old.Conflicts.SequenceEqual(conflicts))
            {
                derive(E.SlotEntity(slot, id, conflicts, now), TableTransactionActionType.UpsertReplace);
            }
        }

        var seats = stored.Seats;
        foreach (var seat in seats)
        {
            var seatId = seat.Record.AppointmentId;
            var touched = withEntry && (entry?.Seats?.Contains(seatId) ?? false);
            if (!oldSeats.TryGetValue(seatId, out var old) || old.Record != seat.Record || !old.ConflictsWith.SequenceEqual(seat.ConflictsWith) || touched)
            {
                derive(E.SeatEntity(seat, id, created, now).WithHistory(AppointmentHistory.ToJson(AppointmentHistory.OfSeat(history, seatId))), TableTransactionActionType.UpsertReplace);
                // A seat whose address has capitals had another id while seat e-mails were folded to lower case: the row
                // written under it then would keep its old status beside this one, so it becomes a redirect here.
                var legacy = SeatProjection.LegacySeatIdOf(seat.Record.RootUid, seat.Record.CustomerEmail);
                if (legacy != seatId && !seats.Any(s => s.Record.AppointmentId == legacy) && legacy != id)
                {
                    derive(E.MergedEntity(legacy, seatId, now), TableTransactionActionType.UpsertReplace);
                }
            }
        }

        foreach (var gone in oldSeats.Keys.Where(k => !seats.Any(s => s.Record.AppointmentId == k)))
        {
            var was = oldSeats[gone].Record;
            var successor = seats.FirstOrDefault(s => SeatProjection.Normal(s.Record.CustomerEmail) == SeatProjection.Normal(was.CustomerEmail)
                && s.Record.CalcomUids.Contains(was.CalcomUid))?.Record.AppointmentId ?? id;
            derive(E.MergedEntity(gone, successor, now), TableTransactionActionType.UpsertReplace);
        }
    }

    private static bool SameSlot(SeatSlot a, SeatSlot b) => a.Uid == b.Uid && a.Start == b.Start && a.End == b.End && a.StaffKey == b.StaffKey && a.ActiveSeatIds.SequenceEqual(b.ActiveSeatIds);

    private async Task NoteDuplicateAsync(StoredAppointment? stored, HistoryEntry? entry,
        Dictionary<string, IReadOnlyList<HistoryEntry>> histories, Dictionary<string, ETag> etags, CancellationToken ct)
    {
        if (entry is null || stored is null
            || !histories.TryGetValue(stored.Record.AppointmentId, out var history)
            || AppointmentHistory.Contains(history, new ApplySource(entry.SourceId!, entry.SourceKind)))
        {
            return;
        }

        var merged = AppointmentHistory.ToJson(AppointmentHistory.Merge([history], entry));
        // A seated booking's history lives on its group row (a seat row shows its own entries from its last change).
        var keys = stored.IsSeated ? [E.GroupKey(stored.Record.AppointmentId)] : stored.Uids.Select(E.UidKey).Prepend(E.AppointmentKey(stored.Record.AppointmentId));
        // The ETags of the uid rows read guard the patch: a concurrent change re-runs the whole apply.
        var batch = keys.Select(key => new TableTransactionAction(TableTransactionActionType.UpdateMerge,
            new TableEntity(E.PartitionKey, key).WithHistory(merged), etags.GetValueOrDefault(key, ETag.All))).ToList();
        if (batch.Count <= MaxBatch)
        {
            await _table.SubmitTransactionAsync(batch, ct);
        }
    }

    /// <summary>The records reached by a uid (today one; a seated booking's uid may reach several), each with its history.</summary>
    public async Task<IReadOnlyList<(StoredAppointment Appointment, IReadOnlyList<HistoryEntry> History)>> LookupByUidAsync(string uid, CancellationToken ct)
    {
        if (await ReadRecordRowAsync(uid, ct) is not { } row)
        {
            return [];
        }

        var stored = E.FromEntity(row);
        var history = AppointmentHistory.Read(row);
        // A seated uid reaches every seat that is or was in it, each with its own history (two point reads: the uid row
        // points to the group row, which carries the event set and every slot's conflicts).
        var seats = stored.Seats.Where(s => s.Record.CalcomUids.Contains(uid)).ToList();
        return seats.Count == 0 ? [(stored, history)] : [.. seats.Select(s => (s, AppointmentHistory.OfSeat(history, s.Record.AppointmentId)))];
    }

    /// <summary>The partner whose conflict patch failed because its row does not exist (404 on that action), or null.</summary>
    private static string? GonePatch(TableTransactionFailedException ex, List<TableTransactionAction> batch, Dictionary<string, string> patchOf) =>
        ex.Status == 404 && ex.FailedTransactionActionIndex is int i && i >= 0 && i < batch.Count
        && batch[i].ActionType == TableTransactionActionType.UpdateMerge && patchOf.TryGetValue(batch[i].Entity.RowKey, out var id) ? id : null;

    /// <summary>
    /// Derived rows after the first transaction landed: a conflict patch whose row is gone is left out (there is nobody
    /// to flag) instead of failing the event, which is applied already.
    /// </summary>
    private async Task SubmitFollowUpAsync(List<TableTransactionAction> chunk, Dictionary<string, string> patchOf, CancellationToken ct)
    {
        while (chunk.Count > 0)
        {
            try
            {
                await _table.SubmitTransactionAsync(chunk, ct);
                return;
            }
            catch (TableTransactionFailedException ex) when (GonePatch(ex, chunk, patchOf) is { } goneId)
            {
                Log.PartnerGone(logger, null, goneId);
                chunk.RemoveAt(ex.FailedTransactionActionIndex!.Value);
            }
        }
    }

    /// <summary>Whether any of these uids was erased (its tombstone exists): one point read each.</summary>
    private async Task<bool> ErasedAmongAsync(List<string> uids, CancellationToken ct) =>
        uids.Count > 0 && (await Task.WhenAll(uids.Select(uid => ReadAsync(Operating.ErasureTombstone.Key(uid), ct)))).Any(row => Operating.ErasureTombstone.ErasedAtOf(row) is not null);

    /// <summary>When the booking with this uid was erased, or null when it was not (reconciliation and replay skip erased uids).</summary>
    public async Task<DateTimeOffset?> ErasedAtAsync(string uid, CancellationToken ct)
    {
        await EnsureCreatedAsync(ct);
        return Operating.ErasureTombstone.ErasedAtOf(await ReadAsync(Operating.ErasureTombstone.Key(uid), ct));
    }

    /// <summary>A conflict patch met a partner row that does not exist: its appointment is gone, not contended.</summary>
    private sealed class PartnerGoneException(string appointmentId, Exception inner) : Exception("a conflict partner's row is gone", inner)
    {
        public string AppointmentId { get; } = appointmentId;
    }

    private async Task<TableEntity?> ReadAsync(string rowKey, CancellationToken ct)
    {
        var response = await _table.GetEntityIfExistsAsync<TableEntity>(E.PartitionKey, rowKey, cancellationToken: ct);
        return response.HasValue ? response.Value : null;
    }

    /// <summary>The record stored under any uid of its chain (a seated booking: its group, with its seats), or null.</summary>
    public async Task<StoredAppointment?> FindByUidAsync(string uid, CancellationToken ct) =>
        await ReadRecordRowAsync(uid, ct) is { } row ? E.FromEntity(row) : null;

    /// <summary>The row holding a uid's event set: its uid row, or for a seated booking the group row it points to.</summary>
    private async Task<TableEntity?> ReadRecordRowAsync(string uid, CancellationToken ct)
    {
        var row = await ReadAsync(E.UidKey(uid), ct);
        return row is not null && E.IsPointer(row) ? (await ReadGroupsAsync([row.GetString("GroupId")!], ct)).FirstOrDefault() : row;
    }

    /// <summary>Group rows by id, following redirects of groups joined into another (a race with the join).</summary>
    private async Task<List<TableEntity>> ReadGroupsAsync(IEnumerable<string> ids, CancellationToken ct)
    {
        var found = new List<TableEntity>();
        foreach (var row in await Task.WhenAll(ids.Select(id => ReadAsync(E.GroupKey(id), ct))))
        {
            var current = row;
            for (var hop = 0; current is not null && current.GetString("RowType") == E.RowTypeMerged && hop < 5; hop++)
            {
                current = await ReadAsync(E.GroupKey(current.GetString("MergedInto")!), ct);
            }

            if (current is not null && current.GetString("RowType") != E.RowTypeMerged)
            {
                found.Add(current);
            }
        }

        return found;
    }

    public Task EnsureCreatedAsync(CancellationToken ct) => _created.EnsureAsync(ct);

    private static partial class Log
    {
        [LoggerMessage(EventId = 3001, Level = LogLevel.Debug, Message = "Event for {UidPseudonym} lost a race (attempt {Attempt}, status {Status}); re-reading")]
        public static partial void Contention(ILogger logger, string uidPseudonym, int attempt, int status);

        [LoggerMessage(EventId = 3002, Level = LogLevel.Warning, Message = "Appointment {AppointmentId} ({UidPseudonym}) overlaps appointments {ConflictsWith} of the same staff member")]
        public static partial void Conflict(ILogger logger, string appointmentId, string uidPseudonym, string conflictsWith);

        [LoggerMessage(EventId = 3004, Level = LogLevel.Warning, Message = "Appointment {AppointmentId}: {Rows} derived rows (seats, slots, conflict flags) written in follow-up transactions")]
        public static partial void RowsFollowed(ILogger logger, string appointmentId, int rows);

        [LoggerMessage(EventId = 4200, Level = LogLevel.Information, Message = "Event {TriggerEvent} for {UidPseudonym} dropped: the booking was erased")]
        public static partial void DroppedErased(ILogger logger, string uidPseudonym, string triggerEvent);

        [LoggerMessage(EventId = 4201, Level = LogLevel.Warning, Message = "Event for {UidPseudonym}: appointment {AppointmentId} is in a staff calendar but its rows are gone; its range is dropped, not retried as contention")]
        public static partial void PartnerGone(ILogger logger, string? uidPseudonym, string appointmentId);

        [LoggerMessage(EventId = 3003, Level = LogLevel.Warning, Message = "Appointment {AppointmentId}: {Events} events do not fit its rows; stored {Kept} ({Bytes} bytes compressed), older detail dropped")]
        public static partial void FactsDegraded(ILogger logger, string appointmentId, int events, int kept, int bytes);
    }
}
