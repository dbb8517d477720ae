using AskPro.Functions.Tests.Appointments;
using AskPro.Functions.Tests.Infrastructure;
using Xunit.Abstractions;

namespace AskPro.Functions.Tests.Queueing;

/// <summary>
/// A failure injected after each storage call of the apply path in turn — the call done, its answer lost, as in a
/// crash — and the message retried: the records converge to those of an uninterrupted run.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class ApplyFaultTests(AzuriteFixture azurite, ITestOutputHelper output)
{
    [Theory]
    [InlineData(20261201, 3)]
    public async Task A_failure_after_any_storage_call_of_an_apply_converges_on_retry(int seed, int lifecycles)
    {
        var events = new Scenario(new LifecycleGenerator(seed).NextLifecycles(lifecycles, staffMembers: 1, days: 1)).InOrder.Select(e => e.Body).ToList();
        await using var reference = await StoreHarness.CreateAsync(azurite.ConnectionString);
        var calls = new List<int>();
        foreach (var body in events)
        {
            reference.Counter.Reset();
            await reference.ApplyAsync(body);
            calls.Add(reference.Counter.Requests.Count);
        }

        var expected = await reference.AppointmentsAsync();
        var runs = 0;
        for (var j = 0; j < events.Count; j++)
        {
            for (var k = 1; k <= calls[j]; k++)
            {
                var faults = new FaultPolicy();
                await using var h = await StoreHarness.CreateAsync(azurite.ConnectionString, faults);
                for (var i = 0; i < j; i++)
                {
                    await h.ApplyAsync(events[i]);
                }

                var seen = 0;
                var target = k;
                faults.FaultAfter = (_, _) => Interlocked.Increment(ref seen) == target ? new IOException($"injected: the answer to storage call {target} was lost") : null;
                try
                {
                    await h.ApplyAsync(events[j]);
                }
                catch (IOException)
                {
                    // Thrown to the host, which retries the message.
                }

                faults.FaultAfter = null;
                // The retry (a re-send after a transient failure or the host's next dequeue: the same content either way).
                await h.ApplyAsync(events[j], dequeueCount: 2);
                for (var i = j + 1; i < events.Count; i++)
                {
                    await h.ApplyAsync(events[i]);
                }

                RecordAssert.AssertSameRecords(expected, await h.AppointmentsAsync(), $"seed {seed}: failure after storage call {k} of event {j} ({calls[j]} calls)");
                runs++;
            }
        }

        output.WriteLine($"seed {seed}: {events.Count} events, {calls.Sum()} storage calls; {runs} runs each failing after one of them converged to the uninterrupted records");
        Assert.Equal(calls.Sum(), runs);
    }
}
