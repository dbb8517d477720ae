using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using AskPro.Functions.Appointments;
using AskPro.Functions.Logging;
using AskPro.Functions.Queueing;
using AskPro.Functions.Storage;
using AskPro.Functions.Tenants;
using Azure;
using Azure.Storage.Queues.Models;
using Microsoft.Extensions.Logging;

namespace AskPro.Functions.Operating;

public sealed record DeadLetterItem(
    [property: JsonPropertyName("queueMessageId")] string QueueMessageId,
    [property: JsonPropertyName("reason")] string Reason,
    [property: JsonPropertyName("deliveryId")] string? DeliveryId,
    [property: JsonPropertyName("triggerEvent")] string? TriggerEvent,
    [property: JsonPropertyName("acceptedAt")] DateTimeOffset? AcceptedAt,
    [property: JsonPropertyName("firstTry")] DateTimeOffset? FirstTry,
    [property: JsonPropertyName("lastTry")] DateTimeOffset? LastTry,
    [property: JsonPropertyName("dequeueCount")] long? DequeueCount,
    [property: JsonPropertyName("claimCheck")] bool ClaimCheck)
{
    /// <summary>The tenant whose delivery it was (<c>default</c> for the default tenant); null when it is not a dead letter at all.</summary>
    [JsonPropertyName("tenant")]
    public string? Tenant { get; init; }
}

public sealed record DeadLetterListBody(
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("count")] int Count,
    [property: JsonPropertyName("approximateTotal")] int? ApproximateTotal,
    [property: JsonPropertyName("deadLetters")] IReadOnlyList<DeadLetterItem> DeadLetters)
{
    /// <summary>The <c>?tenant=</c> filter; null: every tenant's dead letters.</summary>
    [JsonPropertyName("tenant"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Tenant { get; init; }

    /// <summary>With a filter: dead letters looked at to find these (more than one peek holds).</summary>
    [JsonPropertyName("scanned"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? Scanned { get; init; }
}

public sealed record ReplayOutcome(
    [property: JsonPropertyName("queueMessageId")] string QueueMessageId,
    [property: JsonPropertyName("deliveryId")] string? DeliveryId,
    [property: JsonPropertyName("result")] string Result,
    [property: JsonPropertyName("reason"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Reason)
{
    /// <summary>The tenant of the dead letter (its envelope goes back with it unchanged); null when it is not a dead letter.</summary>
    [JsonPropertyName("tenant"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Tenant { get; init; }
}

public sealed record ReplayReport(
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("dryRun")] bool DryRun,
    [property: JsonPropertyName("moved")] int Moved,
    [property: JsonPropertyName("kept")] int Kept,
    [property: JsonPropertyName("failed")] int Failed,
    [property: JsonPropertyName("messages")] IReadOnlyList<ReplayOutcome> Messages)
{
    /// <summary>Dead letters of erased bookings, deleted instead of replayed (in a dry run: would be).</summary>
    [JsonPropertyName("dropped")]
    public int Dropped { get; init; }

    /// <summary>The <c>?tenant=</c> limit; null: every tenant's dead letters.</summary>
    [JsonPropertyName("tenant"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Tenant { get; init; }

    /// <summary>With a limit: dead letters of other tenants passed over (left as they were).</summary>
    [JsonPropertyName("skipped"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? Skipped { get; init; }
}

/// <summary>
/// Reading and replaying <c>calcom-webhooks-deadletter</c>. Replay moves a dead letter's original message back to
/// <c>calcom-webhooks</c>: the dead letter is received (hidden from other replays while it is moved), its claim-check
/// body restored, the copy sent never-expiring, and only then the dead letter deleted. A failure before the delete
/// leaves the dead letter where it was (visible again at the end of the run); a crash between send and delete can
/// leave one extra copy, which the processor applies as a duplicate (records are an idempotent set union).
/// </summary>
public sealed partial class DeadLetterOperations(StorageClients storage, WebhookQueue queue, AppointmentTableStore store, ILogger<DeadLetterOperations> logger)
{
    /// <summary>The Queue service peeks at most 32 messages at a time.</summary>
    public const int MaxList = 32;
    public const int MaxReplay = 1000;
    /// <summary>Dead letters a list or replay limited to one tenant looks at, at most, to find that tenant's.</summary>
    public const int MaxScanned = 5000;
    /// <summary>How long a dead letter stays hidden while a list limited to one tenant looks past it.</summary>
    public static readonly TimeSpan ListLock = TimeSpan.FromSeconds(30);
    /// <summary>How long a dead letter stays hidden while a replay moves it.</summary>
    public static readonly TimeSpan MoveLock = TimeSpan.FromMinutes(5);

    public const string Moved = "moved";
    public const string WouldMove = "would_move";
    public const string Kept = "kept";
    public const string Failed = "failed";
    /// <summary>The booking was erased: the dead letter is deleted, not replayed (applying it would be dropped anyway).</summary>
    public const string Dropped = "dropped";

    /// <summary>The oldest <paramref name="max"/> dead letters, without bodies and without changing anything.</summary>
    public Task<DeadLetterListBody> ListAsync(int max, CancellationToken ct) => ListAsync(max, null, ct);

    /// <summary>
    /// The oldest <paramref name="max"/> dead letters of <paramref name="tenant"/> (null: of every tenant), without bodies.
    /// Unlimited, one peek (nothing changes). Limited to a tenant, a peek of the oldest 32 could miss its letters behind
    /// other tenants', so the queue is read past them as replay reads it: each letter looked at is hidden for
    /// <see cref="ListLock"/> and made visible again before the answer (a crash leaves it hidden that long, nothing more).
    /// </summary>
    public async Task<DeadLetterListBody> ListAsync(int max, string? tenant, CancellationToken ct)
    {
        await queue.EnsureCreatedAsync(ct);
        max = Math.Clamp(max, 1, MaxList);
        var items = new List<DeadLetterItem>();
        int? scanned = null;
        if (tenant is null)
        {
            var peeked = (await storage.DeadLetterQueue.PeekMessagesAsync(max, ct)).Value;
            foreach (var message in peeked.OrderBy(m => m.InsertedOn))
            {
                items.Add(await DescribeAsync(message.MessageId, message.Body, ct));
            }
        }
        else
        {
            var release = new List<(string Id, string PopReceipt)>();
            try
            {
                scanned = 0;
                while (items.Count < max && scanned < MaxScanned)
                {
                    var batch = (await storage.DeadLetterQueue.ReceiveMessagesAsync(32, ListLock, ct)).Value;
                    if (batch.Length == 0)
                    {
                        break;
                    }

                    foreach (var message in batch.OrderBy(m => m.InsertedOn))
                    {
                        scanned++;
                        release.Add((message.MessageId, message.PopReceipt));
                        if (items.Count < max && TenantOf(message.Body) == tenant)
                        {
                            items.Add(await DescribeAsync(message.MessageId, message.Body, ct));
                        }
                    }
                }
            }
            finally
            {
                await ReleaseAsync(release);
            }
        }

        var total = (await storage.DeadLetterQueue.GetPropertiesAsync(ct)).Value.ApproximateMessagesCount;
        Log.Listed(logger, items.Count, tenant ?? "(all)", scanned ?? items.Count);
        return new DeadLetterListBody("ok", items.Count, total, items) { Tenant = tenant, Scanned = scanned };
    }

    /// <summary>The tenant a dead letter names (none: the default tenant), or null when the message is not a dead letter.</summary>
    private static string? TenantOf(BinaryData body)
    {
        try
        {
            return DeadLetter.Parse(body.ToMemory().Span).Tenant ?? TenantIds.Default;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private async Task ReleaseAsync(List<(string Id, string PopReceipt)> release)
    {
        foreach (var (id, receipt) in release)
        {
            try
            {
                await storage.DeadLetterQueue.UpdateMessageAsync(id, receipt, visibilityTimeout: TimeSpan.Zero, cancellationToken: CancellationToken.None);
            }
            catch (RequestFailedException)
            {
                // It becomes visible by itself when its lock ends.
            }
        }
    }

    private async Task<DeadLetterItem> DescribeAsync(string queueMessageId, BinaryData body, CancellationToken ct)
    {
        DeadLetter letter;
        try
        {
            letter = DeadLetter.Parse(body.ToMemory().Span);
        }
        catch (JsonException ex)
        {
            return new DeadLetterItem(queueMessageId, $"not a dead letter: {ex.Message}", null, null, null, null, null, null, false);
        }

        var envelope = TryEnvelope(await OriginalAsync(letter, ct), out _);
        return new DeadLetterItem(queueMessageId, letter.Reason, letter.DeliveryId ?? envelope?.DeliveryId, envelope?.TriggerEvent, envelope?.ReceivedAt,
            envelope?.FirstFailureAt ?? letter.DeadLetteredAt, letter.DeadLetteredAt, letter.DequeueCount, envelope?.BodyBlob is not null)
        {
            Tenant = letter.Tenant ?? envelope?.TenantId ?? TenantIds.Default,
        };
    }

    /// <summary>Moves up to <paramref name="max"/> dead letters, oldest first, back to the work queue (or, with <paramref name="dryRun"/>, says what would move).</summary>
    public Task<ReplayReport> ReplayAsync(int max, bool dryRun, CancellationToken ct) => ReplayAsync(max, dryRun, null, ct);

    /// <summary>
    /// As <see cref="ReplayAsync(int, bool, CancellationToken)"/>, limited to the dead letters of <paramref name="tenant"/>
    /// (null: every tenant's); the others are passed over as they were (at most <see cref="MaxScanned"/> looked at).
    /// </summary>
    public async Task<ReplayReport> ReplayAsync(int max, bool dryRun, string? tenant, CancellationToken ct)
    {
        await queue.EnsureCreatedAsync(ct);
        max = Math.Clamp(max, 1, MaxReplay);
        var outcomes = new List<ReplayOutcome>();
        var skipped = 0;
        // Kept, skipped (and, in a dry run, all) dead letters stay hidden until the run ends, so one run never sees one twice.
        var release = new List<(string Id, string PopReceipt)>();
        try
        {
            while (outcomes.Count < max && outcomes.Count + skipped < MaxScanned)
            {
                var batch = (await storage.DeadLetterQueue.ReceiveMessagesAsync(Math.Min(32, tenant is null ? max - outcomes.Count : 32), MoveLock, ct)).Value;
                if (batch.Length == 0)
                {
                    break;
                }

                foreach (var message in batch.OrderBy(m => m.InsertedOn))
                {
                    var other = tenant is not null && TenantOf(message.Body) != tenant;
                    if (other || outcomes.Count >= max)
                    {
                        // Another tenant's (skipped), or one of ours past max (left for the next run).
                        skipped += other ? 1 : 0;
                        release.Add((message.MessageId, message.PopReceipt));
                        continue;
                    }

                    var outcome = await ReplayOneAsync(message, dryRun, ct) with { Tenant = TenantOf(message.Body) };
                    outcomes.Add(outcome);
                    if (outcome.Result != Moved && (outcome.Result != Dropped || dryRun))
                    {
                        release.Add((message.MessageId, message.PopReceipt));
                    }

                    if (outcome.Result == Failed)
                    {
                        // Storage refuses the work queue: stop rather than churn through every dead letter.
                        return Report(dryRun, outcomes, tenant, skipped);
                    }
                }
            }

            return Report(dryRun, outcomes, tenant, skipped);
        }
        finally
        {
            await ReleaseAsync(release);
        }
    }

    private static ReplayReport Report(bool dryRun, List<ReplayOutcome> outcomes, string? tenant, int skipped) =>
        new("ok", dryRun, outcomes.Count(o => o.Result is Moved or WouldMove), outcomes.Count(o => o.Result == Kept), outcomes.Count(o => o.Result == Failed), outcomes)
        {
            Dropped = outcomes.Count(o => o.Result == Dropped),
            Tenant = tenant,
            Skipped = tenant is null ? null : skipped,
        };

    private async Task<ReplayOutcome> ReplayOneAsync(QueueMessage message, bool dryRun, CancellationToken ct)
    {
        DeadLetter letter;
        try
        {
            letter = DeadLetter.Parse(message.Body.ToMemory().Span);
        }
        catch (JsonException ex)
        {
            return Keep(message, null, null, $"not a dead letter: {ex.Message}");
        }

        var tenantId = letter.Tenant ?? TenantIds.Default;

        var original = await OriginalAsync(letter, ct);
        if (original is null)
        {
            return Keep(message, letter.DeliveryId, tenantId, $"the original message is missing ({letter.MessageBlob ?? "no message in the dead letter"})");
        }

        if (TryEnvelope(original, out var why) is not { } envelope)
        {
            return Keep(message, letter.DeliveryId, tenantId, $"the original message is not a webhook envelope, replaying it would fail again: {why}");
        }

        // Erasure hook: an erased booking's dead letter holds its data and must not bring it back (its own tenant's
        // tombstones only: the same uid erased in another tenant is another booking).
        if (await ErasedUidAsync(envelope, ct) is { } erased)
        {
            if (!dryRun)
            {
                await storage.DeadLetterQueue.DeleteMessageAsync(message.MessageId, message.PopReceipt, ct);
                await DeleteCopiesAsync(letter, ct);
                ErasureLog.DroppedOnReplay(logger, message.MessageId, envelope.DeliveryId, UidPseudonym.Of(erased), envelope.TenantId);
            }

            return new ReplayOutcome(message.MessageId, envelope.DeliveryId, Dropped, "the booking was erased: the dead letter is deleted, not replayed");
        }

        if (envelope.BodyBlob is { } claimCheck && !await BodyAvailableAsync(letter, claimCheck, dryRun, ct))
        {
            return Keep(message, envelope.DeliveryId, tenantId, $"the claim-check body {claimCheck} is neither in {StorageNames.BodyContainer} nor copied in {StorageNames.DeadLetterContainer}");
        }

        if (dryRun)
        {
            return new ReplayOutcome(message.MessageId, envelope.DeliveryId, WouldMove, null);
        }

        try
        {
            // A fresh start: the transient-retry clock of the failed attempt would dead-letter it again at once.
            await queue.ResendAsync(envelope with { TransientFailures = null, FirstFailureAt = null }, TimeSpan.Zero, ct);
        }
        catch (RequestFailedException ex)
        {
            Log.ReplayFailed(logger, message.MessageId, envelope.DeliveryId, ex.Status, ex.ErrorCode, tenantId);
            return new ReplayOutcome(message.MessageId, envelope.DeliveryId, Failed, $"the work queue refused the copy (status {ex.Status}); the dead letter stays");
        }

        try
        {
            await storage.DeadLetterQueue.DeleteMessageAsync(message.MessageId, message.PopReceipt, ct);
        }
        catch (RequestFailedException ex)
        {
            // Queued, but still here: a later replay sends it again, which the processor applies as a duplicate.
            Log.DeleteFailed(logger, message.MessageId, envelope.DeliveryId, ex.Status, tenantId);
            return new ReplayOutcome(message.MessageId, envelope.DeliveryId, Moved, $"queued, but the dead letter could not be deleted (status {ex.Status}); a second replay is a harmless duplicate");
        }

        // The dead letter's blob copies go with it: stored bodies never outlive what refers to them. (Should the copy
        // fail again, the processor copies the body out of the body container anew.)
        await DeleteCopiesAsync(letter, ct);

        Log.Replayed(logger, message.MessageId, envelope.DeliveryId, envelope.TriggerEvent, tenantId);
        return new ReplayOutcome(message.MessageId, envelope.DeliveryId, Moved, null);
    }

    private async Task DeleteCopiesAsync(DeadLetter letter, CancellationToken ct)
    {
        foreach (var blob in new[] { letter.BodyBlob, letter.MessageBlob }.OfType<string>())
        {
            try
            {
                await storage.DeadLetterContainer.GetBlobClient(blob).DeleteIfExistsAsync(cancellationToken: ct);
            }
            catch (RequestFailedException)
            {
                // A leftover copy is harmless: nothing refers to it any more.
            }
        }
    }

    /// <summary>The envelope's uid (or the one it reschedules) that was erased in the envelope's tenant, or null.</summary>
    private async Task<string?> ErasedUidAsync(WebhookEnvelope envelope, CancellationToken ct)
    {
        foreach (var uid in new[] { envelope.Uid, envelope.RescheduleUid }.OfType<string>().Where(u => u.Length > 0))
        {
            if (await store.ErasedAtAsync(new TenantRows(envelope.TenantId), uid, ct) is not null)
            {
                return uid;
            }
        }

        return null;
    }

    private ReplayOutcome Keep(QueueMessage message, string? deliveryId, string? tenantId, string reason)
    {
        Log.Kept(logger, message.MessageId, deliveryId, reason, tenantId ?? "(none)");
        return new ReplayOutcome(message.MessageId, deliveryId, Kept, reason);
    }

    /// <summary>The dead letter's original message as it was queued, or null when it is missing or unreadable.</summary>
    internal async Task<byte[]?> OriginalAsync(DeadLetter letter, CancellationToken ct)
    {
        if (letter.Message is not null)
        {
            return Encoding.UTF8.GetBytes(letter.Message);
        }

        if (letter.MessageBase64 is not null)
        {
            try
            {
                return Convert.FromBase64String(letter.MessageBase64);
            }
            catch (FormatException)
            {
                return null;
            }
        }

        return letter.MessageBlob is null ? null : await CopyAsync(letter.MessageBlob, ct);
    }

    /// <summary>A blob copy in the dead-letter container (a message or a claim-check body), or null when it is gone.</summary>
    internal async Task<byte[]?> CopyAsync(string name, CancellationToken ct)
    {
        try
        {
            return (await storage.DeadLetterContainer.GetBlobClient(name).DownloadContentAsync(ct)).Value.Content.ToArray();
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return null;
        }
    }

    private static WebhookEnvelope? TryEnvelope(byte[]? original, out string? why)
    {
        why = null;
        if (original is null)
        {
            why = "missing";
            return null;
        }

        try
        {
            return WebhookEnvelope.Parse(original);
        }
        catch (InvalidEnvelopeException ex)
        {
            why = ex.Message;
            return null;
        }
    }

    /// <summary>Puts the claim-check body back where the processor reads it (the body container's lifecycle rule may have deleted it).</summary>
    private async Task<bool> BodyAvailableAsync(DeadLetter letter, string claimCheck, bool dryRun, CancellationToken ct)
    {
        if (letter.BodyBlob is { } copy)
        {
            var source = storage.DeadLetterContainer.GetBlobClient(copy);
            if (dryRun)
            {
                return (await source.ExistsAsync(ct)).Value;
            }

            try
            {
                var content = (await source.DownloadContentAsync(ct)).Value.Content;
                await storage.BodyContainer.GetBlobClient(claimCheck).UploadAsync(content, overwrite: true, ct);
                return true;
            }
            catch (RequestFailedException ex) when (ex.Status == 404)
            {
                // Fall through: the body may still be in the body container.
            }
        }

        return (await storage.BodyContainer.GetBlobClient(claimCheck).ExistsAsync(ct)).Value;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 4100, Level = LogLevel.Information, Message = "Dead letter {QueueMessageId} of delivery {DeliveryId} {TriggerEvent} of tenant {TenantId} replayed to the work queue")]
        public static partial void Replayed(ILogger logger, string queueMessageId, string deliveryId, string triggerEvent, string tenantId);

        [LoggerMessage(EventId = 4101, Level = LogLevel.Warning, Message = "Dead letter {QueueMessageId} of delivery {DeliveryId} of tenant {TenantId} kept: {Reason}")]
        public static partial void Kept(ILogger logger, string queueMessageId, string? deliveryId, string reason, string tenantId);

        [LoggerMessage(EventId = 4102, Level = LogLevel.Error, Message = "Dead letter {QueueMessageId} of delivery {DeliveryId} of tenant {TenantId} not replayed: the work queue refused the copy (status {StorageStatus}, {ErrorCode})")]
        public static partial void ReplayFailed(ILogger logger, string queueMessageId, string deliveryId, int storageStatus, string? errorCode, string tenantId);

        [LoggerMessage(EventId = 4103, Level = LogLevel.Warning, Message = "Dead letter {QueueMessageId} of delivery {DeliveryId} of tenant {TenantId} was queued but could not be deleted (status {StorageStatus})")]
        public static partial void DeleteFailed(ILogger logger, string queueMessageId, string deliveryId, int storageStatus, string tenantId);

        [LoggerMessage(EventId = 8150, Level = LogLevel.Information, Message = "Operator listed {Count} dead letter(s) of tenant {TenantId} ({Scanned} looked at)")]
        public static partial void Listed(ILogger logger, int count, string tenantId, int scanned);
    }
}
