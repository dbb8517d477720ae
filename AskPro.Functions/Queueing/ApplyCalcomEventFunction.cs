using AskPro.Functions.Storage;
using Azure.Storage.Queues.Models;
using Microsoft.Azure.Functions.Worker;

namespace AskPro.Functions.Queueing;

/// <summary>Queue side: one verified delivery off <c>calcom-webhooks</c>, applied to the appointment records.</summary>
public sealed class ApplyCalcomEventFunction(CalcomEventProcessor processor)
{
    [Function(nameof(ApplyCalcomEvent))]
    public async Task ApplyCalcomEvent(
        [QueueTrigger(StorageNames.WebhookQueue, Connection = StorageNames.Connection)] QueueMessage message,
        CancellationToken cancellationToken)
    {
        await processor.ProcessAsync(message, cancellationToken);
    }
}
