using AskPro.Functions.Appointments;
using AskPro.Functions.Calcom;
using AskPro.Functions.Logging;
using AskPro.Functions.Reconciliation;
using AskPro.Functions.Security;
using AskPro.Functions.Storage;
using AskPro.Functions.Telemetry;
using AskPro.Functions.Tenants;
using Azure;
using Azure.Storage.Queues.Models;
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
/// costs no dequeue count (<see cref="TransientRetry"/>); after <see cref="ApplyQueueOptions.TransientRetryFor"/> it is dead-lettered;</item>
/// <item>anything else throws, so the host retries; on the last try (<see cref="ApplyQueueOptions.MaxDequeueCount"/>)
/// it is dead-lettered instead.</item>
/// </list>
/// When that re-send or dead letter cannot be written either (an outage of the whole storage account), the message
/// stays where it is: the processor hides it again with a growing delay (an update through its pop receipt, after
/// which the host's delete fails harmlessly), and when even that fails it throws, so the host releases it. host.json's
/// <c>maxDequeueCount</c> is set so high that the host never poisons a message (the SDK poisons at that count whatever
/// the function did), so however long the outage lasts, the delivery stays in a queue whose messages never expire.
/// Returning normally means the message is applied, deferred, dead-lettered or held, and the host may delete it.
/// </summary>
public sealed partial class CalcomEventProcessor(
    WebhookQueue queue,
    AppointmentTableStore store,
    AskProMetadataProof proof,
    SeriesFollowUp series,
    ApplyGate gate,
    ITenantDirectory tenants,
    IOptions<ApplyQueueOptions> options,
    TimeProvider time,
    AskProMetrics metrics,
    ILogger<CalcomEventProcessor> logger)
{
    /// <summary>One message as the queue trigger hands it over: its pop receipt lets the processor keep it in the queue.</summary>
    public Task<ApplyResult?> ProcessAsync(QueueMessage message, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(message);
        return ProcessAsync(message.Body, new QueuedMessage(message.MessageId, message.PopReceipt, message.DequeueCount), ct);
    }

    /// <summary>A message without its pop receipt (tests, replays): when nothing can be written it throws, so the host keeps it.</summary>
    public Task<ApplyResult?> ProcessAsync(BinaryData message, string messageId, long dequeueCount, CancellationToken ct) =>
        ProcessAsync(message, new QueuedMessage(messageId, null, dequeueCount), ct);

    private async Task<ApplyResult?> ProcessAsync(BinaryData message, QueuedMessage queued, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(message);
        var (messageId, _, dequeueCount) = queued;
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
                await KeepAsync(queued, null, ex, ct, () => DeadLetterAsync(message, messageId, dequeueCount, null, DeadLetterKinds.NotAnEnvelope, ex.Message, ct));
            }

            return null;
        }

        // Every line written while this message is processed (the store's too) carries these fields as dimensions.
        using var scope = ProcessingScope.Begin(logger, envelope.DeliveryId, envelope.TriggerEvent, messageId, dequeueCount, envelope.TenantId);

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
                // A look-up an earlier version queued here: it runs on its own queue, never in the apply path.
                await series.ScheduleAsync(new TenantRows(envelope.TenantId), envelope.Uid, SeriesFollowUp.Trigger, envelope.DeliveryId, ct);
                return null;
            }

            if (read.Kind != WebhookKind.Booking || read.Event is null)
            {
                Log.NotApplied(logger, envelope.DeliveryId, envelope.TriggerEvent, read.Kind);
                metrics.Delivery("not_applied", envelope.TriggerEvent, envelope.TenantId);
                return null;
            }

            // The tenant was proven at intake (its route and secret). One disabled since is still applied to its own
            // partition: nothing accepted is lost; only its company, which the directory no longer serves, is left out.
            var tenant = await tenants.FindAsync(envelope.TenantId, ct) is { } found ? found.Rows : new TenantRows(envelope.TenantId);
            // Only what AskPro's booking code signed may link to an AskPro appointment and company.
            ApplyResult result;
            // Workers of this instance take turns on a booking or calendar instead of losing ETag races to each other.
            using (await gate.EnterAsync(ApplyGate.KeysOf(tenant, read.Event), ct))
            {
                result = await store.ApplyAsync(tenant, proof.Apply(read.Event, body), new ApplySource(envelope.DeliveryId) { PayloadVersion = envelope.PayloadVersion ?? read.PayloadVersion }, ct);
            }

            await DeleteClaimCheckAsync(envelope, ct);
            // A cancel, reject or confirm of one occurrence may have changed the whole series with this one webhook. On a
            // retry the lookup is queued again even if the apply changed nothing now: the first try may have failed after it.
            if (result.Outcome != ApplyOutcome.Erased && SeriesFollowUp.Wants(read.Event) && (result.Outcome != ApplyOutcome.Unchanged || dequeueCount > 1 || envelope.TransientFailures > 0))
            {
                await series.ScheduleAsync(tenant, read.Event, envelope.DeliveryId, ct);
            }

            var durationMs = time.GetElapsedTime(started).TotalMilliseconds;
            var queueAge = time.GetUtcNow() - envelope.ReceivedAt;
            var outcome = HistoryOutcome.Of(result);
            Log.Applied(logger, envelope.DeliveryId, envelope.TriggerEvent, UidPseudonym.Of(read.Event.Uid), result.AppointmentId, result.Outcome, result.Status,
                result.ConflictsWith.Count > 0, dequeueCount, envelope.TransientFailures ?? 0, durationMs, outcome, queueAge.TotalSeconds);
            metrics.Delivery(outcome, envelope.TriggerEvent, envelope.TenantId);
            metrics.Applied(durationMs, queueAge, outcome, envelope.TenantId);
            return result;
        }
        catch (Exception ex) when (Permanent(ex) is { } reason)
        {
            await KeepAsync(queued, envelope, ex, ct, () => DeadLetterAsync(message, messageId, dequeueCount, envelope, DeadLetterKinds.Of(ex), reason, ct));
            return null;
        }
        catch (Exception ex) when (TransientFailure.Is(ex, ct))
        {
            await KeepAsync(queued, envelope, ex, ct, () => DeferAsync(message, messageId, dequeueCount, envelope, ex, settings, ct));
            return null;
        }
        catch (Exception ex) when (!ct.IsCancellationRequested && dequeueCount >= settings.MaxDequeueCount)
        {
            // Its tries are used up: keep it in the dead-letter queue rather than retry a failure that keeps coming back.
            await KeepAsync(queued, envelope, ex, ct, () => DeadLetterAsync(message, messageId, dequeueCount, envelope, DeadLetterKinds.RetriesExhausted,
                $"failed on all {dequeueCount} tries of delivery {envelope.DeliveryId}, last with {ex.GetType().Name}", ct));
            return null;
        }
    }

    /// <summary>
    /// Runs <paramref name="write"/> (a re-send or a dead letter). When storage refuses it too, the message is held in
    /// its own queue instead: hidden again for a growing delay through its pop receipt, which also makes the host's
    /// delete after this return fail harmlessly (pop receipt mismatch). When even that is refused, the write's failure
    /// is thrown and the host releases the message for another try; host.json never lets the host poison it.
    /// </summary>
    private async Task KeepAsync(QueuedMessage queued, WebhookEnvelope? envelope, Exception cause, CancellationToken ct, Func<Task> write)
    {
        try
        {
            await write();
            return;
        }
        catch (Exception writeFailure) when (queued.PopReceipt is not null && !ct.IsCancellationRequested)
        {
            var delay = options.Value.DelayAfter((int)Math.Min(queued.DequeueCount, int.MaxValue));
            try
            {
                await queue.HoldAsync(queued.MessageId, queued.PopReceipt, delay, ct);
            }
            catch (Exception holdFailure) when (!ct.IsCancellationRequested)
            {
                Log.NothingWritable(logger, envelope?.DeliveryId, queued.MessageId, queued.DequeueCount, cause.GetType().Name, writeFailure.GetType().Name,
                    StatusOf(writeFailure), holdFailure.GetType().Name, StatusOf(holdFailure));
                metrics.Delivery("released", envelope?.TriggerEvent ?? "unknown", envelope?.TenantId ?? TenantIds.Default);
                throw;
            }

            Log.Held(logger, envelope?.DeliveryId, queued.MessageId, queued.DequeueCount, cause.GetType().Name, writeFailure.GetType().Name,
                StatusOf(writeFailure), delay.TotalSeconds);
            metrics.Delivery("held", envelope?.TriggerEvent ?? "unknown", envelope?.TenantId ?? TenantIds.Default);
        }
    }

    private static int StatusOf(Exception ex) => (ex as RequestFailedException)?.Status ?? 0;

    /// <summary>Where a message sits in its queue: the pop receipt (null outside the queue trigger) lets the processor hide it again.</summary>
    private readonly record struct QueuedMessage(string MessageId, string? PopReceipt, long DequeueCount);

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
        var step = TransientRetry.Next(settings, envelope.TransientFailures, envelope.FirstFailureAt, now);
        var status = (ex as RequestFailedException)?.Status ?? 0;
        if (step.Delay is not { } delay)
        {
            await DeadLetterAsync(message, messageId, dequeueCount, envelope, DeadLetterKinds.TransientTimeout,
                $"storage failed transiently for {step.FailingFor.TotalHours:F1} h ({step.Failures} tries since {step.FirstFailureAt:O}), longer than Queue__TransientRetryFor "
                + $"{settings.TransientRetryFor}; last failure {ex.GetType().Name} status {status}", ct);
            return;
        }

        // Throws when storage cannot take the re-send either: then the original is held in its queue (KeepAsync).
        await queue.ResendAsync(envelope with { TransientFailures = step.Failures, FirstFailureAt = step.FirstFailureAt }, delay, ct);
        metrics.Delivery("deferred", envelope.TriggerEvent, envelope.TenantId);
        Log.Deferred(logger, envelope.DeliveryId, envelope.TriggerEvent, messageId, step.Failures, ex.GetType().Name, status, delay.TotalSeconds,
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
        metrics.DeadLettered(reasonKind, envelope?.TenantId ?? TenantIds.Default);
        if (envelope is not null)
        {
            metrics.Delivery("dead_lettered", envelope.TriggerEvent, envelope.TenantId);
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

        [LoggerMessage(EventId = 2100, Level = LogLevel.Warning,
            Message = "Delivery {DeliveryId} (message {MessageId}, dequeue {DequeueCount}) failed with {ExceptionType}, and its re-send or dead letter failed too ({WriteFailure}, status {WriteStatus}): kept in its own queue, hidden for {DelaySeconds:F0} s")]
        public static partial void Held(ILogger logger, string? deliveryId, string messageId, long dequeueCount, string exceptionType, string writeFailure, int writeStatus, double delaySeconds);

        [LoggerMessage(EventId = 2101, Level = LogLevel.Error,
            Message = "Delivery {DeliveryId} (message {MessageId}, dequeue {DequeueCount}) failed with {ExceptionType}; storage took neither its re-send or dead letter ({WriteFailure}, status {WriteStatus}) nor a new visibility ({HoldFailure}, status {HoldStatus}): the host releases it for another try")]
        public static partial void NothingWritable(ILogger logger, string? deliveryId, string messageId, long dequeueCount, string exceptionType, string writeFailure, int writeStatus, string holdFailure, int holdStatus);
    }
}
