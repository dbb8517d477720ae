using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace AskPro.Functions.Queueing;

/// <summary>
/// A message the processor gave up on, in <c>calcom-webhooks-deadletter</c> (never expires). It says why and keeps the
/// original message: <see cref="Message"/> is its exact text (or <see cref="MessageBase64"/> when it was not UTF-8),
/// or, when the whole dead letter would not fit a queue message, <see cref="MessageBlob"/> names the copy in
/// <c>calcom-dead-letters</c>. A claim-check body is copied there too (<see cref="BodyBlob"/>), because the body
/// container's lifecycle rule deletes bodies. Replaying = sending <see cref="Message"/> back to <c>calcom-webhooks</c>.
/// </summary>
public sealed record DeadLetter(
    [property: JsonPropertyName("v")] int Version,
    [property: JsonPropertyName("reason")] string Reason,
    [property: JsonPropertyName("deliveryId")] string? DeliveryId,
    [property: JsonPropertyName("messageId")] string MessageId,
    [property: JsonPropertyName("dequeueCount")] long DequeueCount,
    [property: JsonPropertyName("deadLetteredAt")] DateTimeOffset DeadLetteredAt,
    [property: JsonPropertyName("message")] string? Message,
    [property: JsonPropertyName("messageBase64")] string? MessageBase64,
    [property: JsonPropertyName("messageBlob")] string? MessageBlob,
    [property: JsonPropertyName("bodyBlob")] string? BodyBlob)
{
    /// <summary>The tenant whose delivery this was (docs/tenants.md#what-a-tenant-is); absent: the default tenant (or not an envelope).</summary>
    [JsonPropertyName("tenant")]
    public string? Tenant { get; init; }

    private static readonly JsonSerializerOptions Options = new(DeadLetterJsonContext.Default.Options)
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public byte[] ToUtf8() => JsonSerializer.SerializeToUtf8Bytes(this, Options);

    public static DeadLetter Parse(ReadOnlySpan<byte> utf8) =>
        JsonSerializer.Deserialize<DeadLetter>(utf8, Options) ?? throw new JsonException("not a dead letter");
}

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(DeadLetter))]
internal sealed partial class DeadLetterJsonContext : JsonSerializerContext;
