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

    private readonly CreateOnce _created = new(async ct =>
    {
        await storage.WebhookQueue.CreateIfNotExistsAsync(cancellationToken: ct);
        await storage.Queues.GetQueueClient(StorageNames.WebhookPoisonQueue).CreateIfNotExistsAsync(cancellationToken: ct);
        await storage.BodyContainer.CreateIfNotExistsAsync(cancellationToken: ct);
    });

    public static string DeliveryIdOf(ReadOnlySpan<byte> body) => Convert.ToHexStringLower(SHA256.HashData(body));

    public async Task<WebhookEnvelope> EnqueueAsync(ReadOnlyMemory<byte> body, string triggerEvent, string uid, string? rescheduleUid, DateTimeOffset receivedAt, CancellationToken ct)
    {
        await EnsureCreatedAsync(ct);
        var deliveryId = DeliveryIdOf(body.Span);
        var envelope = new WebhookEnvelope(WebhookEnvelope.CurrentVersion, deliveryId, receivedAt, triggerEvent, uid, rescheduleUid, body.Length, Encoding.UTF8.GetString(body.Span), null);
        var message = envelope.ToUtf8();
        if (message.Length > MaxMessageBytes)
        {
            // The blob is named by content hash, so a retry rewrites the same bytes and never trips on a leftover.
            var blobName = WebhookEnvelope.BodyBlobName(deliveryId);
            await storage.BodyContainer.GetBlobClient(blobName).UploadAsync(new BinaryData(body), overwrite: true, ct);
            envelope = envelope with { Body = null, BodyBlob = blobName };
            message = envelope.ToUtf8();
        }

        await storage.WebhookQueue.SendMessageAsync(new BinaryData(message), cancellationToken: ct);
        return envelope;
    }

    /// <summary>The exact original body of an envelope, from the message or its claim-check blob.</summary>
    public async Task<byte[]> ReadBodyAsync(WebhookEnvelope envelope, CancellationToken ct)
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
            throw new InvalidEnvelopeException($"claim-check blob {envelope.BodyBlob} does not exist", ex);
        }

        var bytes = download.Content.ToArray();
        if (DeliveryIdOf(bytes) != envelope.DeliveryId)
        {
            throw new InvalidEnvelopeException($"claim-check blob {envelope.BodyBlob} does not hold the body of delivery {envelope.DeliveryId}");
        }

        return bytes;
    }

    /// <summary>Creates the queue, its poison queue and the claim-check container once per process (infra creates them in Azure).</summary>
    public Task EnsureCreatedAsync(CancellationToken ct) => _created.EnsureAsync(ct);
}
