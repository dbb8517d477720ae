using System.Diagnostics;
using System.Text;
using AskPro.Functions.Appointments;
using AskPro.Functions.Hosting;
using AskPro.Functions.Queueing;
using AskPro.Functions.Storage;
using AskPro.Functions.Tests.Infrastructure;
using AskPro.Functions.Webhooks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace AskPro.Functions.Benchmarks;

/// <summary>
/// Pipeline load run against a real Azurite: N bookings × (create, reschedule, cancel) posted to the HTTP function in
/// shuffled order with 16 concurrent senders, then the queue drained by 24 workers (the host's batchSize 16 +
/// newBatchThreshold 8) through the real queue processor. Checks every booking ends as one cancelled record.
/// </summary>
internal static class LoadRun
{
    private const string Secret = "load-run-secret-0123456789abcdef0123";

    public static async Task<int> RunAsync(int bookings)
    {
        await using var azurite = await Azurite.StartAsync();
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AzureWebJobsStorage"] = azurite.ConnectionString,
            ["CalcomWebhook:Secrets:0"] = Secret,
        }).Build();
        var services = new ServiceCollection().AddLogging().AddAskProFunctions(configuration).BuildServiceProvider();
        var function = services.GetRequiredService<CalcomWebhookFunction>();
        var processor = services.GetRequiredService<CalcomEventProcessor>();
        var store = services.GetRequiredService<AppointmentTableStore>();
        var queue = services.GetRequiredService<StorageClients>().WebhookQueue;
        await services.GetRequiredService<WebhookQueue>().EnsureCreatedAsync(CancellationToken.None);
        await store.EnsureCreatedAsync(CancellationToken.None);

        var story = new[] { "booking_created_web.json", "booking_rescheduled.json", "booking_cancelled.json" }.Select(Examples.Read).ToArray();
        var random = new Random(20261125);
        var bodies = Enumerable.Range(0, bookings).SelectMany(i => Story(story, i)).OrderBy(_ => random.Next()).ToList();
        Console.WriteLine($"load run: {bookings} bookings, {bodies.Count} deliveries, shuffled (seed 20261125)");

        // Phase 1: HTTP intake.
        var latencies = new List<double>();
        var clock = Stopwatch.StartNew();
        await Parallel.ForEachAsync(bodies, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (body, ct) =>
        {
            var started = Stopwatch.GetTimestamp();
            var context = new DefaultHttpContext();
            context.Request.Method = "POST";
            context.Request.Body = new MemoryStream(body);
            context.Request.ContentLength = body.Length;
            context.Request.Headers[WebhookSignature.HeaderName] = WebhookSignature.Sign(body, Encoding.UTF8.GetBytes(Secret));
            var result = (ApiResult)await function.CalcomWebhook(context.Request, ct);
            if (result.StatusCode != StatusCodes.Status202Accepted)
            {
                throw new InvalidOperationException($"intake answered {result.StatusCode}");
            }

            lock (latencies)
            {
                latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
        });
        var intake = clock.Elapsed;
        Report("HTTP intake (verify + validate + enqueue)", bodies.Count, intake, latencies);

        // Phase 2: apply, 24 workers like the host.
        latencies.Clear();
        clock.Restart();
        var applied = 0;
        await Parallel.ForEachAsync(Enumerable.Range(0, 24), async (_, ct) =>
        {
            while (true)
            {
                var messages = (await queue.ReceiveMessagesAsync(16, TimeSpan.FromMinutes(1), ct)).Value;
                if (messages.Length == 0)
                {
                    if (Volatile.Read(ref applied) >= bodies.Count)
                    {
                        return;
                    }

                    await Task.Delay(50, ct);
                    continue;
                }

                foreach (var m in messages)
                {
                    var started = Stopwatch.GetTimestamp();
                    await processor.ProcessAsync(m.Body, m.MessageId, m.DequeueCount, ct);
                    await queue.DeleteMessageAsync(m.MessageId, m.PopReceipt, ct);
                    Interlocked.Increment(ref applied);
                    lock (latencies)
                    {
                        latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                    }
                }
            }
        });
        Report("Queue apply (read envelope + apply + delete message)", bodies.Count, clock.Elapsed, latencies);

        var wrong = 0;
        for (var i = 0; i < bookings; i++)
        {
            var record = await store.FindByUidAsync(Uid("Qm", i), CancellationToken.None);
            if (record?.Record.Status != AppointmentStatus.Cancelled || record.Record.CalcomUid != Uid("Tz", i) || record.Record.CalcomUids.Count != 2)
            {
                wrong++;
            }
        }

        Console.WriteLine($"check: {bookings - wrong} of {bookings} bookings ended as one cancelled appointment with both uids");
        return wrong == 0 ? 0 : 1;
    }

    private static IEnumerable<byte[]> Story(byte[][] story, int i)
    {
        // create (web shape) under the original uid, reschedule original → new, cancel the new uid.
        yield return Replace(story[0], ("k3VbP9qWm2xYc7RtL5nD8a", Uid("Qm", i)), ("anna.schmidt@praxis-example.de", $"staff{i % 50}@praxis-example.de"));
        yield return Replace(story[1], ("Qm7ZtXo4Lp2WcN9vR1sK6e", Uid("Qm", i)), ("Tz8cYw3RbN6kLq1PmV5xHd", Uid("Tz", i)), ("anna.schmidt@praxis-example.de", $"staff{i % 50}@praxis-example.de"));
        yield return Replace(story[2], ("Tz8cYw3RbN6kLq1PmV5xHd", Uid("Tz", i)), ("anna.schmidt@praxis-example.de", $"staff{i % 50}@praxis-example.de"));
    }

    private static string Uid(string prefix, int i) => $"{prefix}load{i:D8}";

    private static byte[] Replace(byte[] body, params (string From, string To)[] pairs)
    {
        var text = Encoding.UTF8.GetString(body);
        foreach (var (from, to) in pairs)
        {
            text = text.Replace(from, to, StringComparison.Ordinal);
        }

        return Encoding.UTF8.GetBytes(text);
    }

    private static void Report(string phase, int count, TimeSpan elapsed, List<double> latencies)
    {
        latencies.Sort();
        double P(double q) => latencies[Math.Min(latencies.Count - 1, (int)(q * latencies.Count))];
        Console.WriteLine($"{phase}: {count} in {elapsed.TotalSeconds:F1} s = {count / elapsed.TotalSeconds:F0}/s; latency p50 {P(0.50):F1} ms, p95 {P(0.95):F1} ms, p99 {P(0.99):F1} ms, max {latencies[^1]:F1} ms");
    }
}
