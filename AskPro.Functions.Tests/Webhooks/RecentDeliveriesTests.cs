using AskPro.Functions.Webhooks;

namespace AskPro.Functions.Tests.Webhooks;

public sealed class RecentDeliveriesTests
{
    [Fact]
    public void Remembers_what_was_added_and_forgets_the_oldest_beyond_its_capacity()
    {
        var recent = new RecentDeliveries(capacity: 2);
        recent.Add("a");
        recent.Add("b");
        recent.Add("a");
        Assert.True(recent.Contains("a"));
        Assert.False(recent.Contains("c"));

        recent.Add("c");

        Assert.False(recent.Contains("a"));
        Assert.True(recent.Contains("b"));
        Assert.True(recent.Contains("c"));
        Assert.Equal(2, recent.Count);
    }

    [Fact]
    public void Stays_bounded_under_concurrent_adds()
    {
        var recent = new RecentDeliveries(capacity: 100);

        Parallel.For(0, 10_000, i => recent.Add(i.ToString(System.Globalization.CultureInfo.InvariantCulture)));

        Assert.InRange(recent.Count, 1, 100);
    }
}
