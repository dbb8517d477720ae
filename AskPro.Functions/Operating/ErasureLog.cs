using Microsoft.Extensions.Logging;

namespace AskPro.Functions.Operating;

/// <summary>The lines other parts write when a tombstone stops them (pseudonyms and ids only).</summary>
public static partial class ErasureLog
{
    [LoggerMessage(EventId = 4220, Level = LogLevel.Information, Message = "Reconciliation pass {PassId}: {UidPseudonym} was erased here; Cal.com still lists it, nothing queued")]
    public static partial void SkippedByReconciliation(ILogger logger, string passId, string uidPseudonym);

    [LoggerMessage(EventId = 4221, Level = LogLevel.Information, Message = "Dead letter {QueueMessageId} of delivery {DeliveryId} dropped instead of replayed: booking {UidPseudonym} was erased in tenant {TenantId}")]
    public static partial void DroppedOnReplay(ILogger logger, string queueMessageId, string deliveryId, string uidPseudonym, string tenantId);
}
