using System.Text.Json;
using System.Text.Json.Serialization;
using AskPro.Functions.Storage;
using AskPro.Functions.Tenants;
using Azure.Storage.Queues;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AskPro.Functions.Reconciliation;

/// <summary>
/// The timer's side of reconciliation per tenant (docs/reconciliation.md#per-tenant): one message per enabled tenant
/// with an API key on <c>calcom-reconciliation</c> (never expiring), and each message one pass of that tenant, so
/// tenants reconcile in parallel across instances and one tenant's refused key or slow API holds up no other.
/// </summary>
public sealed partial class ReconciliationFanOut(
    ITenantDirectory tenants,
    Reconciler reconciler,
    StorageClients storage,
    IOptions<CalcomApiOptions> apiOptions,
    TimeProvider time,
    ILogger<ReconciliationFanOut> logger)
{
    private readonly QueueClient _queue = storage.Queues.GetQueueClient(StorageNames.ReconciliationQueue);
    private readonly CreateOnce _created = new(async ct =>
    {
        await storage.Queues.GetQueueClient(StorageNames.ReconciliationQueue).CreateIfNotExistsAsync(cancellationToken: ct);
        await storage.Queues.GetQueueClient(StorageNames.ReconciliationPoisonQueue).CreateIfNotExistsAsync(cancellationToken: ct);
    });

    public Task EnsureCreatedAsync(CancellationToken ct) => _created.EnsureAsync(ct);

    /// <summary>Queues one pass per enabled tenant with a usable key; returns the tenants queued, in the directory's order (the default first).</summary>
    public async Task<IReadOnlyList<string>> QueueAllAsync(CancellationToken ct)
    {
        var queued = new List<string>();
        var all = await tenants.AllAsync(ct);
        await EnsureCreatedAsync(ct);
        foreach (var tenant in all)
        {
            if (CalcomAccount.Of(tenant, apiOptions.Value) is null)
            {
                if (tenant.IsDefault)
                {
                    // As before tenants: a timer tick without Calcom__ApiKey says once that reconciliation is off (5006).
                    await reconciler.RunScheduledAsync(tenant, ct);
                }

                continue;
            }

            var message = new ReconciliationRequest(ReconciliationRequest.CurrentVersion, tenant.Id, time.GetUtcNow());
            await _queue.SendMessageAsync(new BinaryData(message.ToUtf8()), visibilityTimeout: null, timeToLive: Queueing.WebhookQueue.NeverExpires, ct);
            queued.Add(tenant.Id);
        }

        Log.FannedOut(logger, queued.Count, all.Count);
        return queued;
    }

    /// <summary>
    /// One message: that tenant's scheduled pass. A tenant unknown or disabled since it was queued is skipped; an
    /// unreadable message is dropped (only a bug writes one; the next tick queues every tenant again). Storage failures
    /// throw, so the host retries the message.
    /// </summary>
    public async Task<PassSummary?> ProcessAsync(BinaryData message, string messageId, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (ReconciliationRequest.TryParse(message.ToMemory().Span) is not { } request)
        {
            Log.Unreadable(logger, messageId);
            return null;
        }

        return await reconciler.RunScheduledAsync(request.Tenant, ct);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 8110, Level = LogLevel.Information, Message = "Reconciliation fan-out: queued a pass for {Queued} of {Tenants} enabled tenant(s) (those with a usable API key)")]
        public static partial void FannedOut(ILogger logger, int queued, int tenants);

        [LoggerMessage(EventId = 8111, Level = LogLevel.Error, Message = "Reconciliation message {MessageId} is not a tenant's pass and was dropped; the next timer tick queues every tenant again")]
        public static partial void Unreadable(ILogger logger, string messageId);
    }
}

/// <summary>A message of the reconciliation queue: run this tenant's scheduled pass.</summary>
public sealed record ReconciliationRequest(
    [property: JsonPropertyName("v")] int Version,
    [property: JsonPropertyName("tenant")] string Tenant,
    [property: JsonPropertyName("queuedAt")] DateTimeOffset QueuedAt)
{
    public const int CurrentVersion = 1;

    public byte[] ToUtf8() => JsonSerializer.SerializeToUtf8Bytes(this, ReconciliationRequestJsonContext.Default.ReconciliationRequest);

    public static ReconciliationRequest? TryParse(ReadOnlySpan<byte> utf8)
    {
        try
        {
            return JsonSerializer.Deserialize(utf8, ReconciliationRequestJsonContext.Default.ReconciliationRequest) is { Version: CurrentVersion } request
                && TenantIds.IsValid(request.Tenant) ? request : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

[JsonSerializable(typeof(ReconciliationRequest))]
internal sealed partial class ReconciliationRequestJsonContext : JsonSerializerContext;
