using System.Text;
using AskPro.Functions.Queueing;
using AskPro.Functions.Storage;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;

namespace AskPro.Functions.Tests.Infrastructure;

/// <summary>
/// Reads the webhook queue the way the Functions host does (<c>messageEncoding: base64</c> in host.json): raw message
/// text, Base64-decoded, parsed as an envelope. Deliberately not through the app's own clients.
/// </summary>
public sealed class QueueProbe(string connectionString)
{
    private readonly QueueClient _raw = new(connectionString, StorageNames.WebhookQueue, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.None });

    public BlobContainerClient Bodies { get; } = new(connectionString, StorageNames.BodyContainer);

    /// <summary>Empties the queue (tests in the Azurite collection run one at a time, so each starts clean).</summary>
    public async Task ClearAsync()
    {
        await _raw.CreateIfNotExistsAsync();
        await _raw.ClearMessagesAsync();
    }

    /// <summary>Every message now on the queue, as the decoded bytes the queue trigger would get.</summary>
    public async Task<IReadOnlyList<byte[]>> PeekAllAsync()
    {
        if (!(await _raw.ExistsAsync()).Value)
        {
            return [];
        }

        var messages = (await _raw.PeekMessagesAsync(32)).Value;
        return messages.Select(m => Convert.FromBase64String(m.MessageText)).ToList();
    }

    public async Task<IReadOnlyList<WebhookEnvelope>> EnvelopesAsync() =>
        (await PeekAllAsync()).Select(bytes => WebhookEnvelope.Parse(bytes)).ToList();

    public async Task<WebhookEnvelope> SingleEnvelopeAsync()
    {
        var all = await PeekAllAsync();
        var only = Assert.Single(all);
        return WebhookEnvelope.Parse(only);
    }

    public static string Text(byte[] bytes) => Encoding.UTF8.GetString(bytes);
}
