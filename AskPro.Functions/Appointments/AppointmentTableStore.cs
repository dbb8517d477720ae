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
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await TryApplyAsync(e, source, ct);
            }
            catch (RequestFailedException ex) when (ex.Status is 409 or 412 or 404 && attempt < MaxAttempts)
            {
                Log.Contention(logger, UidPseudonym.Of(e.Uid), attempt, ex.Status);
                await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(5, 20 * Math.Min(attempt, 10))), ct);
            }
        }
    }

    private async Task<ApplyResult> TryApplyAsync(BookingEvent e, ApplySource? source, CancellationToken ct)
    {
        var book = new AppointmentBook();
        // History hook 1 of 3: each loaded record's history, by AppointmentId.
        var histories = new Dictionary<string, IReadOnlyList<HistoryEntry>>(StringComparer.Ordinal);
        var etags = new Dictionary<string, ETag>(StringComparer.Ordinal);
        var existingRows = new HashSet<string>(StringComparer.Ordinal);
        var createdAt = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);

        var uidRows = await Task.WhenAll(AppointmentBook.UidsOf(e).Select(uid => ReadAsync(E.UidKey(uid), ct)));
        foreach (var row in uidRows.OfType<TableEntity>())
        {
            etags[row.RowKey] = row.ETag;
            if (book.Records.ContainsKey(row.GetString("AppointmentId") ?? ""))
            {
                continue;
            }

            var stored = E.FromEntity(row);
            book.Load(stored);
            createdAt[stored.Record.AppointmentId] = row.GetDateTimeOffset("CreatedAt") ?? time.GetUtcNow();
            histories[stored.Record.AppointmentId] = AppointmentHistory.Read(row);
            existingRows.Add(E.AppointmentKey(stored.Record.AppointmentId));
            existingRows.UnionWith(stored.Uids.Select(E.UidKey));
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

                    book.LoadCalendar(calendars[i], E.RangesOf(row));
                    book.Aliases.LoadEmailKeys(calendars[i], StaffAliases.EmailKeysOf(row));
                }
                else
                {
                    book.LoadCalendar(calendars[i], []); // known to be empty (an alias probe tells absent from unread)
                }
            }
        }

        var result = book.Apply(e);
        var now = time.GetUtcNow();
        var entry = source is null ? null : new HistoryEntry(source.Id, source.Kind, e.TriggerEvent, e.CreatedAt, now, HistoryOutcome.Of(result));
        if (result.Outcome == ApplyOutcome.Unchanged)
        {
            // History hook 2 of 3: a duplicate from another delivery is noted; a retry of a delivery already noted writes nothing.
            await NoteDuplicateAsync(book, result, entry, histories, etags, ct);
            return result;
        }

        var batch = new List<TableTransactionAction>();
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
            else if (entity.RowKey.StartsWith(E.AppointmentPrefix, StringComparison.Ordinal))
            {
                // A chain whose original changed back can land on the id of a record it once absorbed (a merged
                // redirect row). The uid rows, added or ETag-checked above, are the guard; this row just follows them.
                batch.Add(new TableTransactionAction(TableTransactionActionType.UpsertReplace, entity));
            }
            else
            {
                batch.Add(new TableTransactionAction(TableTransactionActionType.Add, entity));
            }
        }

        var staffEntities = book.ChangedCalendars.Select(staff => E.StaffEntity(staff, book.Calendars[staff], now)).ToList();
        // Staff alias hook: calendars keep the e-mail keys settled for them; new alias rows replace their e-mail calendars.
        staffEntities = staffEntities.ConvertAll(row => StaffAliases.WithEmailKeys(row, book.Aliases.EmailKeysOf(row.RowKey[E.StaffPrefix.Length..])));
        staffEntities.AddRange(book.Aliases.Established.Select(a => StaffAliases.AliasEntity(a.Key, a.Value, now)));
        var recordRows = book.ChangedRecords.Where(id => !book.Retired.ContainsKey(id)).Sum(id => 1 + book.Records[id].Uids.Count);
        // Size limits are checked before writing: every row of a record carries its event set, so the set must fit one
        // entity and, times the record's rows, one transaction next to the calendars; beyond that it degrades.
        var factsBudget = Math.Min(E.MaxFactsBytes,
            (int)((E.MaxTransactionBytes - (256L * 1024) - staffEntities.Sum(E.PayloadBytes) - (recordRows * 64L * 1024)) * 3 / 4 / Math.Max(1, recordRows)));
        var firstCreated = createdAt.Count > 0 ? createdAt.Values.Min() : now;
        foreach (var id in book.ChangedRecords.Order(StringComparer.Ordinal))
        {
            if (book.Retired.TryGetValue(id, out var into))
            {
                Write(E.MergedEntity(id, into, now));
                continue;
            }

            // Only the event's own record is left: partners that were not read are patched below.
            var stored = book.Records[id];
            var created = createdAt.GetValueOrDefault(id, firstCreated);
            var fitted = stored.Facts.FitInto(Math.Max(0, factsBudget))
                ?? throw new UnstorableEventException($"the event set of {id} cannot be made to fit {recordRows} rows of one transaction");
            if (!ReferenceEquals(fitted.Facts, stored.Facts))
            {
                Log.FactsDegraded(logger, id, stored.Facts.Count, fitted.Facts.Count, fitted.Bytes.Length);
            }

            // History hook 3 of 3: the histories of every record that lives on as this one, plus this event's entry.
            var history = AppointmentHistory.ToJson(AppointmentHistory.Merge(
                histories.Where(h => h.Key == id || book.Retired.GetValueOrDefault(h.Key) == id).Select(h => h.Value),
                id == result.AppointmentId ? entry : null));
            Write(E.ToEntity(E.AppointmentKey(id), stored, fitted.Bytes, created, now, fitted.Facts.Count).WithHistory(history));
            foreach (var uid in stored.Uids)
            {
                Write(E.ToEntity(E.UidKey(uid), stored, fitted.Bytes, created, now, fitted.Facts.Count).WithHistory(history));
            }
        }

        foreach (var (id, (conflicts, uids)) in book.ConflictUpdates)
        {
            // Merge-update of the conflict fields only: the staff row's ETag serialises every conflict change.
            // Staff alias hook: a record whose range moved through a new alias gets its StaffKey in the same patch.
            batch.Add(new TableTransactionAction(TableTransactionActionType.UpdateMerge, book.Aliases.WithStaffKey(E.ConflictPatch(E.AppointmentKey(id), conflicts, now), id), ETag.All));
            batch.AddRange(uids.Select(uid => new TableTransactionAction(TableTransactionActionType.UpdateMerge, book.Aliases.WithStaffKey(E.ConflictPatch(E.UidKey(uid), conflicts, now), id), ETag.All)));
        }

        foreach (var staff in staffEntities)
        {
            Write(staff);
        }

        if (batch.Count > MaxBatch)
        {
            throw new UnstorableEventException($"applying the event to {result.AppointmentId} needs {batch.Count} writes, more than one transaction holds");
        }

        await _table.SubmitTransactionAsync(batch, ct);
        if (result.ConflictsWith.Count > 0)
        {
            Log.Conflict(logger, result.AppointmentId, UidPseudonym.Of(e.Uid), string.Join(',', result.ConflictsWith));
        }

        return result;
    }

    private async Task NoteDuplicateAsync(AppointmentBook book, ApplyResult result, HistoryEntry? entry,
        Dictionary<string, IReadOnlyList<HistoryEntry>> histories, Dictionary<string, ETag> etags, CancellationToken ct)
    {
        if (entry is null || !book.Records.TryGetValue(result.AppointmentId, out var stored)
            || !histories.TryGetValue(result.AppointmentId, out var history)
            || AppointmentHistory.Contains(history, new ApplySource(entry.SourceId!, entry.SourceKind)))
        {
            return;
        }

        var merged = AppointmentHistory.ToJson(AppointmentHistory.Merge([history], entry));
        var keys = stored.Uids.Select(E.UidKey).Prepend(E.AppointmentKey(result.AppointmentId));
        // The ETags of the uid rows read guard the patch: a concurrent change re-runs the whole apply.
        var batch = keys.Select(key => new TableTransactionAction(TableTransactionActionType.UpdateMerge,
            new TableEntity(E.PartitionKey, key).WithHistory(merged), etags.GetValueOrDefault(key, ETag.All))).ToList();
        if (batch.Count <= MaxBatch)
        {
            await _table.SubmitTransactionAsync(batch, ct);
        }
    }

    /// <summary>The records reached by a uid (today one; a seated booking's uid may reach several), each with its history.</summary>
    public async Task<IReadOnlyList<(StoredAppointment Appointment, IReadOnlyList<HistoryEntry> History)>> LookupByUidAsync(string uid, CancellationToken ct) =>
        await ReadAsync(E.UidKey(uid), ct) is { } row ? [(E.FromEntity(row), AppointmentHistory.Read(row))] : [];

    private async Task<TableEntity?> ReadAsync(string rowKey, CancellationToken ct)
    {
        var response = await _table.GetEntityIfExistsAsync<TableEntity>(E.PartitionKey, rowKey, cancellationToken: ct);
        return response.HasValue ? response.Value : null;
    }

    /// <summary>The record stored under any uid of its chain, or null.</summary>
    public async Task<StoredAppointment?> FindByUidAsync(string uid, CancellationToken ct) =>
        await ReadAsync(E.UidKey(uid), ct) is { } row ? E.FromEntity(row) : null;

    public Task EnsureCreatedAsync(CancellationToken ct) => _created.EnsureAsync(ct);

    private static partial class Log
    {
        [LoggerMessage(EventId = 3001, Level = LogLevel.Debug, Message = "Event for {UidPseudonym} lost a race (attempt {Attempt}, status {Status}); re-reading")]
        public static partial void Contention(ILogger logger, string uidPseudonym, int attempt, int status);

        [LoggerMessage(EventId = 3002, Level = LogLevel.Warning, Message = "Appointment {AppointmentId} ({UidPseudonym}) overlaps appointments {ConflictsWith} of the same staff member")]
        public static partial void Conflict(ILogger logger, string appointmentId, string uidPseudonym, string conflictsWith);

        [LoggerMessage(EventId = 3003, Level = LogLevel.Warning, Message = "Appointment {AppointmentId}: {Events} events do not fit its rows; stored {Kept} ({Bytes} bytes compressed), older detail dropped")]
        public static partial void FactsDegraded(ILogger logger, string appointmentId, int events, int kept, int bytes);
    }
}
