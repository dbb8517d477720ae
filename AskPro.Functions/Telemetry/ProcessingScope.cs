using System.Collections;
using AskPro.Functions.Appointments;
using AskPro.Functions.Queueing;
using Microsoft.Extensions.Logging;

namespace AskPro.Functions.Telemetry;

/// <summary>
/// The log scope of one queue message: its fields become dimensions of every line written while it is processed
/// (Application Insights' <c>customDimensions</c>, the console's scope, a test's captured state), including lines of
/// the store that know nothing of deliveries. Ids only, never a booking uid.
/// </summary>
public sealed class ProcessingScope : IReadOnlyList<KeyValuePair<string, object?>>
{
    private readonly KeyValuePair<string, object?>[] _fields;

    private ProcessingScope(KeyValuePair<string, object?>[] fields) => _fields = fields;

    public static IDisposable? Begin(ILogger logger, string? deliveryId, string? triggerEvent, string messageId, long dequeueCount, string? tenantId = null)
    {
        ArgumentNullException.ThrowIfNull(logger);
        var fields = new List<KeyValuePair<string, object?>>(5) { new("MessageId", messageId), new("DequeueCount", dequeueCount) };
        if (tenantId is not null)
        {
            // docs/telemetry-and-privacy.md: every line of a message names its tenant (a dimension, not personal data).
            fields.Add(new("TenantId", tenantId));
        }

        if (deliveryId is not null)
        {
            fields.Add(new("DeliveryId", deliveryId));
        }

        if (triggerEvent is not null)
        {
            fields.Add(new("TriggerEvent", triggerEvent));
        }

        return logger.BeginScope(new ProcessingScope([.. fields]));
    }

    public KeyValuePair<string, object?> this[int index] => _fields[index];
    public int Count => _fields.Length;
    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => ((IEnumerable<KeyValuePair<string, object?>>)_fields).GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    public override string ToString() => string.Join(", ", _fields.Select(f => $"{f.Key}:{f.Value}"));
}

/// <summary>Low-cardinality reason kinds of dead letters: a metric dimension and a log field (the reason text has ids).</summary>
public static class DeadLetterKinds
{
    public const string NotAnEnvelope = "not_an_envelope";
    public const string InvalidMessage = "invalid_message";
    public const string Unstorable = "unstorable";
    public const string StoreRejected = "store_rejected";
    public const string TransientTimeout = "transient_timeout";
    public const string RetriesExhausted = "retries_exhausted";

    public static string Of(Exception ex) => ex switch
    {
        InvalidEnvelopeException => InvalidMessage,
        UnstorableEventException => Unstorable,
        _ => StoreRejected,
    };
}
