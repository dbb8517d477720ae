using Microsoft.Extensions.Options;

namespace AskPro.Functions.Queueing;

/// <summary>
/// Settings section <c>Queue</c> (app settings <c>Queue__…</c>): how the queue function treats failures.
/// Transient storage failures are bridged by re-sending the message with a growing delay, without using up the
/// host's dequeue count; only a message that can never be applied, or one that has failed transiently for longer than
/// <see cref="TransientRetryFor"/>, is dead-lettered.
/// </summary>
public sealed class ApplyQueueOptions
{
    public const string Section = "Queue";

    /// <summary>
    /// Tries an unexpected failure gets before the processor dead-letters the message. The host's own limit
    /// (host.json's <c>extensions.queues.maxDequeueCount</c>, <see cref="HostMaxDequeueCount"/>) is set so high that it
    /// is never reached: the SDK poisons a message at that count even when the function kept it on purpose.
    /// </summary>
    public int MaxDequeueCount { get; set; } = 5;

    /// <summary>host.json's <c>maxDequeueCount</c>: the largest the SDK takes, so the host never moves a message to its poison queue.</summary>
    public const int HostMaxDequeueCount = int.MaxValue;

    /// <summary>How long a message keeps being retried after its first transient failure (<c>Queue__TransientRetryFor</c>).</summary>
    public TimeSpan TransientRetryFor { get; set; } = TimeSpan.FromHours(24);

    /// <summary>The delay before the first retry after a transient failure; doubled on every further one.</summary>
    public TimeSpan TransientRetryDelay { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The longest delay between two retries.</summary>
    public TimeSpan TransientRetryMaxDelay { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Delay before retry number <paramref name="failures"/> (1 = after the first failure).</summary>
    public TimeSpan DelayAfter(int failures)
    {
        var factor = Math.Pow(2, Math.Clamp(failures - 1, 0, 30));
        var delay = TimeSpan.FromTicks((long)Math.Min(TransientRetryDelay.Ticks * factor, TransientRetryMaxDelay.Ticks));
        return delay < TimeSpan.Zero ? TimeSpan.Zero : delay;
    }
}

internal sealed class ApplyQueueOptionsValidator : IValidateOptions<ApplyQueueOptions>
{
    public ValidateOptionsResult Validate(string? name, ApplyQueueOptions options)
    {
        var failures = new List<string>();
        if (options.MaxDequeueCount is < 1 or > 100)
        {
            failures.Add("Queue__MaxDequeueCount must be between 1 and 100.");
        }

        if (options.TransientRetryFor < TimeSpan.Zero || options.TransientRetryFor > TimeSpan.FromDays(6))
        {
            failures.Add("Queue__TransientRetryFor must be between 00:00:00 and 6.00:00:00 (e.g. 24:00:00 is written 1.00:00:00).");
        }

        // A queue message can be hidden for at most 7 days.
        if (options.TransientRetryDelay < TimeSpan.Zero || options.TransientRetryMaxDelay < options.TransientRetryDelay
            || options.TransientRetryMaxDelay > TimeSpan.FromHours(1))
        {
            failures.Add("Queue__TransientRetryDelay and Queue__TransientRetryMaxDelay must satisfy 0 <= delay <= max delay <= 01:00:00.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
