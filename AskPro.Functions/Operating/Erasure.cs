using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using AskPro.Functions.Appointments;
using AskPro.Functions.Logging;
using AskPro.Functions.Queueing;
using AskPro.Functions.Storage;
using AskPro.Functions.Tenants;
using Azure;
using Azure.Data.Tables;
using Azure.Storage.Blobs.Models;
using Microsoft.Extensions.Logging;
using E = AskPro.Functions.Appointments.AppointmentEntities;

namespace AskPro.Functions.Operating;

public enum ErasureOutcome
{
    /// <summary>Rows, ranges, bodies and dead letters removed; tombstones written.</summary>
    Erased,
    /// <summary>A tombstone already stood for the uid; whatever was left (dead letters, bodies) was removed again.</summary>
    AlreadyErased,
    /// <summary>Nothing holds the uid: no row, no tombstone, no dead letter. Nothing was written.</summary>
    Unknown,
    /// <summary>A seated booking with seats of other customers: erasing it needs <c>allSeats</c>. Nothing was written.</summary>
    SharedSeats,
}

/// <summary>What an erasure did: counts and ids only (no uid, no personal data), so the answer can be pasted anywhere.</summary>
public sealed record ErasureReport(
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("uidPseudonym")] string UidPseudonym,
    [property: JsonPropertyName("appointmentIds")] IReadOnlyList<string> AppointmentIds,
    [property: JsonPropertyName("tombstones")] int Tombstones,
    [property: JsonPropertyName("rowsDeleted")] int RowsDeleted,
    [property: JsonPropertyName("calendarsUpdated")] int CalendarsUpdated,
    [property: JsonPropertyName("partnersUpdated")] int PartnersUpdated,
    [property: JsonPropertyName("bodiesDeleted")] int BodiesDeleted,
    [property: JsonPropertyName("deadLettersDeleted")] int DeadLettersDeleted,
    [property: JsonPropertyName("deadLettersScanned")] int DeadLettersScanned,
    [property: JsonPropertyName("erasedAt")] DateTimeOffset? ErasedAt)
{
    [JsonIgnore]
    public ErasureOutcome Outcome { get; init; }

    /// <summary>More dead letters than one erasure scans: run it again to look at the rest.</summary>
    [JsonPropertyName("deadLettersIncomplete")]
    public bool DeadLettersIncomplete { get; init; }

    /// <summary>The tenant whose booking it was: only its partition, dead letters and bodies were touched.</summary>
    [JsonPropertyName("tenant")]
    public string Tenant { get; init; } = TenantIds.Default;
}

/// <summary>
/// Erases one booking's data (SECURITY.md "Erasing one customer's data"): every row of the appointment the uid reaches
/// (record, uid rows, a seated booking's group, seat, slot and pointer rows), its ranges in staff calendars (and the
/// conflict flags they set on partners), its history (on those rows), claim-check bodies and dead letters that hold
/// any of its uids. It leaves a tombstone per uid (<see cref="ErasureTombstone"/>), written first, so that a delivery
/// racing the erasure, a later webhook, a dead-letter replay or a reconciliation pass never writes the booking again.
/// Running it again for the same uid is harmless and finishes what a crash left. Everything is the tenant's own: its
/// partition, its dead letters, its claim-check bodies; the same uid in another tenant is another booking and is left
/// alone (docs/erasure.md#tenants).
/// </summary>
public sealed partial class Erasure(StorageClients storage, AppointmentTableStore store, WebhookQueue queue, DeadLetterOperations deadLetters, TimeProvider time, ILogger<Erasure> logger)
{
    /// <summary>Dead letters one erasure looks at; beyond that the report says so and a second run continues.</summary>
    public const int MaxDeadLettersScanned = 5000;
    private const int MaxBatch = 100;
    private const int MaxAttempts = 10;
    private static readonly TimeSpan ScanLock = TimeSpan.FromMinutes(5);

    private readonly TableClient _table = storage.Appointments;

    /// <summary>Erases a booking of the default tenant (partition <c>calcom</c>), as before tenants.</summary>
    public Task<ErasureReport> EraseAsync(string uid, bool allSeats, CancellationToken ct) => EraseAsync(TenantRows.Default, uid, allSeats, ct);

    /// <summary>Erases the booking <paramref name="uid"/> reaches in <paramref name="tenant"/>'s partition, and that tenant's copies of it.</summary>
    public async Task<ErasureReport> EraseAsync(TenantRows tenant, string uid, bool allSeats, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(tenant);
        ArgumentException.ThrowIfNullOrEmpty(uid);
        var run = new Run(tenant);
        await store.EnsureCreatedAsync(ct);
        await queue.EnsureCreatedAsync(ct);
        var now = time.GetUtcNow();
        var pseudonym = UidPseudonym.Of(uid);
        var counts = new Counts();
        var ids = new List<string>();
        var uids = new HashSet<string>(StringComparer.Ordinal) { uid };
        var tombstoned = await store.ErasedAtAsync(tenant, uid, ct);

        // A delivery applied while the rows were being deleted (it read before the tombstones existed) can bring a row
        // back; the next round removes it, and from then on the tombstones stop every apply.
        for (var round = 0; round < 3 && await RecordRowAsync(run, uid, ct) is { } row; round++)
        {
            var stored = E.FromEntity(row);
            // Customers as Cal.com tells seats apart: by the exact e-mail.
            if (stored.IsSeated && !allSeats && stored.Seats.Select(s => SeatProjection.Normal(s.Record.CustomerEmail)).Distinct(StringComparer.Ordinal).Count() > 1)
            {
                Log.Refused(logger, pseudonym, stored.Record.AppointmentId, tenant.TenantId);
                return Report(ErasureOutcome.SharedSeats, pseudonym, [stored.Record.AppointmentId], counts, null, tenant);
            }

            uids.UnionWith(stored.Uids);
            if (!ids.Contains(stored.Record.AppointmentId))
            {
                ids.Add(stored.Record.AppointmentId);
            }

            // Tombstones first: from here on no apply writes any of these uids again.
            await SubmitChunkedAsync(uids.Select(u => new TableTransactionAction(TableTransactionActionType.UpsertReplace, ErasureTombstone.Entity(run.Partition, u, now))), ct);
            counts.Tombstones = uids.Count;
            await RemoveRangesAsync(run, stored, uids, counts, now, ct);
            await DeleteRowsAsync(run, stored, uids, counts, ct);
        }

        // Dead letters and claim-check bodies: for a uid with no row they are all that can still hold it (every delivery
        // failed, or a large one still waits in the queue).
        var found = await DeleteDeadLettersAsync(run, uids, counts, ct) + await DeleteBodiesAsync(run, uids, counts, ct);
        if (ids.Count == 0 && tombstoned is null)
        {
            if (found == 0)
            {
                Log.Unknown(logger, pseudonym, tenant.TenantId);
                return Report(ErasureOutcome.Unknown, pseudonym, [], counts, null, tenant);
            }

            await _table.UpsertEntityAsync(ErasureTombstone.Entity(run.Partition, uid, now), TableUpdateMode.Replace, ct);
            counts.Tombstones = 1;
        }

        var outcome = ids.Count == 0 && tombstoned is not null ? ErasureOutcome.AlreadyErased : ErasureOutcome.Erased;
        Log.Erased(logger, pseudonym, outcome, string.Join(',', ids), counts.Tombstones, counts.Rows, counts.Calendars, counts.Partners, counts.Bodies, counts.DeadLetters, tenant.TenantId);
        return Report(outcome, pseudonym, ids, counts, outcome == ErasureOutcome.AlreadyErased ? tombstoned : now, tenant);
    }

    private static ErasureReport Report(ErasureOutcome outcome, string pseudonym, IReadOnlyList<string> ids, Counts c, DateTimeOffset? at, TenantRows tenant) =>
        new(outcome switch
        {
            ErasureOutcome.Erased => "erased",
            ErasureOutcome.AlreadyErased => "already_erased",
            ErasureOutcome.SharedSeats => "refused",
            _ => "unknown",
        }, pseudonym, ids, c.Tombstones, c.Rows, c.Calendars, c.Partners, c.Bodies, c.DeadLetters, c.Scanned, at)
        {
            Outcome = outcome,
            DeadLettersIncomplete = c.Scanned >= MaxDeadLettersScanned,
            Tenant = tenant.TenantId,
        };

    /// <summary>The row holding the uid's event set: its uid row, or a seated booking's group row (redirects followed).</summary>
    private async Task<TableEntity?> RecordRowAsync(Run run, string uid, CancellationToken ct)
    {
        var row = await ReadAsync(run, E.UidKey(uid), ct);
        for (var hop = 0; row is not null && (E.IsPointer(row) || row.GetString("RowType") == E.RowTypeMerged) && hop < 6; hop++)
        {
            var group = row.GetString("GroupId") ?? row.GetString("MergedInto");
            row = group is null ? null : await ReadAsync(run, E.GroupKey(group), ct);
        }

        return row is not null && row.GetBinary("Facts") is not null ? row : null;
    }

    /// <summary>
    /// Takes the appointment's ranges out of every calendar its rows name, and gives each partner that overlapped one of
    /// them the conflicts the calendar now implies, in one ETag-guarded transaction per calendar (as an apply would).
    /// </summary>
    private async Task RemoveRangesAsync(Run run, StoredAppointment stored, HashSet<string> uids, Counts counts, DateTimeOffset now, CancellationToken ct)
    {
        var ours = new HashSet<string>(StringComparer.Ordinal) { stored.Record.AppointmentId };
        ours.UnionWith(stored.Slots.Select(s => s.SlotId));
        ours.UnionWith(uids.Select(AppointmentProjection.AppointmentIdOf)); // provisional ids of out-of-order arrivals
        var keys = new Queue<string>(stored.StaffKeys.Distinct(StringComparer.Ordinal));
        var done = new HashSet<string>(StringComparer.Ordinal);
        while (keys.TryDequeue(out var key))
        {
            if (!done.Add(key))
            {
                continue;
            }

            var gone = new HashSet<string>(StringComparer.Ordinal);
            for (var attempt = 1; ; attempt++)
            {
                var row = await ReadAsync(run, E.StaffRowKey(key), ct);
                if (row is null)
                {
                    break;
                }

                if (E.AliasOf(row) is { } userKey)
                {
                    keys.Enqueue(userKey); // an address's calendar moved to its user id's
                    break;
                }

                var ranges = StaffCalendar.Of(E.RangesOf(row));
                bool Ours(StaffRange r) => ours.Contains(r.AppointmentId) || gone.Contains(r.AppointmentId) || (r.Group is { } g && ours.Contains(g)) || r.Uids.Any(uids.Contains);
                var removed = ranges.Where(Ours).ToList();
                if (removed.Count == 0)
                {
                    break;
                }

                var kept = ranges.Without(Ours);
                var patchOf = new Dictionary<string, string>(StringComparer.Ordinal);
                var patches = new List<TableTransactionAction>();
                var partners = kept.Where(p => removed.Exists(r => r.Overlaps(p))).ToList();
                foreach (var p in partners)
                {
                    var conflicts = kept.ConflictsOf(p);
                    var entities = AppointmentWriter.ConflictPatches(p.AppointmentId, new ConflictUpdate(conflicts, p.Uids, p.Seats) { Group = p.Group }, now);
                    foreach (var entity in entities)
                    {
                        entity.PartitionKey = run.Partition;
                        patchOf[entity.RowKey] = p.AppointmentId;
                        patches.Add(new TableTransactionAction(TableTransactionActionType.UpdateMerge, entity, ETag.All));
                    }
                }

                var calendar = E.WithEmailKeys(E.StaffEntity(key, kept, now), E.EmailKeysOf(row));
                calendar.PartitionKey = run.Partition;
                var batch = patches.Take(MaxBatch - 1).Prepend(new TableTransactionAction(TableTransactionActionType.UpdateReplace, calendar, row.ETag)).ToList();
                try
                {
                    await _table.SubmitTransactionAsync(batch, ct);
                    foreach (var chunk in patches.Skip(MaxBatch - 1).Chunk(MaxBatch))
                    {
                        await SubmitSkippingGoneAsync([.. chunk], ct);
                    }

                    counts.Calendars++;
                    counts.Partners += partners.Count(p => !gone.Contains(p.AppointmentId));
                    break;
                }
                catch (TableTransactionFailedException ex) when (ex.Status == 404 && ex.FailedTransactionActionIndex is int i && i > 0 && i < batch.Count
                    && patchOf.TryGetValue(batch[i].Entity.RowKey, out var goneId) && gone.Add(goneId))
                {
                    // A partner whose rows are gone (erased earlier by hand): its range goes too; nothing to flag.
                    attempt--;
                }
                catch (RequestFailedException ex) when (ex.Status is 409 or 412 && attempt < MaxAttempts)
                {
                    // An apply changed the calendar meanwhile: read it again.
                }
            }
        }
    }

    private async Task DeleteRowsAsync(Run run, StoredAppointment stored, HashSet<string> uids, Counts counts, CancellationToken ct)
    {
        var id = stored.Record.AppointmentId;
        var keys = new List<string> { E.AppointmentKey(id) };
        keys.AddRange(uids.Select(E.UidKey));
        if (stored.IsSeated)
        {
            keys.Add(E.GroupKey(id));
            keys.AddRange(stored.Seats.Select(s => E.AppointmentKey(s.Record.AppointmentId)));
            keys.AddRange(stored.Slots.Select(s => E.AppointmentKey(s.SlotId)));
        }

        // Redirect rows of records that were joined into this one (out-of-order arrivals): they name only ids, but lead here.
        foreach (var provisional in uids.Select(AppointmentProjection.AppointmentIdOf).Where(p => p != id).Distinct(StringComparer.Ordinal))
        {
            foreach (var key in new[] { E.AppointmentKey(provisional), E.GroupKey(provisional) })
            {
                if (await ReadAsync(run, key, ct) is { } redirect && redirect.GetString("RowType") == E.RowTypeMerged && redirect.GetString("MergedInto") == id)
                {
                    keys.Add(key);
                }
            }
        }

        foreach (var key in keys.Distinct(StringComparer.Ordinal))
        {
            var response = await _table.DeleteEntityAsync(run.Partition, key, ETag.All, ct);
            if (response.Status is >= 200 and < 300)
            {
                counts.Rows++;
            }
        }
    }

    /// <summary>
    /// Claim-check bodies not yet applied (or left when their deletion failed) that belong to any of the uids and to the
    /// tenant: a body names its tenant in the blob metadata <c>tenant</c> (none: the default tenant), so a body of another
    /// tenant that holds the same uid (another booking) stays, and its queued delivery is still applied.
    /// </summary>
    private async Task<int> DeleteBodiesAsync(Run run, HashSet<string> uids, Counts counts, CancellationToken ct)
    {
        var deleted = 0;
        await foreach (var blob in storage.BodyContainer.GetBlobsAsync(new GetBlobsOptions { Traits = BlobTraits.Metadata }, ct))
        {
            if (blob.Name.StartsWith("applied/", StringComparison.Ordinal) || blob.Name.StartsWith("accepted/", StringComparison.Ordinal))
            {
                continue; // applied markers (and accepted ones earlier versions wrote): names of hashes, no content
            }

            if (TenantOfBody(blob.Name, blob.Metadata) != run.Tenant.TenantId)
            {
                continue;
            }

            byte[] body;
            try
            {
                body = (await storage.BodyContainer.GetBlobClient(blob.Name).DownloadContentAsync(ct)).Value.Content.ToArray();
            }
            catch (RequestFailedException ex) when (ex.Status == 404)
            {
                continue;
            }

            if (Holds(body, uids))
            {
                // The applied marker first: a queued message of this body then completes as already applied (and is
                // dropped) instead of being dead-lettered for a missing claim check.
                var deliveryId = WebhookQueue.DeliveryIdOf(body);
                var tenant = TenantIds.Named(run.Tenant.TenantId);
                if (blob.Name == WebhookEnvelope.BodyBlobName(tenant, deliveryId))
                {
                    await storage.BodyContainer.GetBlobClient(WebhookQueue.AppliedMarkerName(tenant, deliveryId)).UploadAsync(BinaryData.Empty, overwrite: true, ct);
                }

                await storage.BodyContainer.GetBlobClient(blob.Name).DeleteIfExistsAsync(cancellationToken: ct);
                deleted++;
            }
        }

        counts.Bodies += deleted;
        return deleted;
    }

    /// <summary>
    /// Every dead letter whose original message (or claim-check copy) names one of the uids is deleted with its blob copies;
    /// the others are released as they were. Returns how many were deleted.
    /// </summary>
    private async Task<int> DeleteDeadLettersAsync(Run run, HashSet<string> uids, Counts counts, CancellationToken ct)
    {
        var release = new List<(string Id, string Receipt)>();
        var deleted = 0;
        try
        {
            while (counts.Scanned < MaxDeadLettersScanned)
            {
                var batch = (await storage.DeadLetterQueue.ReceiveMessagesAsync(32, ScanLock, ct)).Value;
                if (batch.Length == 0)
                {
                    break;
                }

                foreach (var message in batch)
                {
                    counts.Scanned++;
                    if (await DeadLetterHoldsAsync(run, message.Body, uids, ct) is not { } letter)
                    {
                        release.Add((message.MessageId, message.PopReceipt));
                        continue;
                    }

                    await storage.DeadLetterQueue.DeleteMessageAsync(message.MessageId, message.PopReceipt, ct);
                    foreach (var blob in new[] { letter.BodyBlob, letter.MessageBlob }.OfType<string>())
                    {
                        await storage.DeadLetterContainer.GetBlobClient(blob).DeleteIfExistsAsync(cancellationToken: ct);
                    }

                    deleted++;
                }
            }
        }
        finally
        {
            foreach (var (id, receipt) in release)
            {
                try
                {
                    await storage.DeadLetterQueue.UpdateMessageAsync(id, receipt, visibilityTimeout: TimeSpan.Zero, cancellationToken: CancellationToken.None);
                }
                catch (RequestFailedException)
                {
                    // It becomes visible by itself when the scan lock ends.
                }
            }
        }

        counts.DeadLetters += deleted;
        return deleted;
    }

    /// <summary>The dead letter, when it is the tenant's and holds one of the uids; a message that is no dead letter names no tenant and counts as the default tenant's.</summary>
    private async Task<DeadLetter?> DeadLetterHoldsAsync(Run run, BinaryData body, HashSet<string> uids, CancellationToken ct)
    {
        DeadLetter letter;
        try
        {
            letter = DeadLetter.Parse(body.ToMemory().Span);
        }
        catch (JsonException)
        {
            return run.Tenant.IsDefault && Holds(body.ToArray(), uids) ? new DeadLetter(1, "", null, "", 0, default, null, null, null, null) : null;
        }

        if ((letter.Tenant ?? TenantIds.Default) != run.Tenant.TenantId)
        {
            return null;
        }

        if (await deadLetters.OriginalAsync(letter, ct) is { } original && Holds(original, uids))
        {
            return letter;
        }

        return letter.BodyBlob is { } copy && await deadLetters.CopyAsync(copy, ct) is { } copied && Holds(copied, uids) ? letter : null;
    }

    /// <summary>
    /// Whether bytes (an envelope, a body, anything a dead letter kept) name one of the uids. A uid is 1–64 characters of
    /// a fixed alphabet and stored verbatim in the JSON it came in, so a byte search finds it wherever the body has it.
    /// </summary>
    private static bool Holds(byte[] bytes, HashSet<string> uids)
    {
        foreach (var uid in uids)
        {
            var needle = Encoding.UTF8.GetBytes("\"" + uid + "\"");
            if (bytes.AsSpan().IndexOf(needle) >= 0)
            {
                return true;
            }
        }

        // An envelope keeps the body as a JSON string, so the uid's quotes are escaped there.
        var text = Encoding.UTF8.GetString(bytes);
        return uids.Any(u => text.Contains("\\\"" + u + "\\\"", StringComparison.Ordinal));
    }

    private async Task SubmitChunkedAsync(IEnumerable<TableTransactionAction> actions, CancellationToken ct)
    {
        foreach (var chunk in actions.Chunk(MaxBatch))
        {
            await _table.SubmitTransactionAsync(chunk, ct);
        }
    }

    /// <summary>Conflict patches beyond the first transaction: one whose row is gone is left out.</summary>
    private async Task SubmitSkippingGoneAsync(List<TableTransactionAction> chunk, CancellationToken ct)
    {
        while (chunk.Count > 0)
        {
            try
            {
                await _table.SubmitTransactionAsync(chunk, ct);
                return;
            }
            catch (TableTransactionFailedException ex) when (ex.Status == 404 && ex.FailedTransactionActionIndex is int i && i >= 0 && i < chunk.Count)
            {
                chunk.RemoveAt(i);
            }
        }
    }

    private async Task<TableEntity?> ReadAsync(Run run, string rowKey, CancellationToken ct)
    {
        var response = await _table.GetEntityIfExistsAsync<TableEntity>(run.Partition, rowKey, cancellationToken: ct);
        return response.HasValue ? response.Value : null;
    }

    /// <summary>The metadata key a claim-check body names its tenant under (written at intake; absent: the default tenant).</summary>
    public const string BodyTenantMetadata = "tenant";

    /// <summary>A tenant's body is named under its id (<see cref="WebhookEnvelope.BodyBlobName(string?, string)"/>) and says so in its metadata too; neither: the default tenant.</summary>
    private static string TenantOfBody(string name, IDictionary<string, string>? metadata)
    {
        var slash = name.IndexOf('/', StringComparison.Ordinal);
        if (slash > 0 && TenantIds.IsValid(name[..slash]))
        {
            return name[..slash];
        }

        return metadata is not null && metadata.TryGetValue(BodyTenantMetadata, out var tenant) && TenantIds.IsValid(tenant) ? tenant : TenantIds.Default;
    }

    /// <summary>The tenant one erasure runs for: every row it reads or writes is in this partition.</summary>
    private sealed record Run(TenantRows Tenant)
    {
        public string Partition => Tenant.Partition;
    }

    private sealed class Counts
    {
        public int Tombstones { get; set; }
        public int Rows { get; set; }
        public int Calendars { get; set; }
        public int Partners { get; set; }
        public int Bodies { get; set; }
        public int DeadLetters { get; set; }
        public int Scanned { get; set; }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 4210, Level = LogLevel.Information,
            Message = "Erasure of {UidPseudonym} in tenant {TenantId}: {Outcome}, appointments {AppointmentIds}; {Tombstones} tombstones, {Rows} rows deleted, {Calendars} calendars and {Partners} partners updated, {Bodies} bodies and {DeadLetters} dead letters deleted")]
        public static partial void Erased(ILogger logger, string uidPseudonym, ErasureOutcome outcome, string appointmentIds, int tombstones, int rows, int calendars, int partners, int bodies, int deadLetters, string tenantId);

        [LoggerMessage(EventId = 4211, Level = LogLevel.Information, Message = "Erasure of {UidPseudonym} in tenant {TenantId}: nothing holds it (no row, no tombstone, no dead letter); nothing written")]
        public static partial void Unknown(ILogger logger, string uidPseudonym, string tenantId);

        [LoggerMessage(EventId = 4212, Level = LogLevel.Warning, Message = "Erasure of {UidPseudonym} in tenant {TenantId} refused: seated booking {AppointmentId} has seats of other customers (allSeats not set); nothing written")]
        public static partial void Refused(ILogger logger, string uidPseudonym, string appointmentId, string tenantId);
    }
}
