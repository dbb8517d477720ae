using AskPro.Functions.Queueing;

namespace AskPro.Functions.Tests.Queueing;

public sealed class TransientRetryTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 6, 12, 0, 0, TimeSpan.Zero);
    private static readonly ApplyQueueOptions Settings = new()
    {
        TransientRetryDelay = TimeSpan.FromSeconds(10),
        TransientRetryMaxDelay = TimeSpan.FromMinutes(5),
        TransientRetryFor = TimeSpan.FromHours(24),
    };

    [Fact]
    public void The_first_failure_starts_the_count_and_waits_the_first_delay()
    {
        var step = TransientRetry.Next(Settings, null, null, Now);

        Assert.Equal(new TransientRetryStep(1, Now, TimeSpan.Zero, TimeSpan.FromSeconds(10)), step);
        Assert.False(step.GiveUp);
    }

    [Theory]
    [InlineData(1, 20)]
    [InlineData(2, 40)]
    [InlineData(4, 160)]
    [InlineData(5, 300)]
    [InlineData(40, 300)]
    public void Each_further_failure_doubles_the_delay_up_to_the_longest(int failuresSoFar, int seconds)
    {
        var step = TransientRetry.Next(Settings, failuresSoFar, Now.AddMinutes(-3), Now);

        Assert.Equal(failuresSoFar + 1, step.Failures);
        Assert.Equal(Now.AddMinutes(-3), step.FirstFailureAt);
        Assert.Equal(TimeSpan.FromSeconds(seconds), step.Delay);
    }

    [Fact]
    public void A_longer_wait_the_failure_asked_for_wins_but_never_beyond_what_a_queue_message_can_be_hidden()
    {
        Assert.Equal(TimeSpan.FromMinutes(2), TransientRetry.Next(Settings, null, null, Now, askedFor: TimeSpan.FromMinutes(2)).Delay);
        Assert.Equal(TimeSpan.FromSeconds(10), TransientRetry.Next(Settings, null, null, Now, askedFor: TimeSpan.FromSeconds(1)).Delay);
        Assert.Equal(TransientRetry.MaxVisibilityDelay, TransientRetry.Next(Settings, null, null, Now, askedFor: TimeSpan.FromDays(30)).Delay);
    }

    [Fact]
    public void It_gives_up_once_the_first_failure_is_as_old_as_the_retry_window()
    {
        Assert.False(TransientRetry.Next(Settings, 100, Now.AddHours(-24).AddSeconds(1), Now).GiveUp);

        var step = TransientRetry.Next(Settings, 100, Now.AddHours(-24), Now);

        Assert.True(step.GiveUp);
        Assert.Equal(101, step.Failures);
        Assert.Equal(TimeSpan.FromHours(24), step.FailingFor);
    }

    [Fact]
    public void A_zero_retry_window_gives_up_at_the_first_failure()
    {
        Assert.True(TransientRetry.Next(new ApplyQueueOptions { TransientRetryFor = TimeSpan.Zero }, null, null, Now).GiveUp);
    }
}
