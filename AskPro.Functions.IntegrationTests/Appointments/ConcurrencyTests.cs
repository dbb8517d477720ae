using AskPro.Functions.Appointments;
using AskPro.Functions.Calcom;
using AskPro.Functions.Tests.Infrastructure;
using Xunit.Abstractions;

namespace AskPro.Functions.Tests.Appointments;

/// <summary>
/// The host runs up to batchSize + newBatchThreshold (16 + 8) messages at once: the same events applied by 24
/// parallel workers, shuffled and duplicated, must give exactly the records of in-order delivery.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class ConcurrencyTests(AzuriteFixture azurite, ITestOutputHelper output)
{
    [Theory]
    [InlineData(20261125, 40, 3)]
    [InlineData(7, 24, 1)]
    public async Task Parallel_workers_converge_to_in_order_records_with_no_lost_update(int seed, int bookings, int staff)
    {
        var perBooking = Enumerable.Range(0, bookings).Select(i => StoryVariants.Booking(i, staff)).ToList();

        // Oracle: in-order delivery to the pure book.
        var oracle = new AppointmentBook();
        foreach (var body in perBooking.SelectMany(b => b))
        {
            oracle.Apply(CalcomWebhookReader.Read(body).Event!);
        }

        var random = new Random(seed);
        var deliveries = perBooking.SelectMany(b => b).ToList();
        deliveries.AddRange(deliveries.Where(_ => random.Next(3) == 0).ToList()); // a third delivered twice
        deliveries = [.. deliveries.OrderBy(_ => random.Next())];

        await using var h = await StoreHarness.CreateAsync(azurite.ConnectionString);
        await Parallel.ForEachAsync(deliveries, new ParallelOptions { MaxDegreeOfParallelism = 24 }, async (body, _) => await h.ApplyAsync(body));

        var actual = await h.AppointmentsAsync();
        var expected = oracle.Records.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        RecordAssert.AssertSameRecords(expected, actual, $"seed {seed}, {bookings} bookings, {staff} staff, {deliveries.Count} deliveries");
        Assert.Equal(bookings, actual.Count);
        Assert.Contains(actual.Values, a => a.HasConflict); // the scenario really exercises conflicts
        var contention = h.App.Logs.Lines.Count(l => l.Contains("[3001]", StringComparison.Ordinal));
        output.WriteLine($"seed {seed}: {deliveries.Count} deliveries by 24 workers, {contention} lost races re-applied, {actual.Values.Count(a => a.HasConflict)} records in conflict");
    }
}
