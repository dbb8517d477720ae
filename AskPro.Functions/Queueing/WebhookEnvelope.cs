using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace AskPro.Functions.Queueing;

/// <summary>
/// What the HTTP function puts on the queue: the verified delivery, so the queue function never re-verifies.
/// The original body travels as <see cref="Body"/> (the exact text), or, when it would not fit one queue message,
/// in the blob <see cref="BodyBlob"/> (claim check). <see cref="DeliveryId"/> is the SHA-256 of the body bytes.
/// </summary>
public sealed record WebhookEnvelope(
    [property: JsonPropertyName("v")] int Version,
    [property: JsonPropertyName("deliveryId")] string DeliveryId,
    [property: JsonPropertyName("receivedAt")] DateTimeOffset ReceivedAt,
    [property: JsonPropertyName("triggerEvent")] string TriggerEvent,
    [property: JsonPropertyName("uid")] string Uid,
    [property: JsonPropertyName("rescheduleUid")] string? RescheduleUid,
    [property: JsonPropertyName("bodyLength")] int BodyLength,
    [property: JsonPropertyName("body")] string? Body,
    [property: JsonPropertyName("bodyBlob")] string? BodyBlob)
{
    public const int CurrentVersion = 1;

    /// <summary>Transient failures so far (null: none). Carried by a re-sent message instead of the host's dequeue count.</summary>
    [JsonPropertyName("transientFailures")]
    public int? TransientFailures { get; init; }

    /// <summary>When the first transient failure happened: retrying stops <c>Queue__TransientRetryFor</c> after it.</summary>
    [JsonPropertyName("firstFailureAt")]
    public DateTimeOffset? FirstFailureAt { get; init; }

    /// <summary>
    /// The tenant whose route and secret proved the delivery (docs/tenants.md#what-a-tenant-is); null: the default tenant
    /// (every message written before tenants, and every delivery to <c>POST /api/webhooks/calcom</c>).
    /// </summary>
    [JsonPropertyName("tenant")]
    public string? Tenant { get; init; }

    /// <summary>The tenant id the message belongs to, the default one when none is named.</summary>
    [JsonIgnore]
    public string TenantId => Tenant ?? Tenants.TenantIds.Default;

    /// <summary>Cal.com's payload version of the delivery (<c>X-Cal-Webhook-Version</c>, or the body's own field); null: not said.</summary>
    [JsonPropertyName("payloadVersion")]
    public string? PayloadVersion { get; init; }

    /// <summary>
    /// SHA-256 of the queued body when it is not the body received (iCalendar content removed at intake, see
    /// <c>Calcom/CalendarContent</c>); null when the queued body is the received one, whose hash is the delivery id.
    /// </summary>
    [JsonPropertyName("bodySha256")]
    public string? BodySha256 { get; init; }

    /// <summary>What the queued body's SHA-256 must be (claim-check integrity).</summary>
    [JsonIgnore]
    public string QueuedBodyHash => BodySha256 ?? DeliveryId;

    private static readonly JsonSerializerOptions Options = new(EnvelopeJsonContext.Default.Options)
    {
        // Umlauts and quotes stay as they are: smaller messages, same text.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>The one name a claim-check blob has: the delivery id, i.e. the body's hash.</summary>
    public static string BodyBlobName(string deliveryId) => deliveryId + ".json";

    /// <summary>
    /// A tenant's claim check: under its own prefix, since the same bytes proven by two tenants are two deliveries and
    /// the first one applied must not take the second one's body (docs/tenants.md#routes).
    /// </summary>
    public static string BodyBlobName(string? tenant, string deliveryId) =>
        Tenants.TenantIds.Named(tenant) is { } named ? $"{named}/{BodyBlobName(deliveryId)}" : BodyBlobName(deliveryId);

    public byte[] ToUtf8() => JsonSerializer.SerializeToUtf8Bytes(this, Options);

    /// <summary>Reads an envelope; throws <see cref="InvalidEnvelopeException"/> when it is not one.</summary>
    public static WebhookEnvelope Parse(ReadOnlySpan<byte> utf8)
    {
        WebhookEnvelope? envelope;
        try
        {
            envelope = JsonSerializer.Deserialize<WebhookEnvelope>(utf8, Options);
        }
        catch (JsonException ex)
        {
            throw new InvalidEnvelopeException($"message is not a webhook envelope: {ex.Message}", ex);
        }

        if (envelope is null || envelope.Version != CurrentVersion || string.IsNullOrEmpty(envelope.DeliveryId)
            || string.IsNullOrEmpty(envelope.TriggerEvent) || (envelope.Body is null) == (envelope.BodyBlob is null)
            || (envelope.Tenant is not null && !Tenants.TenantIds.IsValid(envelope.Tenant)))
        {
            throw new InvalidEnvelopeException("message is not a version 1 webhook envelope with exactly one of body and bodyBlob and a valid tenant id");
        }

        // The claim check is always named by the body's hash (WebhookQueue.EnqueueAsync); any other name is not ours
        // and may not even be a valid blob name, which would fail every retry as if storage were down.
        if (envelope.BodyBlob is not null && envelope.BodyBlob != BodyBlobName(envelope.Tenant, envelope.DeliveryId))
        {
            throw new InvalidEnvelopeException($"claim-check blob name {envelope.BodyBlob} is not the name of delivery {envelope.DeliveryId}'s body");
        }

        return envelope;
    }
}

/// <summary>What intake knew of a delivery before minimising its body: the id (SHA-256 of the bytes received) and Cal.com's payload version.</summary>
public sealed record ReceivedDelivery(string DeliveryId, string? PayloadVersion)
{
    /// <summary>The tenant that proved it; null or <c>default</c>: the default tenant (the envelope then names none).</summary>
    public string? Tenant { get; init; }
}

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(WebhookEnvelope))]
internal sealed partial class EnvelopeJsonContext : JsonSerializerContext;

/// <summary>A queue message that can never be applied, however often it is retried.</summary>
public sealed class InvalidEnvelopeException : Exception
{
    public InvalidEnvelopeException(string message) : base(message) { }
    public InvalidEnvelopeException(string message, Exception inner) : base(message, inner) { }
    public InvalidEnvelopeException() { }
}
