using AskPro.Functions.Storage;
using Azure.Storage.Queues.Models;
using Microsoft.Azure.Functions.Worker;

namespace AskPro.Functions.Reconciliation;

/// <summary>Look-up side: one series look-up off <c>calcom-webhooks-series</c>, read from Cal.com's API and repaired.</summary>
public sealed class SeriesLookupFunction(SeriesFollowUp series)
{
    [Function(nameof(RunSeriesLookup))]
    public async Task RunSeriesLookup(
        [QueueTrigger(StorageNames.SeriesLookupQueue, Connection = StorageNames.Connection)] QueueMessage message,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        await series.ProcessAsync(message.Body, message.MessageId, message.DequeueCount, cancellationToken);
    }
}
