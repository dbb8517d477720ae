namespace AskPro.Functions.Queueing;

/// <summary>
/// The one back-off of every queue that bridges transient failures by re-sending its message (the webhook apply queue,
/// the series look-up queue): retry number n waits <see cref="ApplyQueueOptions.TransientRetryDelay"/> doubled n-1 times,
/// at most <see cref="ApplyQueueOptions.TransientRetryMaxDelay"/>, and never less than what the failure itself asked for
/// (a Retry-After); once the first failure is <see cref="ApplyQueueOptions.TransientRetryFor"/> old, it gives up.
/// </summary>
public static class TransientRetry
{
    /// <summary>The longest a queue message can be hidden is 7 days; a re-send waits at most this.</summary>
    public static readonly TimeSpan MaxVisibilityDelay = TimeSpan.FromDays(6);

    /// <summary>What to do after one more failure, given the failures the message carries so far.</summary>
    public static TransientRetryStep Next(ApplyQueueOptions settings, int? failuresSoFar, DateTimeOffset? firstFailureAt, DateTimeOffset now, TimeSpan askedFor = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var first = firstFailureAt ?? now;
        var failures = (failuresSoFar ?? 0) + 1;
        var failingFor = now - first;
        if (failingFor >= settings.TransientRetryFor)
        {
            return new TransientRetryStep(failures, first, failingFor, null);
        }

        var backOff = settings.DelayAfter(failures);
        var delay = askedFor > backOff ? askedFor : backOff;
        return new TransientRetryStep(failures, first, failingFor, delay > MaxVisibilityDelay ? MaxVisibilityDelay : delay);
    }
}

/// <summary>
/// One decision of <see cref="TransientRetry"/>: the failure count and first failure time the re-sent message carries,
/// and how long it waits; <see cref="Delay"/> null means give up (dead-letter or leave it to the daily sweep).
/// </summary>
public readonly record struct TransientRetryStep(int Failures, DateTimeOffset FirstFailureAt, TimeSpan FailingFor, TimeSpan? Delay)
{
    public bool GiveUp => Delay is null;
}
