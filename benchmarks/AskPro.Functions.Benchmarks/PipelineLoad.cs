using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using AskPro.Functions.Appointments;
using AskPro.Functions.Calcom;
using AskPro.Functions.Hosting;
using AskPro.Functions.Queueing;
using AskPro.Functions.Storage;
using AskPro.Functions.Tests.Appointments;
using AskPro.Functions.Tests.Infrastructure;
using AskPro.Functions.Webhooks;
using Azure.Data.Tables;
using Azure.Storage.Queues;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace AskPro.Functions.Benchmarks;

/// <summary>
/// The issue-10 load run: N deliveries from generated lifecycles (30 % exact duplicates), shuffled, into the HTTP
/// function at concurrency 32, applied by 32 queue workers through the real processor; the records must equal in-order
/// delivery to the pure book, nothing may be dead-lettered. Then the floor on the same Azurite: the same number of raw
/// queue sends, receives + deletes and the apply path's table operations (two point reads and a transaction of three
/// upserts per message), done directly with the SDK at the same concurrency. Prints both and their ratio.
/// </summary>
internal static class PipelineLoad
{
    private const string Secret = "load-run-secret-0123456789abcdef0123";
    private const int Concurrency = 32;

    public static async Task<int> RunAsync(int deliveries, int seed)
    {
        await using var azurite = await Azurite.StartAsync();
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AzureWebJobsStorage"] = azurite.ConnectionString,
            ["CalcomWebhook:Secrets:0"] = Secret,
        }).Build();
        await using var services = new ServiceCollection().AddLogging().AddAskProFunctions(configuration).BuildServiceProvider();
        var function = services.GetRequiredService<CalcomWebhookFunction>();
        var processor = services.GetRequiredService<CalcomEventProcessor>();
        var store = services.GetRequiredService<AppointmentTableStore>();
        var storage = services.GetRequiredService<StorageClients>();
        await services.GetRequiredService<WebhookQueue>().EnsureCreatedAsync(CancellationToken.None);
        await store.EnsureCreatedAsync(CancellationToken.None);

        // Lifecycles until 70 % of the deliveries are distinct events; the rest are exact duplicates.
        var random = new Random(seed);
        var generator = new LifecycleGenerator(seed);
        var events = new List<GeneratedEvent>();
        while (events.Count < deliveries * 0.7)
        {
            events.AddRange(new Scenario(generator.NextLifecycles(20, staffMembers: 10, days: 5)).InOrder);
        }

        var bodies = events.Select(e => e.Body).ToList();
        while (bodies.Count < deliveries)
        {
            bodies.Add(events[random.Next(events.Count)].Body);
        }

        bodies = [.. bodies.OrderBy(_ => random.Next())];
        var oracle = new AppointmentBook();
        foreach (var e in events)
        {
            oracle.Apply(CalcomWebhookReader.Read(e.Body).Event!);
        }

        Console.WriteLine($"pipeline load: {bodies.Count} deliveries ({events.Count} distinct events of generated lifecycles, {bodies.Count - events.Count} duplicates), shuffled, seed {seed}");

        var statuses = new ConcurrentDictionary<int, int>();
        var clock = Stopwatch.StartNew();
        await Parallel.ForEachAsync(bodies, new ParallelOptions { MaxDegreeOfParallelism = Concurrency }, async (body, ct) =>
        {
            var context = new DefaultHttpContext();
            context.Request.Method = "POST";
            context.Request.Body = new MemoryStream(body);
            context.Request.ContentLength = body.Length;
            context.Request.Headers[WebhookSignature.HeaderName] = WebhookSignature.Sign(body, Encoding.UTF8.GetBytes(Secret));
            var result = (ApiResult)await function.CalcomWebhook(context.Request, ct);
            statuses.AddOrUpdate(result.StatusCode, 1, (_, n) => n + 1);
        });
        var intake = clock.Elapsed;
        var queued = (await storage.WebhookQueue.GetPropertiesAsync()).Value.ApproximateMessagesCount;

        clock.Restart();
        var processed = await DrainAsync(storage.WebhookQueue, async m => await processor.ProcessAsync(m.Body, m.MessageId, m.DequeueCount, CancellationToken.None));
        var apply = clock.Elapsed;
        var pipeline = intake + apply;

        var actual = new Dictionary<string, StoredAppointment>(StringComparer.Ordinal);
        await foreach (var row in storage.Appointments.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {AppointmentEntities.PartitionKey} and RowKey ge {"apt_"} and RowKey lt {"apt`"}")))
        {
            if (row.GetString("RowType") != AppointmentEntities.RowTypeMerged)
            {
                var stored = AppointmentEntities.FromEntity(row);
                actual[stored.Record.AppointmentId] = stored;
            }
        }

        var wrong = oracle.Records.Count(p => !actual.TryGetValue(p.Key, out var a) || a.Record with { CalcomUids = [] } != p.Value.Record with { CalcomUids = [] }
            || !a.Record.CalcomUids.SequenceEqual(p.Value.Record.CalcomUids) || !a.ConflictsWith.SequenceEqual(p.Value.ConflictsWith)) + actual.Keys.Count(k => !oracle.Records.ContainsKey(k));
        var deadLetters = (await storage.DeadLetterQueue.GetPropertiesAsync()).Value.ApproximateMessagesCount;

        // The floor: what the pipeline's storage work costs when done directly, on the same emulator.
        var floorQueue = storage.Queues.GetQueueClient("floor-" + seed);
        await floorQueue.CreateIfNotExistsAsync();
        var floorTable = storage.Tables.GetTableClient("floor" + seed);
        await floorTable.CreateIfNotExistsAsync();
        var payload = new BinaryData(new string('x', 2000));
        clock.Restart();
        await Parallel.ForEachAsync(Enumerable.Range(0, queued), new ParallelOptions { MaxDegreeOfParallelism = Concurrency }, async (_, ct) =>
            await floorQueue.SendMessageAsync(payload, cancellationToken: ct));
        var floorIntake = clock.Elapsed;
        clock.Restart();
        var n = 0;
        await DrainAsync(floorQueue, async m =>
        {
            var i = Interlocked.Increment(ref n);
            var key = "r" + (i % 2000).ToString(System.Globalization.CultureInfo.InvariantCulture);
            await floorTable.GetEntityIfExistsAsync<TableEntity>("calcom", "uid_" + key);
            await floorTable.GetEntityIfExistsAsync<TableEntity>("calcom", "stf_" + (i % 10));
            await floorTable.SubmitTransactionAsync(
            [
                new TableTransactionAction(TableTransactionActionType.UpsertReplace, new TableEntity("calcom", "apt_" + key) { ["Facts"] = new byte[1500] }),
                new TableTransactionAction(TableTransactionActionType.UpsertReplace, new TableEntity("calcom", "uid_" + key) { ["Facts"] = new byte[1500] }),
                new TableTransactionAction(TableTransactionActionType.UpsertReplace, new TableEntity("calcom", "stf_" + key) { ["Ranges"] = new byte[200] }),
            ]);
        });
        var floorApply = clock.Elapsed;
        var floor = floorIntake + floorApply;

        Console.WriteLine($"intake: {bodies.Count} deliveries in {intake.TotalSeconds:F1} s = {bodies.Count / intake.TotalSeconds:F0}/s ({string.Join(", ", statuses.OrderBy(s => s.Key).Select(s => $"{s.Value}× {s.Key}"))}); {queued} queued");
        Console.WriteLine($"apply: {processed} messages in {apply.TotalSeconds:F1} s = {processed / apply.TotalSeconds:F0}/s by {Concurrency} workers");
        Console.WriteLine($"floor (raw SDK, same Azurite, concurrency {Concurrency}): {queued} sends in {floorIntake.TotalSeconds:F1} s, {queued} receive+delete with 2 point reads + 1 transaction each in {floorApply.TotalSeconds:F1} s");
        Console.WriteLine($"pipeline {bodies.Count / pipeline.TotalSeconds:F0} deliveries/s end to end vs floor {queued / floor.TotalSeconds:F0} messages/s: ratio {floor.TotalSeconds / pipeline.TotalSeconds:F2} "
            + $"(intake {floorIntake.TotalSeconds / intake.TotalSeconds:F2}, apply {floorApply.TotalSeconds / apply.TotalSeconds:F2})");
        Console.WriteLine($"check: {oracle.Records.Count} expected records, {actual.Count} stored, {wrong} differ; {deadLetters} dead-lettered");
        return wrong == 0 && deadLetters == 0 && statuses.Keys.All(s => s == 202) ? 0 : 1;
    }

    private static async Task<int> DrainAsync(QueueClient queue, Func<Azure.Storage.Queues.Models.QueueMessage, Task> handle)
    {
        var done = 0;
        var idle = 0;
        await Parallel.ForEachAsync(Enumerable.Range(0, Concurrency), async (_, ct) =>
        {
            while (Volatile.Read(ref idle) < Concurrency * 20)
            {
                var messages = (await queue.ReceiveMessagesAsync(16, TimeSpan.FromMinutes(5), ct)).Value;
                if (messages.Length == 0)
                {
                    Interlocked.Increment(ref idle);
                    await Task.Delay(50, ct);
                    continue;
                }

                Volatile.Write(ref idle, 0);
                foreach (var m in messages)
                {
                    await handle(m);
                    // The host retries a failed delete too (here: the emulator's 5 s timeouts under full load).
                    for (var attempt = 1; ; attempt++)
                    {
                        try
                        {
                            await queue.DeleteMessageAsync(m.MessageId, m.PopReceipt, ct);
                            break;
                        }
                        catch (Azure.RequestFailedException ex) when (ex.Status == 404)
                        {
                            break; // an earlier try that timed out on our side had deleted it
                        }
                        catch (Exception ex) when (attempt < 10 && ex is not OperationCanceledException { CancellationToken.IsCancellationRequested: true })
                        {
                            await Task.Delay(500 * attempt, ct);
                        }
                    }

                    Interlocked.Increment(ref done);
                }
            }
        });
        return done;
    }
}
