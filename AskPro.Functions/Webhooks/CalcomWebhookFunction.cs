using AskPro.Functions.Calcom;
using AskPro.Functions.Logging;
using AskPro.Functions.Queueing;
using AskPro.Functions.Tenants;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AskPro.Functions.Webhooks;

/// <summary>
/// <c>POST /webhooks/calcom</c> (the default tenant) and <c>POST /webhooks/calcom/{tenant}</c> (docs/tenants.md#routes):
/// the tenant is the one whose route it came in on and whose secret verified it, never anything in the body. Bounded read → verify signature → validate → minimise → queue → 202. Cal.com waits for
/// us (inline, or from its task queue) and re-sends a failure at most for about ten minutes, so the
/// answer is fast and a 2xx only ever follows a durable enqueue. The enqueue is the one storage request before the
/// answer (two for a body over 48 KiB: claim-check blob, then queue message); an exact re-send this instance accepted
/// lately is answered from memory (<see cref="RecentDeliveries"/>), any other is queued and applied without effect.
/// </summary>
public sealed partial class CalcomWebhookFunction(
    WebhookQueue queue,
    RecentDeliveries recent,
    ITenantDirectory tenants,
    IOptions<WebhookOptions> options,
    TimeProvider time,
    ILogger<CalcomWebhookFunction> logger)
{
    public const string Route = "webhooks/calcom";
    public const string TenantRoute = Route + "/{tenant}";
    private const int ChunkSize = 16 * 1024;

    /// <summary>The default tenant's route, exactly as before tenants.</summary>
    [Function(nameof(CalcomWebhook))]
    public Task<IActionResult> CalcomWebhook(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = Route)] HttpRequest request,
        CancellationToken cancellationToken) =>
        ReceiveAsync(request, tenants.Default, cancellationToken);

    /// <summary>A tenant's own route: verified with that tenant's secrets only; unknown or disabled → 404 <c>unknown_tenant</c>.</summary>
    [Function(nameof(CalcomTenantWebhook))]
    public async Task<IActionResult> CalcomTenantWebhook(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = TenantRoute)] HttpRequest request,
        string tenant,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        // Looked up before the body is read: a stranger guessing routes costs no read, no HMAC and no storage request.
        var found = TenantIds.IsValid(tenant) ? await tenants.FindAsync(tenant, cancellationToken) : null;
        if (found is null)
        {
            Log.UnknownTenant(logger, TenantIds.IsValid(tenant) ? tenant : "(invalid id)", request.ContentLength ?? -1);
            return ApiResult.Error(StatusCodes.Status404NotFound, ErrorCodes.UnknownTenant,
                "No practice is served at this webhook URL: check the tenant id in the subscriber URL.");
        }

        return await ReceiveAsync(request, found, cancellationToken);
    }

    private async Task<IActionResult> ReceiveAsync(HttpRequest request, Tenant tenant, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var started = time.GetTimestamp();
        var settings = options.Value;
        using var scope = logger.BeginScope(new KeyValuePair<string, object?>[] { new("TenantId", tenant.Id) });

        byte[]? body;
        try
        {
            body = await ReadBoundedAsync(request, settings.MaxBodyBytes, cancellationToken);
        }
        catch (Exception ex) when (ex is IOException || (ex is OperationCanceledException && (cancellationToken.IsCancellationRequested || request.HttpContext.RequestAborted.IsCancellationRequested)))
        {
            // The client went away or sent a broken transfer (Kestrel's BadHttpRequestException is an IOException):
            // nothing was verified or stored, and it is not a server failure, so no 5xx trips the failure alert.
            var status = ex is BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } ? StatusCodes.Status413PayloadTooLarge : StatusCodes.Status400BadRequest;
            Log.Rejected(logger, status == StatusCodes.Status413PayloadTooLarge ? "too_large" : "incomplete_body", status, request.ContentLength ?? -1, Elapsed(started));
            return status == StatusCodes.Status413PayloadTooLarge
                ? ApiResult.Error(status, ErrorCodes.PayloadTooLarge, $"The body is larger than {settings.MaxBodyBytes} bytes.")
                : ApiResult.Error(status, ErrorCodes.IncompleteBody, "The request body could not be read completely (connection closed or malformed transfer); nothing was stored.");
        }

        if (body is null)
        {
            Log.Rejected(logger, "too_large", StatusCodes.Status413PayloadTooLarge, request.ContentLength ?? -1, Elapsed(started));
            return ApiResult.Error(StatusCodes.Status413PayloadTooLarge, ErrorCodes.PayloadTooLarge,
                $"The body is larger than {settings.MaxBodyBytes} bytes.");
        }

        var deliveryId = WebhookQueue.DeliveryIdOf(body);
        var signature = WebhookSignature.Verify(body, request.Headers[WebhookSignature.HeaderName].ToString(), tenant.SecretKeys);
        if (signature != SignatureResult.Valid)
        {
            Log.Unauthorized(logger, deliveryId, signature, body.Length, Elapsed(started));
            return signature switch
            {
                SignatureResult.MissingSignature => ApiResult.Error(StatusCodes.Status401Unauthorized, ErrorCodes.MissingSignature,
                    $"The {WebhookSignature.HeaderName} header is missing."),
                SignatureResult.Unsigned => ApiResult.Error(StatusCodes.Status401Unauthorized, ErrorCodes.UnsignedDelivery,
                    "The delivery is unsigned (no-secret-provided): set the webhook secret in Cal.com."),
                SignatureResult.MalformedSignature => ApiResult.Error(StatusCodes.Status401Unauthorized, ErrorCodes.InvalidSignature,
                    $"The {WebhookSignature.HeaderName} header is not a hex SHA-256 HMAC."),
                _ => ApiResult.Error(StatusCodes.Status401Unauthorized, ErrorCodes.InvalidSignature,
                    "The signature does not match the body for any of this webhook URL's secrets."),
            };
        }

        var read = CalcomWebhookReader.Read(body);
        switch (read.Kind)
        {
            case WebhookKind.NotJson or WebhookKind.Invalid:
                Log.Delivery(logger, deliveryId, read.TriggerEvent, null, "invalid", StatusCodes.Status422UnprocessableEntity, body.Length, Elapsed(started));
                return ApiResult.Error(StatusCodes.Status422UnprocessableEntity,
                    read.Kind == WebhookKind.NotJson ? ErrorCodes.InvalidJson : ErrorCodes.InvalidPayload,
                    read.Kind == WebhookKind.NotJson ? "The body is not valid JSON." : "The body is not a Cal.com webhook this service can apply.",
                    read.Errors);
            case WebhookKind.Ping:
                Log.Delivery(logger, deliveryId, read.TriggerEvent, null, "ping", StatusCodes.Status200OK, body.Length, Elapsed(started));
                return ApiResult.Status(StatusCodes.Status200OK, new StatusBody("ok", read.TriggerEvent, deliveryId, Message: "Webhook endpoint is reachable and the signature is valid."));
            case WebhookKind.Ignored:
                Log.Delivery(logger, deliveryId, read.TriggerEvent, null, "ignored", StatusCodes.Status200OK, body.Length, Elapsed(started));
                return ApiResult.Status(StatusCodes.Status200OK, new StatusBody("ignored", read.TriggerEvent, deliveryId, Message: "This trigger is not applied to appointments."));
        }

        var bookingEvent = read.Event!;
        var uid = UidPseudonym.Of(bookingEvent.Uid);
        // A captured signed body can be re-sent any time: an exact re-send this instance queued lately costs no storage
        // request at all. One it does not remember is queued again; applying a delivery twice changes nothing.
        // Remembered per tenant: the same bytes proven by another tenant's secret are that tenant's delivery.
        var recentKey = tenant.IsDefault ? deliveryId : tenant.Id + "/" + deliveryId;
        if (recent.Contains(recentKey))
        {
            Log.Delivery(logger, deliveryId, bookingEvent.TriggerEvent, uid, "duplicate", StatusCodes.Status202Accepted, body.Length, Elapsed(started));
            return ApiResult.Status(StatusCodes.Status202Accepted, new StatusBody("accepted", bookingEvent.TriggerEvent, deliveryId, bookingEvent.Uid));
        }

        try
        {
            // The signature was checked on the bytes received; what is queued leaves out the iCalendar files of payload
            // version 2026-07-27 (personal data nothing here uses), so no queue message, claim check or dead letter holds them.
            // Not the request's token: once a delivery is verified, finishing the enqueue beats losing it to a
            // dropped connection (Cal.com may never re-send). The storage client's own timeouts bound the wait.
            await queue.EnqueueAsync(CalendarContent.Remove(body), bookingEvent.TriggerEvent, bookingEvent.Uid, bookingEvent.RescheduleUid, time.GetUtcNow(),
                new ReceivedDelivery(deliveryId, PayloadVersion.Of(request.Headers[PayloadVersion.HeaderName].ToString(), read.PayloadVersion)) { Tenant = tenant.Id }, CancellationToken.None);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Log.StorageFailed(logger, deliveryId, bookingEvent.TriggerEvent, uid, ex.GetType().Name, (ex as Azure.RequestFailedException)?.Status ?? 0, Elapsed(started));
            return ApiResult.Error(StatusCodes.Status503ServiceUnavailable, ErrorCodes.StorageUnavailable,
                "The delivery could not be stored; nothing was queued. Please retry.", retryAfter: TimeSpan.FromSeconds(5));
        }

        // Only after the enqueue succeeded: a re-send after a failed one must be queued.
        recent.Add(recentKey);
        Log.Delivery(logger, deliveryId, bookingEvent.TriggerEvent, uid, "accepted", StatusCodes.Status202Accepted, body.Length, Elapsed(started));
        return ApiResult.Status(StatusCodes.Status202Accepted, new StatusBody("accepted", bookingEvent.TriggerEvent, deliveryId, bookingEvent.Uid));
    }

    /// <summary>The whole body, or null when it is over the limit (then at most one byte past the limit has been read).</summary>
    private static async Task<byte[]?> ReadBoundedAsync(HttpRequest request, int limit, CancellationToken ct)
    {
        if (request.ContentLength > limit)
        {
            return null;
        }

        // Sized by what arrives, not by what Content-Length promises: a client that declares 16 MiB and sends nothing
        // must not make us allocate 16 MiB.
        using var buffer = new MemoryStream((int)Math.Min(request.ContentLength ?? ChunkSize, ChunkSize));
        var chunk = new byte[ChunkSize];
        int read;
        // Never ask for more than one byte past the limit: that byte is what tells an over-long body from one of exactly the limit.
        while ((read = await request.Body.ReadAsync(chunk.AsMemory(0, (int)Math.Min(ChunkSize, limit + 1L - buffer.Length)), ct)) > 0)
        {
            if (buffer.Length + read > limit)
            {
                return null;
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }

    private double Elapsed(long started) => time.GetElapsedTime(started).TotalMilliseconds;

    private static partial class Log
    {
        [LoggerMessage(EventId = 1000, Level = LogLevel.Information,
            Message = "Webhook delivery {DeliveryId} trigger {TriggerEvent} uid {UidPseudonym}: {Outcome} ({StatusCode}), {BodyBytes} bytes in {DurationMs:F1} ms")]
        public static partial void Delivery(ILogger logger, string deliveryId, string? triggerEvent, string? uidPseudonym, string outcome, int statusCode, int bodyBytes, double durationMs);

        [LoggerMessage(EventId = 1001, Level = LogLevel.Warning,
            Message = "Webhook delivery {DeliveryId} rejected: signature {SignatureResult} (401), {BodyBytes} bytes in {DurationMs:F1} ms")]
        public static partial void Unauthorized(ILogger logger, string deliveryId, SignatureResult signatureResult, int bodyBytes, double durationMs);

        [LoggerMessage(EventId = 1002, Level = LogLevel.Warning,
            Message = "Webhook delivery rejected: {Outcome} ({StatusCode}), declared length {ContentLength} in {DurationMs:F1} ms")]
        public static partial void Rejected(ILogger logger, string outcome, int statusCode, long contentLength, double durationMs);

        [LoggerMessage(EventId = 8202, Level = LogLevel.Warning,
            Message = "Webhook delivery to tenant {TenantId} rejected: unknown or disabled tenant (404), declared length {ContentLength}")]
        public static partial void UnknownTenant(ILogger logger, string tenantId, long contentLength);

        [LoggerMessage(EventId = 1003, Level = LogLevel.Error,
            Message = "Webhook delivery {DeliveryId} trigger {TriggerEvent} uid {UidPseudonym}: storage failed ({ExceptionType}, status {StorageStatus}) (503) in {DurationMs:F1} ms")]
        public static partial void StorageFailed(ILogger logger, string deliveryId, string triggerEvent, string uidPseudonym, string exceptionType, int storageStatus, double durationMs);
    }
}
