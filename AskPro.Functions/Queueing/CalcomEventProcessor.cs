using AskPro.Functions.Appointments;
using AskPro.Functions.Calcom;
using Azure;
using Microsoft.Extensions.Logging;

namespace AskPro.Functions.Queueing;

/// <summary>
/// What the queue function does with one message, free of Functions types so the WebJobs queue listener in the
/// tests (the host's own retry and poison handling) can drive exactly this code.
/// A message that can never be applied throws <see cref="InvalidEnvelopeException"/>; the host retries it
/// <c>maxDequeueCount</c> times and then moves it to the poison queue. Transient storage failures throw too and are retried.
/// </summary>
public sealed partial class CalcomEventProcessor(WebhookQueue queue, AppointmentTableStore store, TimeProvider time, ILogger<CalcomEventProcessor> logger)
{
    public async Task<ApplyResult?> ProcessAsync(BinaryData message, string messageId, long dequeueCount, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(message);
        var started = time.GetTimestamp();
        WebhookEnvelope envelope;
        WebhookReadResult read;
        try
        {
            envelope = WebhookEnvelope.Parse(message.ToMemory().Span);
            var body = await queue.ReadBodyAsync(envelope, ct);
            read = CalcomWebhookReader.Read(body);
            if (read.Kind is WebhookKind.NotJson or WebhookKind.Invalid)
            {
                throw new InvalidEnvelopeException($"queued body of delivery {envelope.DeliveryId} is not an applicable webhook: {string.Join("; ", read.Errors)}");
            }
        }
        catch (InvalidEnvelopeException ex)
        {
            Log.Unreadable(logger, messageId, dequeueCount, ex.Message);
            throw;
        }

        if (read.Kind != WebhookKind.Booking || read.Event is null)
        {
            Log.NotApplied(logger, envelope.DeliveryId, envelope.TriggerEvent, read.Kind);
            return null;
        }

        ApplyResult result;
        try
        {
            result = await store.ApplyAsync(read.Event, ct);
        }
        catch (Exception ex) when (ex is UnstorableEventException or RequestFailedException { Status: 400 or 413 })
        {
            // The store refuses this content itself (a record too large for a row): every retry would fail the same
            // way, so say why and let it end in the poison queue rather than pass as transient.
            var reason = ex is RequestFailedException rf
                ? $"the appointment store rejects the event of delivery {envelope.DeliveryId} (status {rf.Status}, {rf.ErrorCode ?? "no error code"})"
                : $"the appointment store cannot hold the event of delivery {envelope.DeliveryId}: {ex.Message}";
            Log.Unreadable(logger, messageId, dequeueCount, reason);
            throw new InvalidEnvelopeException(reason, ex);
        }

        Log.Applied(logger, envelope.DeliveryId, envelope.TriggerEvent, read.Event.Uid, result.AppointmentId, result.Outcome, result.Status,
            result.ConflictsWith.Count > 0, dequeueCount, time.GetElapsedTime(started).TotalMilliseconds);
        return result;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 2000, Level = LogLevel.Information,
            Message = "Delivery {DeliveryId} {TriggerEvent} uid {Uid} → appointment {AppointmentId}: {Outcome}, status {Status}, conflict {HasConflict} (dequeue {DequeueCount}, {DurationMs:F1} ms)")]
        public static partial void Applied(ILogger logger, string deliveryId, string triggerEvent, string uid, string appointmentId, ApplyOutcome outcome, string status, bool hasConflict, long dequeueCount, double durationMs);

        [LoggerMessage(EventId = 2001, Level = LogLevel.Error,
            Message = "Queue message {MessageId} (dequeue {DequeueCount}) can never be applied and will end in the poison queue: {Reason}")]
        public static partial void Unreadable(ILogger logger, string messageId, long dequeueCount, string reason);

        [LoggerMessage(EventId = 2002, Level = LogLevel.Information, Message = "Delivery {DeliveryId} {TriggerEvent} read as {Kind}: nothing to apply")]
        public static partial void NotApplied(ILogger logger, string deliveryId, string triggerEvent, WebhookKind kind);
    }
}
