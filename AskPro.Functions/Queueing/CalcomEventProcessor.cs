using AskPro.Functions.Appointments;
using AskPro.Functions.Calcom;
using AskPro.Functions.Logging;
using AskPro.Functions.Reconciliation;
using AskPro.Functions.Security;
using AskPro.Functions.Storage;
using AskPro.Functions.Telemetry;
using Azure;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AskPro.Functions.Queueing;

/// <summary>
/// What the queue function does with one message, free of Functions types so the WebJobs queue listener in the
/// tests (the host's own retry and poison handling) can drive exactly this code. It never leaves a message to the
/// host's poison queue, whose copies expire after 7 days (the SDK sends them with the service's default
/// time-to-live):
/// <list type="bullet">
/// <item>a message that can never be applied (not an envelope, missing claim check, a body the store refuses) is
/// dead-lettered at once, with the reason, in <c>calcom-webhooks-deadletter</c>, which never expires;</item>
/// <item>a transient storage failure re-sends the message with a growing delay and completes the original, so it
/// costs no dequeue count; after <see cref="ApplyQueueOptions.TransientRetryFor"/> it is dead-lettered;</item>
/// <item>anything else throws, so the host retries; on the last try (<see cref="ApplyQueueOptions.MaxDequeueCount"/>)
/// it is dead-lettered instead.</item>
/// </list>
/// Returning normally means the message is applied, deferred or dead-lettered, and the host may delete it. A
/// dead letter or re-send that cannot be written throws: the original stays, and the host tries again.
/// </summary>
public sealed partial class CalcomEventProcessor(
    WebhookQueue queue,
    AppointmentTableStore store,
    AskProMetadataProof proof,
    SeriesFollowUp series,
    IOptions<ApplyQueueOptions> options,
    TimeProvider time,
    AskProMetrics metrics,
    ILogger<CalcomEventProcessor> logger)
{
    public async Task<ApplyResult?> ProcessAsync(BinaryData message, string messageId, long dequeueCount, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(message);
        var started = time.GetTimestamp();
        var settings = options.Value;
        WebhookEnvelope envelope;
        try
        {
            envelope = WebhookEnvelope.Parse(message.ToMemory().Span);
        }
        catch (InvalidEnvelopeException ex)
        {
            using (ProcessingScope.Begin(logger, null, null, messageId, dequeueCount))
            {
                await DeadLetterAsync(message, messageId, dequeueCount, null, DeadLetterKinds.NotAnEnvelope, ex.Message, ct);
            }

            return null;
        }

        // Every line written while this message is processed (the store's too) carries these fields as dimensions.
        using var scope = ProcessingScope.Begin(logger, envelope.DeliveryId, envelope.TriggerEvent, messageId, dequeueCount);

        try
        {
            var body = await queue.ReadBodyAsync(envelope, ct);
            if (body is null)
            {
                Log.AlreadyApplied(logger, envelope.DeliveryId, envelope.TriggerEvent, messageId);
                return null;
            }

            var read = CalcomWebhookReader.Read(body);
            if (read.Kind is WebhookKind.NotJson or WebhookKind.Invalid)
            {
                throw new InvalidEnvelopeException($"queued body of delivery {envelope.DeliveryId} is not an applicable webhook: {string.Join("; ", read.Errors)}");
            }

            if (envelope.TriggerEvent == SeriesFollowUp.Trigger)
            {
                // A lookup a series occurrence's delivery queued: repair every occurrence Cal.com changed with it.
                await series.RunAsync(envelope.Uid, ct);
                return null;
            }

            if (read.Kind != WebhookKind.Booking || read.Event is null)
            {
                Log.NotApplied(logger, envelope.DeliveryId, envelope.TriggerEvent, read.Kind);
                metrics.Delivery("not_applied", envelope.TriggerEvent);
                return null;
            }

            // Only what AskPro's booking code signed may link to an AskPro appointment and company.
            var result = await store.ApplyAsync(proof.Apply(read.Event, body), new ApplySource(envelope.DeliveryId) { PayloadVersion = envelope.PayloadVersion ?? read.PayloadVersion }, ct);
            await DeleteClaimCheckAsync(envelope, ct);
            // A cancel, reject or confirm of one occurrence may have changed the whole series with this one webhook. On a
            // retry the lookup is queued again even if the apply changed nothing now: the first try may have failed after it.
            if (result.Outcome != ApplyOutcome.Erased && SeriesFollowUp.Wants(read.Event) && (result.Outcome != ApplyOutcome.Unchanged || dequeueCount > 1 || envelope.TransientFailures > 0))
            {
                await series.ScheduleAsync(read.Event, envelope.DeliveryId, ct);
            }

            var durationMs = time.GetElapsedTime(started).TotalMilliseconds;
            var queueAge = time.GetUtcNow() - envelope.ReceivedAt;
            var outcome = HistoryOutcome.Of(result);
            Log.Applied(logger, envelope.DeliveryId, envelope.TriggerEvent, UidPseudonym.Of(read.Event.Uid), result.AppointmentId, result.Outcome, result.Status,
                result.ConflictsWith.Count > 0, dequeueCount, envelope.TransientFailures ?? 0, durationMs, outcome, queueAge.TotalSeconds);
            metrics.Delivery(outcome, envelope.TriggerEvent);
            metrics.Applied(durationMs, queueAge, outcome);
            return result;
        }
        catch (Exception ex) when (Permanent(ex) is { } reason)
        {
            await DeadLetterAsync(message, messageId, dequeueCount, envelope, DeadLetterKinds.Of(ex), reason, ct);
            return null;
        }
        catch (Exception ex) when (TransientFailure.Is(ex, ct))
        {
            await DeferAsync(message, messageId, dequeueCount, envelope, ex, settings, ct);
            return null;
        }
        catch (Exception ex) when (!ct.IsCancellationRequested && dequeueCount >= settings.MaxDequeueCount)
        {
            // The host would move it to its poison queue now, where it would expire: keep it ourselves.
            await DeadLetterAsync(message, messageId, dequeueCount, envelope, DeadLetterKinds.RetriesExhausted,
                $"failed on all {dequeueCount} tries of delivery {envelope.DeliveryId}, last with {ex.GetType().Name}", ct);
            return null;
        }
    }

    /// <summary>Why a failure will repeat on every try, or null when it may not.</summary>
    private static string? Permanent(Exception ex) => ex switch
    {
        InvalidEnvelopeException e => e.Message,
        // The store refuses this content itself (a record too large for a row).
        UnstorableEventException e => $"the appointment store cannot hold the event: {e.Message}",
        RequestFailedException { Status: 400 or 413 } rf => $"the appointment store rejects the event (status {rf.Status}, {rf.ErrorCode ?? "no error code"})",
        _ => null,
    };

    private async Task DeferAsync(BinaryData message, string messageId, long dequeueCount, WebhookEnvelope envelope, Exception ex, ApplyQueueOptions settings, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var first = envelope.FirstFailureAt ?? now;
        var failures = (envelope.TransientFailures ?? 0) + 1;
        var status = (ex as RequestFailedException)?.Status ?? 0;
        if (now - first >= settings.TransientRetryFor)
        {
            await DeadLetterAsync(message, messageId, dequeueCount, envelope, DeadLetterKinds.TransientTimeout,
                $"storage failed transiently for {(now - first).TotalHours:F1} h ({failures} tries since {first:O}), longer than Queue__TransientRetryFor "
                + $"{settings.TransientRetryFor}; last failure {ex.GetType().Name} status {status}", ct);
            return;
        }

        var delay = settings.DelayAfter(failures);
        // Throws when storage cannot take the re-send either: then the original stays and the host retries it.
        await queue.ResendAsync(envelope with { TransientFailures = failures, FirstFailureAt = first }, delay, ct);
        metrics.Delivery("deferred", envelope.TriggerEvent);
        Log.Deferred(logger, envelope.DeliveryId, envelope.TriggerEvent, messageId, failures, ex.GetType().Name, status, delay.TotalSeconds,
            (now - envelope.ReceivedAt).TotalMinutes);
    }

    private async Task DeleteClaimCheckAsync(WebhookEnvelope envelope, CancellationToken ct)
    {
        try
        {
            await queue.DeleteClaimCheckAsync(envelope, ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            // Applied is applied: the lifecycle rule deletes the body later.
            Log.ClaimCheckKept(logger, envelope.DeliveryId, ex.GetType().Name);
        }
    }

    private async Task DeadLetterAsync(BinaryData message, string messageId, long dequeueCount, WebhookEnvelope? envelope, string reasonKind, string reason, CancellationToken ct)
    {
        await queue.DeadLetterAsync(message.ToMemory(), messageId, dequeueCount, envelope, reason, time.GetUtcNow(), ct);
        Log.DeadLettered(logger, messageId, envelope?.DeliveryId, dequeueCount, reason, reasonKind);
        metrics.DeadLettered(reasonKind);
        if (envelope is not null)
        {
            metrics.Delivery("dead_lettered", envelope.TriggerEvent);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 2000, Level = LogLevel.Information,
            Message = "Delivery {DeliveryId} {TriggerEvent} uid {UidPseudonym} → appointment {AppointmentId}: {Outcome}, status {Status}, conflict {HasConflict} (history {HistoryOutcome}, dequeue {DequeueCount}, transient failures {TransientFailures}, {DurationMs:F1} ms, queued {QueueAgeSeconds:F1} s)")]
        public static partial void Applied(ILogger logger, string deliveryId, string triggerEvent, string uidPseudonym, string appointmentId, ApplyOutcome outcome, string status, bool hasConflict, long dequeueCount, int transientFailures, double durationMs, string historyOutcome, double queueAgeSeconds);

        [LoggerMessage(EventId = 2001, Level = LogLevel.Error,
            Message = "Queue message {MessageId} of delivery {DeliveryId} (dequeue {DequeueCount}) can never be applied and was moved to the dead-letter queue ({ReasonKind}): {Reason}")]
        public static partial void DeadLettered(ILogger logger, string messageId, string? deliveryId, long dequeueCount, string reason, string reasonKind);

        [LoggerMessage(EventId = 2002, Level = LogLevel.Information, Message = "Delivery {DeliveryId} {TriggerEvent} read as {Kind}: nothing to apply")]
        public static partial void NotApplied(ILogger logger, string deliveryId, string triggerEvent, WebhookKind kind);

        [LoggerMessage(EventId = 2004, Level = LogLevel.Information, Message = "Delivery {DeliveryId} {TriggerEvent} (message {MessageId}) was already applied by another message of the same body: nothing to do")]
        public static partial void AlreadyApplied(ILogger logger, string deliveryId, string triggerEvent, string messageId);

        [LoggerMessage(EventId = 2005, Level = LogLevel.Warning, Message = "Delivery {DeliveryId} is applied, but its claim-check body could not be deleted ({ExceptionType}): the lifecycle rule will")]
        public static partial void ClaimCheckKept(ILogger logger, string deliveryId, string exceptionType);

        [LoggerMessage(EventId = 2003, Level = LogLevel.Warning,
            Message = "Delivery {DeliveryId} {TriggerEvent} (message {MessageId}) deferred after transient failure {TransientFailures} ({ExceptionType}, status {StorageStatus}): retry in {DelaySeconds:F0} s, accepted {AgeMinutes:F0} min ago")]
        public static partial void Deferred(ILogger logger, string deliveryId, string triggerEvent, string messageId, int transientFailures, string exceptionType, int storageStatus, double delaySeconds, double ageMinutes);
    }
}
