using AskPro.Functions.Calcom;
using AskPro.Functions.Storage;
using Azure.Storage.Queues.Models;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging;

namespace AskPro.Functions.Queueing;

/// <summary>Queue side: takes one verified delivery off <c>calcom-webhooks</c> and applies it.</summary>
public sealed partial class ApplyCalcomEventFunction(WebhookQueue queue, ILogger<ApplyCalcomEventFunction> logger)
{
    [Function(nameof(ApplyCalcomEvent))]
    public async Task ApplyCalcomEvent(
        [QueueTrigger(StorageNames.WebhookQueue, Connection = StorageNames.Connection)] QueueMessage message,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        WebhookEnvelope envelope;
        byte[] body;
        try
        {
            envelope = WebhookEnvelope.Parse(message.Body.ToMemory().Span);
            body = await queue.ReadBodyAsync(envelope, cancellationToken);
        }
        catch (InvalidEnvelopeException ex)
        {
            Log.Unreadable(logger, message.MessageId, message.DequeueCount, ex.Message);
            throw;
        }

        var read = CalcomWebhookReader.Read(body);
        Log.Received(logger, envelope.DeliveryId, envelope.TriggerEvent, envelope.Uid, read.Kind, message.DequeueCount);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 2000, Level = LogLevel.Information,
            Message = "Queued delivery {DeliveryId} trigger {TriggerEvent} uid {Uid} read as {Kind} (dequeue {DequeueCount})")]
        public static partial void Received(ILogger logger, string deliveryId, string triggerEvent, string uid, WebhookKind kind, long dequeueCount);

        [LoggerMessage(EventId = 2001, Level = LogLevel.Error,
            Message = "Queue message {MessageId} (dequeue {DequeueCount}) can never be applied: {Reason}")]
        public static partial void Unreadable(ILogger logger, string messageId, long dequeueCount, string reason);
    }
}
