using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using AskPro.Functions.Calcom;
using AskPro.Functions.Logging;
using AskPro.Functions.Queueing;
using AskPro.Functions.Storage;
using AskPro.Functions.Tenants;
using AskPro.Functions.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AskPro.Functions.Reconciliation;

/// <summary>
/// "Cancel all remaining", "confirm all" and "reject all" of a recurring series change every occurrence and send one
/// webhook, for the clicked one. Once such a delivery is applied, a look-up of its series is queued on its own queue
/// (<c>calcom-webhooks-series</c>, never expiring), so applying a webhook never waits on Cal.com's API; the look-up
/// function reads the occurrence (<c>GET /v2/bookings/{uid}</c> → <c>recurringBookingUid</c>), then every occurrence
/// (<c>GET /v2/bookings/{recurringBookingUid}</c>), and repairs those that differ through synthetic events, within a
/// minute instead of at the next sweep. One look-up per series runs at a time (a lease row per series); a throttled
/// (429), failing (5xx) or unreachable API, or a series another look-up holds, sends the look-up back to its queue
/// with a delay, for up to <see cref="ApplyQueueOptions.TransientRetryFor"/>, after which the daily sweep is left to
/// find the occurrences. A look-up is never dead-lettered: the booking that asked for it is already applied.
/// </summary>
public sealed partial class SeriesFollowUp(
    CalcomApiClient api,
    Reconciler reconciler,
    ReconciliationState state,
    WebhookQueue queue,
    StorageClients storage,
    ITenantDirectory tenants,
    IOptions<CalcomApiOptions> options,
    IOptions<ApplyQueueOptions> queueOptions,
    TimeProvider time,
    AskProMetrics metrics,
    ILogger<SeriesFollowUp> logger)
{
    /// <summary>The trigger of a look-up a former version queued on the webhook queue; such a message is moved to the look-up queue.</summary>
    public const string Trigger = "ASKPRO_SERIES_LOOKUP";

    /// <summary>How long one look-up holds its series: longer than a function may run (host.json's functionTimeout).</summary>
    public static readonly TimeSpan LeaseDuration = TimeSpan.FromMinutes(3);

    public static bool Wants(BookingEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return e.IsRecurring == true && e.Trigger.Has(TriggerFlags.MayChangeSeries);
    }

    /// <summary>Queues the look-up of <paramref name="e"/>'s series (nothing when reconciliation is off: there is no key to read with).</summary>
    public Task ScheduleAsync(BookingEvent e, string deliveryId, CancellationToken ct) => ScheduleAsync(TenantRows.Default, e, deliveryId, ct);

    /// <summary>Queues the look-up of <paramref name="e"/>'s series for <paramref name="tenant"/> (its key, its partition).</summary>
    public Task ScheduleAsync(TenantRows tenant, BookingEvent e, string deliveryId, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(e);
        return ScheduleAsync(tenant, e.Uid, e.TriggerEvent, deliveryId, ct);
    }

    /// <summary>Queues the look-up of the series of occurrence <paramref name="uid"/> (default tenant).</summary>
    public Task ScheduleAsync(string uid, string triggerEvent, string deliveryId, CancellationToken ct) =>
        ScheduleAsync(TenantRows.Default, uid, triggerEvent, deliveryId, ct);

    /// <summary>Queues the look-up of the series of occurrence <paramref name="uid"/> of <paramref name="tenant"/>.</summary>
    public async Task ScheduleAsync(TenantRows tenant, string uid, string triggerEvent, string deliveryId, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(tenant);
        if (tenant.IsDefault ? !options.Value.IsEnabled : (await tenants.FindAsync(tenant.TenantId, ct))?.ApiKey is null)
        {
            if (tenant.IsDefault)
            {
                Log.Off(logger, deliveryId);
            }
            else
            {
                Log.TenantOff(logger, deliveryId, tenant.TenantId);
            }

            return;
        }

        await SendAsync(new SeriesLookup(SeriesLookup.CurrentVersion, uid, triggerEvent, deliveryId, time.GetUtcNow()) { Tenant = TenantIds.Named(tenant.TenantId) }, TimeSpan.Zero, ct);
        Log.Scheduled(logger, deliveryId, UidPseudonym.Of(uid), triggerEvent);
    }

    private async Task SendAsync(SeriesLookup lookup, TimeSpan delay, CancellationToken ct)
    {
        await queue.EnsureCreatedAsync(ct);
        await storage.SeriesLookupQueue.SendMessageAsync(new BinaryData(lookup.ToUtf8()), delay, WebhookQueue.NeverExpires, ct);
    }

    /// <summary>
    /// One message of the look-up queue. Returns normally when the look-up ran, was sent back to the queue with a
    /// delay, or was given up (logged); throws only when even the re-send fails, so the host releases the message.
    /// </summary>
    public async Task ProcessAsync(BinaryData message, string messageId, long dequeueCount, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (SeriesLookup.TryParse(message.ToMemory().Span) is not { } lookup)
        {
            // Only a bug writes one; the sweep finds what it would have repaired.
            Log.Unreadable(logger, messageId);
            metrics.Delivery("series_unreadable", Trigger);
            return;
        }

        try
        {
            await RunAsync(lookup, ct);
        }
        catch (Exception ex) when (RetryDelay(ex, ct) is { } wait)
        {
            await RetryAsync(lookup, messageId, ex, wait, ct);
        }
        catch (Exception ex) when (!ct.IsCancellationRequested && dequeueCount >= queueOptions.Value.MaxDequeueCount)
        {
            Log.GaveUp(logger, messageId, lookup.DeliveryId, UidPseudonym.Of(lookup.Uid), $"failed on {dequeueCount} tries, last with {ex.GetType().Name}");
            metrics.Delivery("series_given_up", Trigger);
        }
    }

    /// <summary>How long to wait before the look-up is tried again, or null when the failure is not one that passes.</summary>
    private static TimeSpan? RetryDelay(Exception ex, CancellationToken ct) => ex switch
    {
        SeriesBusyException => TimeSpan.Zero,
        CalcomApiException { IsTransient: true } api => api.RetryAfter ?? TimeSpan.Zero,
        CalcomApiException => null,
        _ when TransientFailure.Is(ex, ct) => TimeSpan.Zero,
        _ => null,
    };

    private async Task RetryAsync(SeriesLookup lookup, string messageId, Exception ex, TimeSpan wait, CancellationToken ct)
    {
        var step = TransientRetry.Next(queueOptions.Value, lookup.Failures, lookup.FirstFailureAt, time.GetUtcNow(), wait);
        var status = (ex as CalcomApiException)?.Status ?? (ex as Azure.RequestFailedException)?.Status ?? 0;
        if (step.Delay is not { } delay)
        {
            Log.GaveUp(logger, messageId, lookup.DeliveryId, UidPseudonym.Of(lookup.Uid),
                $"failed for {step.FailingFor.TotalHours:F1} h ({step.Failures} tries), longer than Queue__TransientRetryFor; last {ex.GetType().Name} status {status}");
            metrics.Delivery("series_given_up", Trigger);
            return;
        }

        // Throws when storage takes nothing, and the host releases the original.
        await SendAsync(lookup with { Failures = step.Failures, FirstFailureAt = step.FirstFailureAt }, delay, ct);
        metrics.Delivery("series_deferred", Trigger);
        Log.Deferred(logger, messageId, lookup.DeliveryId, UidPseudonym.Of(lookup.Uid), step.Failures, ex.GetType().Name, status, delay.TotalSeconds);
    }

    /// <summary>Runs a look-up: every occurrence of the uid's series, compared and repaired, under the series' lease.</summary>
    public async Task<PassSummary?> RunAsync(SeriesLookup lookup, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(lookup);
        // The tenant's key, base URL, partition, lease and scope (docs/reconciliation.md#per-tenant); null: the default tenant.
        var tenant = lookup.Tenant is null ? tenants.Default : await tenants.FindAsync(lookup.Tenant, ct);
        if (tenant is null)
        {
            Log.TenantGone(logger, lookup.DeliveryId, lookup.Tenant!);
            return null;
        }

        if (CalcomAccount.Of(tenant, options.Value) is not { } account)
        {
            return null;
        }

        var client = api.For(account);
        var tenantState = state.For(tenant.Rows);
        var uid = lookup.Uid;
        var passId = "series-" + time.GetUtcNow().UtcDateTime.ToString("yyyyMMdd'T'HHmmss", CultureInfo.InvariantCulture) + "-" + Guid.NewGuid().ToString("N")[..6];
        try
        {
            var occurrence = (await client.GetAsync(uid, ct)).FirstOrDefault(b => b.Uid == uid);
            var series = occurrence?.RecurringBookingUid;
            await using var lease = await tenantState.TryAcquireSeriesLeaseAsync(series ?? uid, passId, LeaseDuration, ct)
                ?? throw new SeriesBusyException();
            var occurrences = series is not null ? await client.GetAsync(series, ct) : occurrence is null ? [] : [occurrence];
            return await reconciler.RepairAsync(tenant, client, occurrences, passId, series is null ? 1 : 2, ct);
        }
        catch (CalcomApiException ex) when (ex.IsAuthFailure)
        {
            // Retrying cannot help; the next pass with a valid key (and its sweep) finds the occurrences.
            Log.Unauthorized(logger, passId, UidPseudonym.Of(uid), ex.Status, tenant.Id, account.KeySetting);
            return null;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 5010, Level = LogLevel.Information, Message = "Delivery {DeliveryId} {TriggerEvent} of a series occurrence ({UidPseudonym}): queued a look-up of the whole series")]
        public static partial void Scheduled(ILogger logger, string deliveryId, string uidPseudonym, string triggerEvent);

        [LoggerMessage(EventId = 5012, Level = LogLevel.Error, Message = "Series lookup {PassId} of tenant {TenantId} for {UidPseudonym} refused by the Cal.com API ({Status}): set {Setting} to a valid key; the sweep will find the occurrences")]
        public static partial void Unauthorized(ILogger logger, string passId, string uidPseudonym, int status, string tenantId, string setting);

        [LoggerMessage(EventId = 8103, Level = LogLevel.Warning, Message = "Delivery {DeliveryId} of tenant {TenantId} changed a series occurrence, but the tenant has no usable Cal.com API key: the other occurrences wait for a pass with a key")]
        public static partial void TenantOff(ILogger logger, string deliveryId, string tenantId);

        [LoggerMessage(EventId = 8104, Level = LogLevel.Warning, Message = "Series look-up of delivery {DeliveryId} dropped: tenant {TenantId} is unknown or disabled now")]
        public static partial void TenantGone(ILogger logger, string deliveryId, string tenantId);

        [LoggerMessage(EventId = 5011, Level = LogLevel.Warning, Message = "Delivery {DeliveryId} changed a series occurrence, but Calcom__ApiKey is not set: the other occurrences wait for a pass with a key")]
        public static partial void Off(ILogger logger, string deliveryId);

        [LoggerMessage(EventId = 5101, Level = LogLevel.Warning,
            Message = "Series look-up {MessageId} of delivery {DeliveryId} ({UidPseudonym}) deferred after failure {Failures} ({ExceptionType}, status {Status}): retry in {DelaySeconds:F0} s")]
        public static partial void Deferred(ILogger logger, string messageId, string deliveryId, string uidPseudonym, int failures, string exceptionType, int status, double delaySeconds);

        [LoggerMessage(EventId = 5102, Level = LogLevel.Error,
            Message = "Series look-up {MessageId} of delivery {DeliveryId} ({UidPseudonym}) given up: {Reason}; the booking itself is applied, and the daily sweep repairs the other occurrences")]
        public static partial void GaveUp(ILogger logger, string messageId, string deliveryId, string uidPseudonym, string reason);

        [LoggerMessage(EventId = 5103, Level = LogLevel.Error, Message = "Series look-up message {MessageId} is not a look-up and was dropped; the daily sweep repairs what it would have")]
        public static partial void Unreadable(ILogger logger, string messageId);
    }
}

/// <summary>Another look-up holds this series right now; this one runs after it.</summary>
public sealed class SeriesBusyException : Exception
{
    public SeriesBusyException() : base("another look-up of this series is running") { }
    public SeriesBusyException(string message) : base(message) { }
    public SeriesBusyException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>A message of the look-up queue: whose series to read, for which delivery, and its retries so far.</summary>
public sealed record SeriesLookup(
    [property: JsonPropertyName("v")] int Version,
    [property: JsonPropertyName("uid")] string Uid,
    [property: JsonPropertyName("triggerEvent")] string TriggerEvent,
    [property: JsonPropertyName("deliveryId")] string DeliveryId,
    [property: JsonPropertyName("queuedAt")] DateTimeOffset QueuedAt)
{
    public const int CurrentVersion = 1;

    /// <summary>The tenant whose series it is (its API key, its partition); null: the default tenant.</summary>
    [JsonPropertyName("tenant")]
    public string? Tenant { get; init; }

    [JsonPropertyName("failures")]
    public int? Failures { get; init; }

    [JsonPropertyName("firstFailureAt")]
    public DateTimeOffset? FirstFailureAt { get; init; }

    public byte[] ToUtf8() => JsonSerializer.SerializeToUtf8Bytes(this, SeriesLookupJsonContext.Default.SeriesLookup);

    public static SeriesLookup? TryParse(ReadOnlySpan<byte> utf8)
    {
        try
        {
            return JsonSerializer.Deserialize(utf8, SeriesLookupJsonContext.Default.SeriesLookup) is { Version: CurrentVersion, Uid.Length: > 0, DeliveryId: not null } lookup
                ? lookup : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(SeriesLookup))]
internal sealed partial class SeriesLookupJsonContext : JsonSerializerContext;
