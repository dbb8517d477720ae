using AskPro.Functions.Calcom;
using AskPro.Functions.Logging;
using AskPro.Functions.Storage;
using AskPro.Functions.Tenants;
using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.Logging;
using E = AskPro.Functions.Appointments.AppointmentEntities;

namespace AskPro.Functions.Appointments;

/// <summary>
/// Applies one event to the appointments table: point-read the rows the book asks for (typed keys: uid rows, then
/// staff calendars) into an <see cref="AppointmentBook"/>, apply the pure decision, and submit the
/// <see cref="AppointmentWriter"/>'s plan: one entity-group transaction guarded by the ETags that were read. When another worker got there first (409/412), re-read and
/// re-apply: no update is lost, and the decision is made again on fresh state.
/// </summary>
public sealed partial class AppointmentTableStore(StorageClients storage, TimeProvider time, ILogger<AppointmentTableStore> logger)
{
    public const int MaxAttempts = 25;

    private readonly TableClient _table = storage.Appointments;
    private readonly CreateOnce _created = new(ct => storage.Appointments.CreateIfNotExistsAsync(ct));

    public Task<ApplyResult> ApplyAsync(BookingEvent e, CancellationToken ct) => ApplyAsync(e, null, ct);

    /// <summary>Applies an event to the default tenant's records (partition <c>calcom</c>).</summary>
    public Task<ApplyResult> ApplyAsync(BookingEvent e, ApplySource? source, CancellationToken ct) => ApplyAsync(TenantRows.Default, e, source, ct);

    /// <summary>
    /// Applies an event to <paramref name="tenant"/>'s records, in its own partition: uids, staff calendars, aliases and
    /// seat groups of other tenants are never read or written (docs/tenants.md#what-a-tenant-is).
    /// <paramref name="source"/> (the delivery or reconciliation pass) goes into the record's history.
    /// </summary>
    public async Task<ApplyResult> ApplyAsync(TenantRows tenant, BookingEvent e, ApplySource? source, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(tenant);
        ArgumentNullException.ThrowIfNull(e);
        await EnsureCreatedAsync(ct);
        // Appointments whose rows turned out to be gone (erased, or deleted by hand) while a calendar still lists them.
        var gone = new HashSet<string>(StringComparer.Ordinal);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await TryApplyAsync(tenant, e, source, gone, ct);
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

    /// <summary>One try: read what the book asks for, apply, write the plan under the ETags read.</summary>
    private async Task<ApplyResult> TryApplyAsync(TenantRows tenant, BookingEvent e, ApplySource? source, HashSet<string> goneRanges, CancellationToken ct)
    {
        var book = new AppointmentBook();
        var read = new RowsRead();
        var uids = AppointmentBook.UidsOf(e);
        var uidRows = await Task.WhenAll(uids.Select(uid => ReadAsync(tenant.Partition, uid.RowKey, ct)));
        // A uid without a row may have been erased (Operating/Erasure.cs), and then the event is dropped. Only a uid new
        // to the table costs this read (a create, the new uid of a reschedule); it runs alongside the calendar reads and
        // is awaited before anything is decided or written.
        var erased = ErasedAmongAsync(tenant.Partition, [.. uids.Where((_, i) => uidRows[i] is null).Select(uid => uid.Uid)], ct);
        await LoadRecordsAsync(tenant.Partition, book, read, [.. uidRows.OfType<TableEntity>()], ct);
        await LoadCalendarsAsync(tenant.Partition, book, read, e, goneRanges, ct);
        if (await erased)
        {
            Log.DroppedErased(logger, UidPseudonym.Of(e.Uid), e.TriggerEvent);
            return new ApplyResult(ApplyOutcome.Erased, AppointmentProjection.AppointmentIdOf(e.Uid), HistoryOutcome.Erased, [], []);
        }

        var result = book.Apply(e);
        var now = time.GetUtcNow();
        var entry = source is null ? null : new HistoryEntry(source.Id, source.Kind, e.TriggerEvent, e.CreatedAt, now, HistoryOutcome.Of(result)) { Seats = result.SeatIds, PayloadVersion = source.PayloadVersion, Tenant = TenantIds.Named(tenant.TenantId) };
        if (result.Outcome == ApplyOutcome.Unchanged)
        {
            if (AppointmentWriter.DuplicateNote(result.Record, entry, read, tenant) is { } note)
            {
                await _table.SubmitTransactionAsync(note, ct);
            }

            return result;
        }

        var plan = AppointmentWriter.Plan(result, entry, read, now, tenant);
        foreach (var d in plan.Degraded)
        {
            Log.FactsDegraded(logger, d.AppointmentId, d.Events, d.Kept, d.Bytes);
        }

        await SubmitAsync(plan, ct);
        if (plan.Transactions.Count > 1)
        {
            Log.RowsFollowed(logger, result.AppointmentId, plan.Transactions.Skip(1).Sum(t => t.Count));
        }

        if (result.ConflictsWith.Count > 0)
        {
            Log.Conflict(logger, result.AppointmentId, UidPseudonym.Of(e.Uid), string.Join(',', result.ConflictsWith));
        }

        return result;
    }

    /// <summary>The records behind the uid rows read (a seated booking's uid row points to its group row: one more round).</summary>
    private async Task LoadRecordsAsync(string partition, AppointmentBook book, RowsRead read, List<TableEntity> uidRows, CancellationToken ct)
    {
        uidRows.ForEach(read.Read);
        var groups = await ReadGroupsAsync(partition, uidRows.Where(E.IsPointer).Select(r => r.GetString("GroupId")!).Distinct(StringComparer.Ordinal), ct);
        groups.ForEach(read.Read);
        foreach (var row in uidRows.Where(r => !E.IsPointer(r)).Concat(groups))
        {
            if (book.Records.ContainsKey(row.GetString("AppointmentId") ?? ""))
            {
                continue;
            }

            var stored = E.FromEntity(row);
            book.Load(stored);
            read.Loaded(row, stored, time.GetUtcNow());
        }
    }

    /// <summary>
    /// The staff calendar rows the book asks for, in rounds until it asks for none it has not got (a row can name more:
    /// an alias's user key, an e-mail row to settle); most events need one round.
    /// </summary>
    private async Task LoadCalendarsAsync(string partition, AppointmentBook book, RowsRead read, BookingEvent e, IReadOnlySet<string> goneRanges, CancellationToken ct)
    {
        var asked = new HashSet<StaffCalendarKey>();
        for (var keys = book.CalendarsNeeded(e).Where(asked.Add).ToList(); keys.Count > 0; keys = book.CalendarsNeeded(e).Where(asked.Add).ToList())
        {
            var rows = await Task.WhenAll(keys.Select(key => ReadAsync(partition, key.RowKey, ct)));
            for (var i = 0; i < keys.Count; i++)
            {
                if (rows[i] is { } row)
                {
                    read.Read(row);
                }

                book.LoadCalendar(keys[i], rows[i] is { } found ? StaffCalendarRow.Decode(found).Without(goneRanges) : null);
            }
        }
    }

    /// <summary>
    /// The first transaction, then the follow-ups: a conflict patch in the first that finds its partner's row gone
    /// retries the event without that range; in a follow-up it is left out (the event is applied already).
    /// </summary>
    private async Task SubmitAsync(WritePlan plan, CancellationToken ct)
    {
        var first = plan.Transactions[0];
        try
        {
            await _table.SubmitTransactionAsync(first, ct);
        }
        catch (TableTransactionFailedException ex) when (plan.GonePatch(ex, first) is { } goneId)
        {
            throw new PartnerGoneException(goneId, ex);
        }

        foreach (var followUp in plan.Transactions.Skip(1))
        {
            await SubmitFollowUpAsync(followUp, plan, ct);
        }
    }

    /// <summary>The records reached by a uid (today one; a seated booking's uid may reach several), each with its history.</summary>
    public Task<IReadOnlyList<(StoredAppointment Appointment, IReadOnlyList<HistoryEntry> History)>> LookupByUidAsync(string uid, CancellationToken ct) =>
        LookupByUidAsync(TenantRows.Default, uid, ct);

    /// <summary>The records reached by a uid in <paramref name="tenant"/>'s partition (never another tenant's), each with its history.</summary>
    public async Task<IReadOnlyList<(StoredAppointment Appointment, IReadOnlyList<HistoryEntry> History)>> LookupByUidAsync(TenantRows tenant, string uid, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(tenant);
        if (await ReadRecordRowAsync(tenant.Partition, uid, ct) is not { } row)
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

    /// <summary>
    /// Derived rows after the first transaction landed: a conflict patch whose row is gone is left out (there is nobody
    /// to flag) instead of failing the event, which is applied already.
    /// </summary>
    private async Task SubmitFollowUpAsync(List<TableTransactionAction> chunk, WritePlan plan, CancellationToken ct)
    {
        while (chunk.Count > 0)
        {
            try
            {
                await _table.SubmitTransactionAsync(chunk, ct);
                return;
            }
            catch (TableTransactionFailedException ex) when (plan.GonePatch(ex, chunk) is { } goneId)
            {
                Log.PartnerGone(logger, null, goneId);
                chunk.RemoveAt(ex.FailedTransactionActionIndex!.Value);
            }
        }
    }

    /// <summary>Whether any of these uids was erased (its tombstone exists): one point read each.</summary>
    private async Task<bool> ErasedAmongAsync(string partition, List<string> uids, CancellationToken ct) =>
        uids.Count > 0 && (await Task.WhenAll(uids.Select(uid => ReadAsync(partition, Operating.ErasureTombstone.Key(uid), ct)))).Any(row => Operating.ErasureTombstone.ErasedAtOf(row) is not null);

    /// <summary>When the booking with this uid was erased, or null when it was not (reconciliation and replay skip erased uids).</summary>
    public Task<DateTimeOffset?> ErasedAtAsync(string uid, CancellationToken ct) => ErasedAtAsync(TenantRows.Default, uid, ct);

    /// <summary>When the booking with this uid was erased in <paramref name="tenant"/>'s partition, or null.</summary>
    public async Task<DateTimeOffset?> ErasedAtAsync(TenantRows tenant, string uid, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(tenant);
        await EnsureCreatedAsync(ct);
        return Operating.ErasureTombstone.ErasedAtOf(await ReadAsync(tenant.Partition, Operating.ErasureTombstone.Key(uid), ct));
    }

    /// <summary>A conflict patch met a partner row that does not exist: its appointment is gone, not contended.</summary>
    private sealed class PartnerGoneException(string appointmentId, Exception inner) : Exception("a conflict partner's row is gone", inner)
    {
        public string AppointmentId { get; } = appointmentId;
    }

    private async Task<TableEntity?> ReadAsync(string partition, string rowKey, CancellationToken ct)
    {
        var response = await _table.GetEntityIfExistsAsync<TableEntity>(partition, rowKey, cancellationToken: ct);
        return response.HasValue ? response.Value : null;
    }

    /// <summary>The record stored under any uid of its chain (a seated booking: its group, with its seats), or null.</summary>
    public Task<StoredAppointment?> FindByUidAsync(string uid, CancellationToken ct) => FindByUidAsync(TenantRows.Default, uid, ct);

    /// <summary>The record stored under any uid of its chain in <paramref name="tenant"/>'s partition, or null.</summary>
    public async Task<StoredAppointment?> FindByUidAsync(TenantRows tenant, string uid, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(tenant);
        return await ReadRecordRowAsync(tenant.Partition, uid, ct) is { } row ? E.FromEntity(row) : null;
    }

    /// <summary>The row holding a uid's event set: its uid row, or for a seated booking the group row it points to.</summary>
    private async Task<TableEntity?> ReadRecordRowAsync(string partition, string uid, CancellationToken ct)
    {
        var row = await ReadAsync(partition, E.UidKey(uid), ct);
        return row is not null && E.IsPointer(row) ? (await ReadGroupsAsync(partition, [row.GetString("GroupId")!], ct)).FirstOrDefault() : row;
    }

    /// <summary>Group rows by id, following redirects of groups joined into another (a race with the join).</summary>
    private async Task<List<TableEntity>> ReadGroupsAsync(string partition, IEnumerable<string> ids, CancellationToken ct)
    {
        var found = new List<TableEntity>();
        foreach (var row in await Task.WhenAll(ids.Select(id => ReadAsync(partition, E.GroupKey(id), ct))))
        {
            var current = row;
            for (var hop = 0; current is not null && current.GetString("RowType") == E.RowTypeMerged && hop < 5; hop++)
            {
                current = await ReadAsync(partition, E.GroupKey(current.GetString("MergedInto")!), ct);
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
