using AskPro.Functions.Appointments;
using AskPro.Functions.Queueing;
using AskPro.Functions.Tests.Appointments;
using AskPro.Functions.Tests.Infrastructure;

namespace AskPro.Functions.Tests.Operating;

/// <summary>An appointment's history stays bounded however many deliveries reach it.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class HistoryTests(AzuriteFixture azurite)
{
    [Fact]
    public void Merge_keeps_the_newest_entries_oldest_first_and_drops_repeats()
    {
        var t0 = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var old = Enumerable.Range(0, AppointmentHistory.MaxEntries).Select(i => new HistoryEntry($"d{i}", ApplySource.Delivery, "BOOKING_CREATED", null, t0.AddMinutes(i), HistoryOutcome.Applied)).ToList();
        var other = new List<HistoryEntry> { old[3], new("p1", ApplySource.Reconciliation, "BOOKING_CANCELLED", null, t0.AddMinutes(2.5), HistoryOutcome.Reconciled) };
        var added = new HistoryEntry("new", ApplySource.Delivery, "BOOKING_CANCELLED", t0, t0.AddHours(1), HistoryOutcome.Applied);

        var merged = AppointmentHistory.Merge([old, other], added);

        Assert.Equal(AppointmentHistory.MaxEntries, merged.Count);
        Assert.Equal("new", merged[^1].SourceId);
        Assert.Equal(merged.OrderBy(e => e.AppliedAt), merged);
        Assert.Equal(merged.Count, merged.Distinct().Count());
        // 52 distinct entries, 50 kept: the two oldest (d0, d1) dropped, the pass entry between d2 and d3 kept.
        Assert.Equal(["d2", "p1", "d3"], merged.Take(3).Select(e => e.SourceId));
    }

    [Fact]
    public async Task A_long_chain_of_deliveries_keeps_the_newest_entries_and_the_row_small()
    {
        await using var h = await StoreHarness.CreateAsync(azurite.ConnectionString);
        var created = Examples.Calcom("booking_created_web.json");
        var noShow = Examples.Calcom("booking_no_show_updated.json");
        var deliveries = new List<byte[]> { created };
        for (var i = 0; i < 80; i++)
        {
            // Re-sends with a new createdAt: each is its own delivery (new id), most of them duplicates of content seen before.
            var at = new DateTimeOffset(2026, 1, 21, 8, 0, 0, TimeSpan.Zero).AddMinutes(i);
            deliveries.Add(DeliveryShuffler.WithCreatedAt(i % 2 == 0 ? noShow : created, at));
        }

        foreach (var body in deliveries)
        {
            await h.ApplyAsync(body);
        }

        var (_, history) = Assert.Single(await h.Store.LookupByUidAsync("k3VbP9qWm2xYc7RtL5nD8a", CancellationToken.None));
        Assert.Equal(AppointmentHistory.MaxEntries, history.Count);
        Assert.Equal(deliveries.TakeLast(AppointmentHistory.MaxEntries).Select(b => WebhookQueue.DeliveryIdOf(b)), history.Select(e => e.SourceId));
        Assert.Contains(history, e => e.Outcome == HistoryOutcome.Duplicate);
        var row = (await h.Table.GetEntityAsync<Azure.Data.Tables.TableEntity>(AppointmentEntities.PartitionKey, AppointmentEntities.UidKey("k3VbP9qWm2xYc7RtL5nD8a"))).Value;
        Assert.InRange(row.GetString(AppointmentHistory.PropertyName)!.Length, 1000, 16 * 1024);
    }
}
