using System.Security.Cryptography;
using System.Text;
using AskPro.Functions.Storage;
using Azure;
using Azure.Storage.Blobs.Models;

namespace AskPro.Functions.Queueing;

/// <summary>Writes verified deliveries to the webhook queue (claim check for large bodies) and reads them back.</summary>
public sealed class WebhookQueue(StorageClients storage)
{
    /// <summary>A queue message holds 64 KiB of text; with Base64 that is 48 KiB of envelope bytes.</summary>
    public const int MaxMessageBytes = 48 * 1024;

    /// <summary>
    /// Time-to-live of every message this app writes: never expire. The service's default (7 days) would delete an
    /// accepted delivery Cal.com will never send again if the queue function were broken for a week.
    /// </summary>
    public static readonly TimeSpan NeverExpires = TimeSpan.FromSeconds(-1);

    private readonly CreateOnce _created = new(async ct =>
    {
        await storage.WebhookQueue.CreateIfNotExistsAsync(cancellationToken: ct);
        await storage.Queues.GetQueueClient(StorageNames.WebhookPoisonQueue).CreateIfNotExistsAsync(cancellationToken: ct);
        await storage.DeadLetterQueue.CreateIfNotExistsAsync(cancellationToken: ct);
        await storage.SeriesLookupQueue.CreateIfNotExistsAsync(cancellationToken: ct);
        await storage.Queues.GetQueueClient(StorageNames.SeriesLookupPoisonQueue).CreateIfNotExistsAsync(cancellationToken: ct);
        await storage.BodyContainer.CreateIfNotExistsAsync(cancellationToken: ct);
        await storage.DeadLetterContainer.CreateIfNotExistsAsync(cancellationToken: ct);
    });

    public static string DeliveryIdOf(ReadOnlySpan<byte> body) => Convert.ToHexStringLower(SHA256.HashData(body));

    public Task<WebhookEnvelope> EnqueueAsync(ReadOnlyMemory<byte> body, string triggerEvent, string uid, string? rescheduleUid, DateTimeOffset receivedAt, CancellationToken ct) =>
        EnqueueAsync(body, triggerEvent, uid, rescheduleUid, receivedAt, received: null, ct);

    /// <summary>
    /// Queues <paramref name="body"/> as the delivery <paramref name="received"/> describes, when the body is the
    /// received one minimised (iCalendar content removed): the delivery id stays the SHA-256 of the bytes received,
    /// and the envelope notes the payload version and the queued body's own hash.
    /// </summary>
    public async Task<WebhookEnvelope> EnqueueAsync(ReadOnlyMemory<byte> body, string triggerEvent, string uid, string? rescheduleUid, DateTimeOffset receivedAt, ReceivedDelivery? received, CancellationToken ct)
    {
        await EnsureCreatedAsync(ct);
        var bodyHash = DeliveryIdOf(body.Span);
        var deliveryId = received?.DeliveryId ?? bodyHash;
        var envelope = new WebhookEnvelope(WebhookEnvelope.CurrentVersion, deliveryId, receivedAt, triggerEvent, uid, rescheduleUid, body.Length, Encoding.UTF8.GetString(body.Span), null)
        {
            PayloadVersion = received?.PayloadVersion,
            Tenant = Tenants.TenantIds.Named(received?.Tenant),
            BodySha256 = bodyHash == deliveryId ? null : bodyHash,
        };
        var message = envelope.ToUtf8();
        if (message.Length > MaxMessageBytes)
        {
            // The blob is named by content hash, so a retry rewrites the same bytes and never trips on a leftover.
            var blobName = WebhookEnvelope.BodyBlobName(envelope.Tenant, deliveryId);
            // A tenant's body names it, so erasing a booking of one tenant never deletes another tenant's body that holds
            // the same uid (Operating/Erasure.cs; docs/erasure.md#tenants). None: the default tenant, as before tenants.
            var upload = new BlobUploadOptions();
            if (envelope.Tenant is { } bodyTenant)
            {
                upload.Metadata = new Dictionary<string, string>(StringComparer.Ordinal) { ["tenant"] = bodyTenant };
            }

            await storage.BodyContainer.GetBlobClient(blobName).UploadAsync(new BinaryData(body), upload, ct);
            envelope = envelope with { Body = null, BodyBlob = blobName };
            message = envelope.ToUtf8();
        }

        await storage.WebhookQueue.SendMessageAsync(new BinaryData(message), visibilityTimeout: null, timeToLive: NeverExpires, ct);
        return envelope;
    }

    /// <summary>
    /// Puts an envelope back on the queue, hidden for <paramref name="delay"/>: the retry after a transient failure,
    /// as a new message, so the host's dequeue count stays for failures that are not transient.
    /// </summary>
    public async Task ResendAsync(WebhookEnvelope envelope, TimeSpan delay, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        await storage.WebhookQueue.SendMessageAsync(new BinaryData(envelope.ToUtf8()), visibilityTimeout: delay, timeToLive: NeverExpires, ct);
    }

    /// <summary>
    /// Hides a received message again for <paramref name="delay"/>, through its pop receipt: the message stays in its
    /// queue (never expiring) when neither a re-send nor a dead letter could be written. Its pop receipt changes, so
    /// the host's delete after the function returns fails as a pop receipt mismatch, which the host ignores.
    /// </summary>
    public async Task HoldAsync(string messageId, string popReceipt, TimeSpan delay, CancellationToken ct) =>
        await storage.WebhookQueue.UpdateMessageAsync(messageId, popReceipt, visibilityTimeout: delay, cancellationToken: ct);

    /// <summary>
    /// Writes a dead letter that never expires: the reason, the original message and (copied out of the body
    /// container, whose lifecycle rule deletes bodies) its claim-check body. Throws when it cannot be written, so the
    /// host retries the original rather than lose it.
    /// </summary>
    public async Task<DeadLetter> DeadLetterAsync(ReadOnlyMemory<byte> message, string messageId, long dequeueCount, WebhookEnvelope? envelope, string reason, DateTimeOffset now, CancellationToken ct)
    {
        await EnsureCreatedAsync(ct);
        string? bodyBlob = null;
        if (envelope?.BodyBlob is { } claimCheck)
        {
            var source = storage.BodyContainer.GetBlobClient(claimCheck);
            try
            {
                var content = (await source.DownloadContentAsync(ct)).Value.Content;
                await storage.DeadLetterContainer.GetBlobClient("bodies/" + claimCheck).UploadAsync(content, overwrite: true, ct);
                bodyBlob = "bodies/" + claimCheck;
            }
            catch (RequestFailedException ex) when (ex.Status == 404)
            {
                // Nothing to keep: the reason says the body is missing.
            }
        }

        var text = System.Text.Unicode.Utf8.IsValid(message.Span) ? Encoding.UTF8.GetString(message.Span) : null;
        var letter = new DeadLetter(1, reason, envelope?.DeliveryId, messageId, dequeueCount, now, text, text is null ? Convert.ToBase64String(message.Span) : null, null, bodyBlob)
        {
            Tenant = envelope?.Tenant,
        };
        var bytes = letter.ToUtf8();
        if (bytes.Length > MaxMessageBytes)
        {
            // The reason stays in the queue, the original message moves to a blob named by the message id.
            var blobName = $"messages/{messageId}";
            await storage.DeadLetterContainer.GetBlobClient(blobName).UploadAsync(new BinaryData(message), overwrite: true, ct);
            letter = letter with { Message = null, MessageBase64 = null, MessageBlob = blobName, Reason = Clip(reason, 4096) };
            bytes = letter.ToUtf8();
        }

        await storage.DeadLetterQueue.SendMessageAsync(new BinaryData(bytes), visibilityTimeout: null, timeToLive: NeverExpires, ct);
        return letter;
    }

    private static string Clip(string text, int max) => text.Length <= max ? text : text[..max];

    /// <summary>The marker that a claim-check delivery was applied (and its body deleted).</summary>
    public static string AppliedMarkerName(string deliveryId) => "applied/" + deliveryId;

    /// <summary>The marker of a tenant's claim-check delivery: per tenant, like its body (<see cref="WebhookEnvelope.BodyBlobName(string?, string)"/>).</summary>
    public static string AppliedMarkerName(string? tenant, string deliveryId) =>
        Tenants.TenantIds.Named(tenant) is { } named ? $"applied/{named}/{deliveryId}" : AppliedMarkerName(deliveryId);

    /// <summary>
    /// After a claim-check delivery is applied: mark it applied, then delete its body (a full personal body need not
    /// wait 30 days for the lifecycle rule, which stays as the backstop). The marker lets a second message of the same
    /// body (a concurrent duplicate) find out it has nothing left to do instead of dead-lettering a missing body.
    /// </summary>
    public async Task DeleteClaimCheckAsync(WebhookEnvelope envelope, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        if (envelope.BodyBlob is null)
        {
            return;
        }

        await storage.BodyContainer.GetBlobClient(AppliedMarkerName(envelope.Tenant, envelope.DeliveryId)).UploadAsync(BinaryData.Empty, overwrite: true, ct);
        await storage.BodyContainer.GetBlobClient(envelope.BodyBlob).DeleteIfExistsAsync(cancellationToken: ct);
    }

    /// <summary>
    /// The exact original body of an envelope, from the message or its claim-check blob; null when the claim check is
    /// gone because the same delivery was already applied.
    /// </summary>
    public async Task<byte[]?> ReadBodyAsync(WebhookEnvelope envelope, CancellationToken ct)
    {
        if (envelope.Body is not null)
        {
            return Encoding.UTF8.GetBytes(envelope.Body);
        }

        BlobDownloadResult download;
        try
        {
            download = (await storage.BodyContainer.GetBlobClient(envelope.BodyBlob).DownloadContentAsync(ct)).Value;
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            if ((await storage.BodyContainer.GetBlobClient(AppliedMarkerName(envelope.Tenant, envelope.DeliveryId)).ExistsAsync(ct)).Value)
            {
                return null;
            }

            throw new InvalidEnvelopeException($"claim-check blob {envelope.BodyBlob} does not exist", ex);
        }

        var bytes = download.Content.ToArray();
        if (DeliveryIdOf(bytes) != envelope.QueuedBodyHash)
        {
            throw new InvalidEnvelopeException($"claim-check blob {envelope.BodyBlob} does not hold the body of delivery {envelope.DeliveryId}");
        }

        return bytes;
    }

    /// <summary>Creates the queues (webhooks, dead letters, series look-ups, their poison queues) and the containers once per process (infra creates them in Azure).</summary>
    public Task EnsureCreatedAsync(CancellationToken ct) => _created.EnsureAsync(ct);
}
