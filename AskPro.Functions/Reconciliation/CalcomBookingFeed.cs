using System.Runtime.CompilerServices;

namespace AskPro.Functions.Reconciliation;

/// <summary>
/// Bookings read from the API, and how far they cover: every booking whose <c>updatedAt</c> is at or before
/// <see cref="CoveredUpTo"/> (and after the window's start) has been returned by this or an earlier chunk.
/// </summary>
public sealed record FeedChunk(IReadOnlyList<CalcomApiBooking> Bookings, DateTimeOffset? CoveredUpTo)
{
    /// <summary>Of a sweep page: where the walk continues once this page is handled (null: it was the last page).</summary>
    public SweepPosition? Next { get; init; }
}

/// <summary>A place in a sweep: the bookings starting at or after <see cref="After"/>, from offset <see cref="Skip"/> on.</summary>
public sealed record SweepPosition(DateTimeOffset After, int Skip);

/// <summary>
/// Walks <c>GET /v2/bookings</c> without trusting its counts. Cal.com computes <c>totalItems</c>/<c>hasNextPage</c>
/// before the updatedAt filters are applied, sorts by one column with no tie-breaker and pages by offset, so:
/// a changed-since query that fills a page is split into halves (each half starts again at offset 0) until every
/// window answers with a short page; only a window too narrow to split (a series cancelled in one update shares one
/// <c>updatedAt</c>) is paged by offset, until a short page. Windows are walked oldest first, so a caller may
/// advance its checkpoint to each chunk's <see cref="FeedChunk.CoveredUpTo"/> once the chunk is handled.
/// </summary>
public sealed class CalcomBookingFeed(CalcomApiClient api, long? teamId = null)
{
    /// <summary>A window is halved while it is longer than this.</summary>
    public static readonly TimeSpan MinWindow = TimeSpan.FromSeconds(1);

    /// <summary>Pages one walk may read before it gives up (an API that never answers a short page must not loop forever).</summary>
    public const int MaxPages = 400;

    /// <summary>Bookings whose <c>updatedAt</c> lies in [from, to], both ends inclusive (windows overlap by one instant; applying is idempotent).</summary>
    public async IAsyncEnumerable<FeedChunk> ChangedAsync(DateTimeOffset from, DateTimeOffset to, [EnumeratorCancellation] CancellationToken ct)
    {
        var pages = 0;
        var windows = new Stack<(DateTimeOffset From, DateTimeOffset To)>();
        windows.Push((from, to));
        while (windows.TryPop(out var w))
        {
            var query = new BookingQuery { AfterUpdatedAt = w.From, BeforeUpdatedAt = w.To, SortByUpdatedAt = true, TeamId = teamId };
            var page = await ReadPageAsync(query, ++pages, ct);
            if (page.Count < CalcomApiClient.MaxTake)
            {
                yield return new FeedChunk(page, w.To);
                continue;
            }

            if (w.To - w.From > MinWindow)
            {
                var middle = w.From + ((w.To - w.From) / 2);
                windows.Push((middle, w.To));
                windows.Push((w.From, middle)); // the older half first
                continue;
            }

            var all = new List<CalcomApiBooking>(page);
            for (var skip = CalcomApiClient.MaxTake; page.Count == CalcomApiClient.MaxTake; skip += CalcomApiClient.MaxTake)
            {
                page = await ReadPageAsync(query with { Skip = skip }, ++pages, ct);
                all.AddRange(page);
            }

            yield return new FeedChunk(all, w.To);
        }
    }

    /// <summary>
    /// Bookings with <c>startTime</c> ≥ from and <c>endTime</c> ≤ to, sorted by start, page by page until a short page,
    /// from <paramref name="resume"/> on when given. Not split into windows: the filter needs the whole booking inside,
    /// so one straddling a split would fall between halves. Each page says where the walk continues
    /// (<see cref="FeedChunk.Next"/>): at the last start time it read, from offset 0, so a walk resumed later is not
    /// thrown off by bookings added or removed before it (those at that very start are read twice, which is harmless);
    /// only a page that is all one start time moves on by offset.
    /// </summary>
    public async IAsyncEnumerable<FeedChunk> ByStartAsync(DateTimeOffset from, DateTimeOffset to, SweepPosition? resume, [EnumeratorCancellation] CancellationToken ct)
    {
        var position = resume ?? new SweepPosition(from, 0);
        var pages = 0;
        while (true)
        {
            var page = await ReadPageAsync(new BookingQuery { AfterStart = position.After, BeforeEnd = to, Skip = position.Skip, TeamId = teamId }, ++pages, ct);
            if (page.Count < CalcomApiClient.MaxTake)
            {
                yield return new FeedChunk(page, null);
                yield break;
            }

            position = Next(position, page);
            yield return new FeedChunk(page, null) { Next = position };
        }
    }

    private static SweepPosition Next(SweepPosition position, IReadOnlyList<CalcomApiBooking> page)
    {
        var last = page.Select(b => b.Start).Max();
        return last is { } l && l > position.After ? new SweepPosition(l, 0) : position with { Skip = position.Skip + page.Count };
    }

    private async Task<IReadOnlyList<CalcomApiBooking>> ReadPageAsync(BookingQuery query, int pageNumber, CancellationToken ct)
    {
        if (pageNumber > MaxPages)
        {
            throw new CalcomApiException(0, null, $"GET /v2/bookings kept answering full pages for {MaxPages} pages; stopping this walk");
        }

        return await api.ListAsync(query, ct);
    }
}
