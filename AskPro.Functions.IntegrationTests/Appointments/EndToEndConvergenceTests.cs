using AskPro.Functions.Appointments;
using AskPro.Functions.Calcom;
using AskPro.Functions.Queueing;
using AskPro.Functions.Tests.Infrastructure;
using Azure.Storage.Queues;
using Xunit.Abstractions;

namespace AskPro.Functions.Tests.Appointments;

/// <summary>
/// Generated lifecycles (<see cref="LifecycleGenerator"/>) end to end: signed bodies → HTTP function → Azurite queue → the queue function (8 parallel
/// workers, the message as the host hands it over) → Table Storage, in shuffled orders with duplicates. The records
/// must equal in-order delivery to the pure book. Timing-sensitive under load (message visibility, the SDK's network
/// timeout), so it runs alone, after the parallel tests.
/// </summary>
[Collection(RunsAloneCollection.Name)]
public sealed class EndToEndConvergenceTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(20261125, 200, 3)]
    public async Task Generated_lifecycles_through_the_queue_function_converge_in_any_order(int seed, int lifecycles, int rounds)
    {
        await using var azurite = await Azurite.StartAsync(allowExternal: false);
        var random = new Random(seed);
        var generated = new LifecycleGenerator(seed).NextLifecycles(lifecycles, staffMembers: 3, days: 5);
        var inOrder = new Scenario(generated).InOrder;
        var oracle = new AppointmentBook();
        foreach (var e in inOrder)
        {
            oracle.Apply(CalcomWebhookReader.Read(e.Body).Event!);
        }

        var expected = oracle.Records.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        Assert.Equal(lifecycles, expected.Count);
        for (var round = 1; round <= rounds; round++)
        {
            var deliveries = DeliveryShuffler.Delivery(random, inOrder);

            await using var h = await StoreHarness.CreateAsync(azurite.ConnectionString);
            var queue = h.App.Get<Storage.StorageClients>().WebhookQueue;
            await h.App.Get<WebhookQueue>().EnsureCreatedAsync(CancellationToken.None);
            // Queue empty, and a new app that remembers no delivery of the last round: its bodies must be queued again.
            await new QueueProbe(azurite.ConnectionString).ClearAsync();
            foreach (var body in deliveries)
            {
                var response = await WebhookCall.PostSignedAsync(h.App, body);
                Assert.True(response.StatusCode == 202, $"seed {seed} round {round}: intake answered {response}");
            }

            var function = h.App.Get<ApplyCalcomEventFunction>();
            // An exact re-send (same bytes) is answered from the instance's memory of recent deliveries and not queued again.
            var queued = deliveries.Select(b => WebhookQueue.DeliveryIdOf(b)).Distinct(StringComparer.Ordinal).Count();
            var applied = await DrainAsync(queue, function, queued);
            var actual = await h.AppointmentsAsync();
            RecordAssert.AssertSameRecords(expected, actual, $"seed {seed}, round {round} ({deliveries.Count} deliveries)");
            output.WriteLine($"seed {seed} round {round}: {deliveries.Count} deliveries of {lifecycles} generated lifecycles ({inOrder.Count} events) applied through the queue function, {actual.Count} records equal to in-order delivery, {actual.Values.Count(a => a.HasConflict)} in conflict");
            // At least once: under load the intake's SDK may retry a queue write that had succeeded (5 s timeout), so
            // a body can be queued and applied twice (idempotently, as the equal records show); none may be missing.
            Assert.True(applied >= queued, $"{applied} of {queued} distinct queued bodies applied");
        }
    }

    private static async Task<int> DrainAsync(QueueClient queue, ApplyCalcomEventFunction function, int expected)
    {
        var applied = 0;
        var deadline = DateTime.UtcNow.AddMinutes(5);
        await Parallel.ForEachAsync(Enumerable.Range(0, 8), async (_, ct) =>
        {
            while (Volatile.Read(ref applied) < expected && DateTime.UtcNow < deadline)
            {
                // A few at a time, hidden long enough for a loaded 2-core machine: an expired visibility hands the message to
                // another worker and the first one's delete then fails with 404.
                var messages = (await queue.ReceiveMessagesAsync(4, TimeSpan.FromMinutes(10), ct)).Value;
                if (messages.Length == 0)
                {
                    await Task.Delay(20, ct);
                    continue;
                }

                foreach (var m in messages)
                {
                    await function.ApplyCalcomEvent(m, ct);
                    await queue.DeleteMessageAsync(m.MessageId, m.PopReceipt, ct);
                    Interlocked.Increment(ref applied);
                }
            }
        });
        return applied;
    }
}
