using AskPro.Functions.Reconciliation;
using Microsoft.Extensions.DependencyInjection;

namespace AskPro.Functions.Tests.Reconciliation;

/// <summary>
/// Walking the list endpoint without trusting its counts: more than a page of changes, ties in updatedAt (a series
/// cancelled in one update), a count that says there is always a next page. Against the fake API over loopback.
/// </summary>
public sealed class CalcomBookingFeedTests : IAsyncLifetime
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 20, 9, 0, 0, TimeSpan.Zero);
    private FakeCalcomApi _api = null!;
    private ServiceProvider _services = null!;

    public async Task InitializeAsync()
    {
        _api = await FakeCalcomApi.StartAsync();
        _services = CalcomApiClientTests.Compose(_api.BaseUrl);
    }

    public async Task DisposeAsync()
    {
        await _services.DisposeAsync();
        await _api.DisposeAsync();
    }

    private CalcomBookingFeed Feed => new(_services.GetRequiredService<CalcomApiClient>());

    private static string Uid(int i) => $"b{i:D6}Lp2WcN9vR1sK6eQx";

    [Fact]
    public async Task More_than_a_page_of_changes_with_300_sharing_one_updatedAt_are_all_returned()
    {
        // 400 changes spread over an hour, and a series of 300 occurrences cancelled by one update (one updatedAt).
        var spread = Enumerable.Range(0, 400).Select(i => FakeCalcomApi.Booking(Uid(i), T0.AddDays(i % 30), T0.AddSeconds(i * 9)));
        var series = Enumerable.Range(400, 300).Select(i => FakeCalcomApi.Booking(Uid(i), T0.AddDays(i % 30), T0.AddMinutes(17), status: "cancelled"));
        _api.Upsert([.. spread, .. series]);

        var chunks = new List<FeedChunk>();
        await foreach (var chunk in Feed.ChangedAsync(T0, T0.AddHours(1), CancellationToken.None))
        {
            chunks.Add(chunk);
        }

        var uids = chunks.SelectMany(c => c.Bookings).Select(b => b.Uid!).ToHashSet(StringComparer.Ordinal);
        Assert.Equal(700, uids.Count);
        Assert.Equal(Enumerable.Range(0, 700).Select(Uid).ToHashSet(), uids);
        // Chunks come oldest first and cover the whole window: a checkpoint may follow them.
        var covered = chunks.Select(c => c.CoveredUpTo!.Value).ToList();
        Assert.Equal(covered.Order(), covered);
        Assert.Equal(T0.AddHours(1), covered[^1]);
        Assert.All(chunks, c => Assert.All(c.Bookings, b => Assert.True(b.UpdatedAt <= c.CoveredUpTo)));
        // The tie was paged by offset, the rest split into windows of fewer than 250.
        Assert.Contains(_api.Requests, r => r.Contains("skip=250", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_quiet_window_costs_one_request_even_when_the_count_says_there_are_more_pages()
    {
        // 600 bookings exist, 3 changed in the window: the unfiltered count makes hasNextPage true.
        _api.Upsert([.. Enumerable.Range(0, 600).Select(i => FakeCalcomApi.Booking(Uid(i), T0.AddDays(1), i < 3 ? T0.AddMinutes(i) : T0.AddDays(-3)))]);

        var chunks = new List<FeedChunk>();
        await foreach (var chunk in Feed.ChangedAsync(T0, T0.AddMinutes(10), CancellationToken.None))
        {
            chunks.Add(chunk);
        }

        Assert.Equal(3, Assert.Single(chunks).Bookings.Count);
        Assert.Single(_api.Requests);
    }

    [Fact]
    public async Task A_sweep_by_start_pages_until_a_short_page_and_keeps_bookings_that_straddle_no_split()
    {
        _api.Upsert([.. Enumerable.Range(0, 520).Select(i => FakeCalcomApi.Booking(Uid(i), T0.AddMinutes(i * 50), T0.AddDays(-2)))]);

        var uids = new List<string>();
        await foreach (var chunk in Feed.ByStartAsync(T0.AddMinutes(-1), T0.AddDays(30), null, CancellationToken.None))
        {
            uids.AddRange(chunk.Bookings.Select(b => b.Uid!));
        }

        Assert.Equal(520, uids.Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(3, _api.Requests.Count); // 250 + 250 + 20
    }
}
