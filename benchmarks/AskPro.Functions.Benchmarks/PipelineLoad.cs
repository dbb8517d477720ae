using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using AskPro.Functions.Appointments;
using AskPro.Functions.Calcom;
using AskPro.Functions.Hosting;
using AskPro.Functions.Queueing;
using AskPro.Functions.Storage;
using AskPro.Functions.Tests.Appointments;
using AskPro.Functions.Tests.Infrastructure;
using AskPro.Functions.Webhooks;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AskPro.Functions.Benchmarks;

/// <summary>
/// The pipeline load run: N deliveries from generated lifecycles (30 % exact duplicates), shuffled, into the HTTP
/// function at concurrency 32, then drained as one Functions instance drains a queue (batches of 16, a new batch when
/// 8 are left: at most 24 messages in flight, each received once) through the real processor; the records must equal
/// in-order delivery to the pure book, nothing may be dead-lettered. Every storage request the product makes is counted
/// at the SDK pipeline. Then the floor, in the same run on the same Azurite: the same queue messages sent raw at the
/// same concurrency, and drained the same way with, per message, the same number and kind of storage requests the
/// product made. Every call of the harness and the floor retries a transient failure on the product's own schedule
/// (<see cref="TransientRetry"/>). Prints both phases, their ratios and end to end.
/// </summary>
internal static class PipelineLoad
{
    private const string Secret = "load-run-secret-0123456789abcdef0123";
    private const int Senders = 32;
    /// <summary>host.json's <c>batchSize</c> and <c>newBatchThreshold</c>: what one instance keeps in flight.</summary>
    private const int BatchSize = 16;
    private const int NewBatchThreshold = 8;

    public static async Task<int> RunAsync(int deliveries, int seed)
    {
        await using var azurite = await Azurite.StartAsync();
        await WarmUpAsync(azurite.ConnectionString, seed);
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AzureWebJobsStorage"] = azurite.ConnectionString,
            ["CalcomWebhook:Secrets:0"] = Secret,
        }).Build();
        var tally = new RequestTally();
        var events = new EventTally();
        await using var services = new ServiceCollection().AddLogging(b => b.AddProvider(events).SetMinimumLevel(LogLevel.Debug)).AddSingleton<HttpPipelinePolicy>(tally).AddAskProFunctions(configuration).BuildServiceProvider();
        var function = services.GetRequiredService<CalcomWebhookFunction>();
        var processor = services.GetRequiredService<CalcomEventProcessor>();
        var store = services.GetRequiredService<AppointmentTableStore>();
        var storage = services.GetRequiredService<StorageClients>();
        var retry = services.GetRequiredService<Microsoft.Extensions.Options.IOptions<ApplyQueueOptions>>().Value;
        await services.GetRequiredService<WebhookQueue>().EnsureCreatedAsync(CancellationToken.None);
        await store.EnsureCreatedAsync(CancellationToken.None);

        // Lifecycles until 70 % of the deliveries are distinct events; the rest are exact duplicates.
        var random = new Random(seed);
        var generator = new LifecycleGenerator(seed);
        var generated = new List<GeneratedEvent>();
        while (generated.Count < deliveries * 0.7)
        {
            generated.AddRange(new Scenario(generator.NextLifecycles(20, staffMembers: 10, days: 5)).InOrder);
        }

        var bodies = generated.Select(e => e.Body).ToList();
        while (bodies.Count < deliveries)
        {
            bodies.Add(generated[random.Next(generated.Count)].Body);
        }

        bodies = [.. bodies.OrderBy(_ => random.Next())];
        var oracle = new AppointmentBook();
        foreach (var e in generated)
        {
            oracle.Apply(CalcomWebhookReader.Read(e.Body).Event!);
        }

        Console.WriteLine($"pipeline load: {bodies.Count} deliveries ({generated.Count} distinct events of generated lifecycles, {bodies.Count - generated.Count} duplicates), shuffled, seed {seed}");

        // Cal.com signs before sending: not part of what is measured.
        var signed = bodies.Select(b => (Body: b, Signature: WebhookSignature.Sign(b, Encoding.UTF8.GetBytes(Secret)))).ToList();
        var statuses = new ConcurrentDictionary<int, int>();
        using var self = Process.GetCurrentProcess();
        var cpu = self.TotalProcessorTime;
        tally.Start();
        var clock = Stopwatch.StartNew();
        await Parallel.ForEachAsync(signed, new ParallelOptions { MaxDegreeOfParallelism = Senders }, async (delivery, ct) =>
        {
            var context = new DefaultHttpContext();
            context.Request.Method = "POST";
            context.Request.Body = new MemoryStream(delivery.Body);
            context.Request.ContentLength = delivery.Body.Length;
            context.Request.Headers[WebhookSignature.HeaderName] = delivery.Signature;
            var result = (ApiResult)await function.CalcomWebhook(context.Request, ct);
            statuses.AddOrUpdate(result.StatusCode, 1, (_, n) => n + 1);
        });
        var intake = clock.Elapsed;
        var intakeRequests = tally.Stop();
        var intakeCpu = Cpu(self, ref cpu);
        var queued = (await storage.WebhookQueue.GetPropertiesAsync()).Value.ApproximateMessagesCount;

        var received = new ConcurrentQueue<BinaryData>();
        events.Clear();
        self.Refresh();
        cpu = self.TotalProcessorTime;
        tally.Start();
        clock.Restart();
        var processed = await DrainAsync(Listener(azurite.ConnectionString, storage.WebhookQueue, tally), retry, async m =>
        {
            received.Enqueue(m.Body);
            await processor.ProcessAsync(m.Body, m.MessageId, m.DequeueCount, CancellationToken.None);
        });
        var apply = clock.Elapsed;
        var applyRequests = tally.Stop();
        var applyCpu = Cpu(self, ref cpu);
        var applyEvents = events.Describe();
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

        // The floor: the product's own queue messages (those intake wrote, not the processor's re-sends) and, per
        // message, the requests the product made besides them, done directly with the SDK on the same emulator.
        var messages = received.Where(m => WebhookEnvelope.Parse(m.ToMemory().Span).TransientFailures is null).ToList();
        var floor = await Floor.CreateAsync(storage, seed, retry);
        var intakeMix = intakeRequests.Without(StorageNames.WebhookQueue, "queue POST", messages.Count);
        self.Refresh();
        cpu = self.TotalProcessorTime;
        clock.Restart();
        var sent = -1;
        await Parallel.ForEachAsync(messages, new ParallelOptions { MaxDegreeOfParallelism = Senders }, async (message, ct) =>
        {
            var i = Interlocked.Increment(ref sent);
            await floor.ReplayAsync(intakeMix, i, messages.Count, ct);
            await Retry.RunAsync(retry, t => floor.Queue.SendMessageAsync(message, cancellationToken: t), ct);
        });
        var floorIntake = clock.Elapsed;
        var floorIntakeCpu = Cpu(self, ref cpu);

        // The drain's own receives and deletes are the floor drain's too; everything else is replayed per message.
        var applyMix = applyRequests.Without(StorageNames.WebhookQueue, "queue GET", int.MaxValue).Without(StorageNames.WebhookQueue, "queue DELETE", messages.Count);
        clock.Restart();
        var done = -1;
        var floorProcessed = await DrainAsync(Listener(azurite.ConnectionString, floor.Queue, tally), retry, async m =>
        {
            var i = Interlocked.Increment(ref done);
            await floor.ReplayAsync(applyMix, i, messages.Count, CancellationToken.None);
        });
        var floorApply = clock.Elapsed;
        var floorApplyCpu = Cpu(self, ref cpu);
        var floorTotal = floorIntake + floorApply;

        Console.WriteLine($"intake: {bodies.Count} deliveries in {intake.TotalSeconds:F1} s = {bodies.Count / intake.TotalSeconds:F0}/s ({string.Join(", ", statuses.OrderBy(s => s.Key).Select(s => $"{s.Value}× {s.Key}"))}); {queued} queued; requests {intakeRequests.Describe(bodies.Count, "delivery")}");
        Console.WriteLine($"apply: {processed} messages in {apply.TotalSeconds:F1} s = {processed / apply.TotalSeconds:F0}/s, at most {BatchSize + NewBatchThreshold} in flight; requests {applyRequests.Describe(processed, "message")}");
        Console.WriteLine($"floor (raw SDK, same Azurite, same run): {messages.Count} of the product's messages sent by {Senders} senders in {floorIntake.TotalSeconds:F1} s, "
            + $"{floorProcessed} drained the same way with the product's requests replayed in {floorApply.TotalSeconds:F1} s");
        Console.WriteLine($"ratio to the floor: intake {floorIntake.TotalSeconds / intake.TotalSeconds:F2}, apply {floorApply.TotalSeconds / apply.TotalSeconds:F2}, "
            + $"end to end {floorTotal.TotalSeconds / pipeline.TotalSeconds:F2} (pipeline {bodies.Count / pipeline.TotalSeconds:F0} deliveries/s, floor {messages.Count / floorTotal.TotalSeconds:F0} messages/s)");
        Console.WriteLine($"CPU of this process (Azurite runs in its own): intake {intakeCpu.TotalSeconds:F1} s vs floor {floorIntakeCpu.TotalSeconds:F1} s, apply {applyCpu.TotalSeconds:F1} s vs floor {floorApplyCpu.TotalSeconds:F1} s; "
            + $"machine load average {LoadAverage()}; apply log events: {applyEvents}; handler failures retried: {(Failures.IsEmpty ? "none" : string.Join(", ", Failures.Select(f => $"{f.Key} ×{f.Value}")))}");
        Console.WriteLine($"check: {oracle.Records.Count} expected records, {actual.Count} stored, {wrong} differ; {deadLetters} dead-lettered");
        return wrong == 0 && deadLetters == 0 && statuses.Keys.All(s => s == 202) ? 0 : 1;
    }

    /// <summary>
    /// Runs a few lifecycles through intake and apply first, on a table of their own, so neither measured phase pays
    /// for compiling the product's code (the floor's SDK calls are compiled by then too, by the product's).
    /// </summary>
    internal static async Task WarmUpAsync(string connectionString, int seed)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AzureWebJobsStorage"] = connectionString,
            ["CalcomWebhook:Secrets:0"] = Secret,
            ["Appointments:TableName"] = "WarmUp",
        }).Build();
        await using var services = new ServiceCollection().AddLogging().AddAskProFunctions(configuration).BuildServiceProvider();
        var function = services.GetRequiredService<CalcomWebhookFunction>();
        var processor = services.GetRequiredService<CalcomEventProcessor>();
        var storage = services.GetRequiredService<StorageClients>();
        await services.GetRequiredService<WebhookQueue>().EnsureCreatedAsync(CancellationToken.None);
        await services.GetRequiredService<AppointmentTableStore>().EnsureCreatedAsync(CancellationToken.None);
        var bodies = new Scenario(new LifecycleGenerator(seed + 1).NextLifecycles(20, staffMembers: 10, days: 5)).InOrder.Select(e => e.Body).ToList();
        await Parallel.ForEachAsync(bodies, new ParallelOptions { MaxDegreeOfParallelism = Senders }, async (body, ct) =>
        {
            var context = new DefaultHttpContext();
            context.Request.Method = "POST";
            context.Request.Body = new MemoryStream(body);
            context.Request.ContentLength = body.Length;
            context.Request.Headers[WebhookSignature.HeaderName] = WebhookSignature.Sign(body, Encoding.UTF8.GetBytes(Secret));
            await function.CalcomWebhook(context.Request, ct);
        });
        var retry = services.GetRequiredService<Microsoft.Extensions.Options.IOptions<ApplyQueueOptions>>().Value;
        await DrainAsync(storage.WebhookQueue, retry, m => processor.ProcessAsync(m.Body, m.MessageId, m.DequeueCount, CancellationToken.None));
        Console.WriteLine($"warm-up: {bodies.Count} deliveries through intake and apply on their own table");
    }

    internal static TimeSpan Cpu(Process self, ref TimeSpan since)
    {
        self.Refresh();
        var now = self.TotalProcessorTime;
        var used = now - since;
        since = now;
        return used;
    }

    internal static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

    /// <summary>Log events by id and name (contention retries, deferrals, …): where apply time goes besides requests.</summary>
    internal sealed class EventTally : ILoggerProvider
    {
        private readonly ConcurrentDictionary<string, int> _counts = new(StringComparer.Ordinal);

        public void Clear() => _counts.Clear();

        public string Describe() => _counts.IsEmpty ? "none"
            : string.Join(", ", _counts.Where(c => !c.Key.StartsWith("2000 ", StringComparison.Ordinal)).OrderByDescending(c => c.Value).Take(6).Select(c => $"{c.Key} ×{c.Value}"));

        public ILogger CreateLogger(string categoryName) => new Counter(_counts);

        public void Dispose()
        {
        }

        private sealed class Counter(ConcurrentDictionary<string, int> counts) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Debug;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                counts.AddOrUpdate($"{eventId.Id} {eventId.Name}", 1, (_, n) => n + 1);
        }
    }

    /// <summary>
    /// Drains a queue as one Functions instance does (host.json: batchSize 16, newBatchThreshold 8): one poller fetches a
    /// batch of up to 16 when at most 8 are still running, each message runs once (hidden for 10 minutes, far longer
    /// than it takes), and is deleted after its handler returns. Ends when nothing is running and the queue (visible or
    /// hidden, e.g. the processor's delayed re-sends) is empty.
    /// </summary>
    /// <summary>Handler failures by exception type (the host would retry them): printed with the figures.</summary>
    internal static readonly ConcurrentDictionary<string, int> Failures = new(StringComparer.Ordinal);

    /// <summary>
    /// The client the drain receives and deletes with, as the host's queue listener has its own: the SDK's default
    /// network timeout, not the product's 5 s. With the product's clients a receive answered late by a slow emulator (the
    /// 10,000 run) was retried, and the messages the first try had received stayed hidden for the 10 minutes of the
    /// receive, so the drain idled waiting for them.
    /// </summary>
    internal static QueueClient Listener(string connectionString, QueueClient queue, HttpPipelinePolicy tally)
    {
        var options = new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 };
        options.Diagnostics.IsLoggingEnabled = false;
        options.AddPolicy(tally, HttpPipelinePosition.PerRetry);
        return new QueueClient(connectionString, queue.Name, options);
    }

    internal static async Task<int> DrainAsync(QueueClient queue, ApplyQueueOptions retry, Func<QueueMessage, Task> handle)
    {
        var done = 0;
        var inFlight = 0;
        using var finished = new SemaphoreSlim(0);
        var running = new List<Task>();
        while (true)
        {
            while (Volatile.Read(ref inFlight) > NewBatchThreshold)
            {
                await finished.WaitAsync(TimeSpan.FromMilliseconds(100));
            }

            var batch = (await Retry.RunAsync(retry, t => queue.ReceiveMessagesAsync(BatchSize, TimeSpan.FromMinutes(10), t), CancellationToken.None)).Value;
            if (batch.Length == 0)
            {
                if (Volatile.Read(ref inFlight) == 0
                    && (await Retry.RunAsync(retry, t => queue.GetPropertiesAsync(t), CancellationToken.None)).Value.ApproximateMessagesCount == 0)
                {
                    break;
                }

                await Task.Delay(50);
                continue;
            }

            foreach (var m in batch)
            {
                Interlocked.Increment(ref inFlight);
                running.Add(Task.Run(async () =>
                {
                    try
                    {
                        try
                        {
                            await handle(m);
                        }
                        catch (Exception ex) when (ex is not OutOfMemoryException)
                        {
                            // As the host does with a failed function: the message shows again after host.json's
                            // visibilityTimeout; a pop receipt that no longer matches (the processor held it) is ignored.
                            Failures.AddOrUpdate(ex.GetType().Name, 1, (_, n) => n + 1);
                            try
                            {
                                await Retry.RunAsync(retry, t => queue.UpdateMessageAsync(m.MessageId, m.PopReceipt, visibilityTimeout: TimeSpan.FromSeconds(10), cancellationToken: t), CancellationToken.None);
                            }
                            catch (Azure.RequestFailedException update) when (update.Status is 400 or 404)
                            {
                            }

                            return;
                        }

                        await Retry.RunAsync(retry, async t =>
                        {
                            try
                            {
                                await queue.DeleteMessageAsync(m.MessageId, m.PopReceipt, t);
                            }
                            catch (Azure.RequestFailedException ex) when (ex.Status == 404)
                            {
                                // An earlier try that timed out on our side had deleted it.
                            }
                        }, CancellationToken.None);
                        Interlocked.Increment(ref done);
                    }
                    finally
                    {
                        Interlocked.Decrement(ref inFlight);
                        finished.Release();
                    }
                }));
            }

            running.RemoveAll(t => t.IsCompletedSuccessfully);
        }

        await Task.WhenAll(running);
        return done;
    }

    /// <summary>Retries a call whose failure passes (<see cref="TransientFailure"/>) after the delays the product's queues use.</summary>
    internal static class Retry
    {
        public static async Task<T> RunAsync<T>(ApplyQueueOptions settings, Func<CancellationToken, Task<T>> call, CancellationToken ct)
        {
            int? failures = null;
            DateTimeOffset? first = null;
            while (true)
            {
                try
                {
                    return await call(ct);
                }
                catch (Exception ex) when (TransientFailure.Is(ex, ct))
                {
                    var step = TransientRetry.Next(settings, failures, first, DateTimeOffset.UtcNow);
                    if (step.Delay is not { } delay)
                    {
                        throw;
                    }

                    (failures, first) = (step.Failures, step.FirstFailureAt);
                    await Task.Delay(delay, ct);
                }
            }
        }

        public static Task RunAsync(ApplyQueueOptions settings, Func<CancellationToken, Task> call, CancellationToken ct) =>
            RunAsync(settings, async t =>
            {
                await call(t);
                return true;
            }, ct);
    }

    /// <summary>The storage requests the app's clients send while started, by kind ("table GET", "queue POST", …) and target.</summary>
    internal sealed class RequestTally : HttpPipelinePolicy
    {
        private ConcurrentDictionary<(string Kind, string Target), long[]>? _counts;

        public void Start() => _counts = new();

        public RequestMix Stop()
        {
            var counts = _counts ?? new();
            _counts = null;
            return new RequestMix(counts.ToDictionary(p => p.Key, p => (p.Value[0], p.Value[1])));
        }

        public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            Record(message);
            ProcessNext(message, pipeline);
        }

        public override ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            Record(message);
            return ProcessNextAsync(message, pipeline);
        }

        private void Record(HttpMessage message)
        {
            if (_counts is not { } counts)
            {
                return;
            }

            var request = message.Request;
            var path = request.Uri.Path;
            var kind = $"{RequestCounter.ServiceOf(request)} {request.Method}{(path.EndsWith("$batch", StringComparison.Ordinal) ? " $batch" : "")}";
            // The first path segment after the account: the queue, table or container the request goes to.
            var segments = path.Trim('/').Split('/');
            var target = (segments.Length > 1 ? segments[1] : segments[0]).Split('(')[0];
            var length = request.Content is { } content && content.TryComputeLength(out var n) ? n : 0;
            var slot = counts.GetOrAdd((kind, target), _ => new long[2]);
            Interlocked.Increment(ref slot[0]);
            Interlocked.Add(ref slot[1], length);
        }
    }

    /// <summary>Requests by kind and target: how many, and their bytes in all.</summary>
    internal sealed record RequestMix(Dictionary<(string Kind, string Target), (long Count, long Bytes)> Counts)
    {
        /// <summary>The mix without up to <paramref name="count"/> requests of one kind to one target (the ones the floor does itself).</summary>
        public RequestMix Without(string target, string kind, int count)
        {
            var counts = new Dictionary<(string Kind, string Target), (long Count, long Bytes)>(Counts);
            if (counts.TryGetValue((kind, target), out var c))
            {
                var left = Math.Max(0, c.Count - count);
                counts[(kind, target)] = (left, c.Count == 0 ? 0 : c.Bytes * left / c.Count);
            }

            return new RequestMix(counts);
        }

        public string Describe(int per, string unit) =>
            $"{Counts.Values.Sum(c => c.Count) / (double)per:F2} per {unit} (" + string.Join(", ", Counts.Where(c => c.Value.Count > 0).OrderBy(c => c.Key)
                .Select(c => $"{c.Key.Kind} {c.Key.Target} {c.Value.Count / (double)per:F2}")) + ")";
    }

    /// <summary>Raw SDK calls standing in for the product's: same kinds, same average sizes, on the floor's own queue, table and container.</summary>
    internal sealed class Floor(QueueClient queue, QueueClient side, TableClient table, Azure.Storage.Blobs.BlobContainerClient blobs, ApplyQueueOptions retry)
    {
        public QueueClient Queue => queue;

        /// <summary>The partitions the floor's table requests go to, message by message in turn (the product's tenants' partitions).</summary>
        public IReadOnlyList<string> Partitions { get; set; } = ["calcom"];

        public static async Task<Floor> CreateAsync(StorageClients storage, int seed, ApplyQueueOptions retry)
        {
            var queue = storage.Queues.GetQueueClient("floor-" + seed.ToString(CultureInfo.InvariantCulture));
            var side = storage.Queues.GetQueueClient("floor-side-" + seed.ToString(CultureInfo.InvariantCulture));
            var table = storage.Tables.GetTableClient("floor" + seed.ToString(CultureInfo.InvariantCulture));
            var blobs = storage.Blobs.GetBlobContainerClient("floor-" + seed.ToString(CultureInfo.InvariantCulture));
            await queue.CreateIfNotExistsAsync();
            await side.CreateIfNotExistsAsync();
            await table.CreateIfNotExistsAsync();
            await blobs.CreateIfNotExistsAsync();
            return new Floor(queue, side, table, blobs, retry);
        }

        /// <summary>Message <paramref name="i"/> of <paramref name="n"/>'s share of every kind of request in the mix, one after another as the product makes them.</summary>
        public async Task ReplayAsync(RequestMix mix, int i, int n, CancellationToken ct)
        {
            // Reads before writes, as an apply reads its rows and then submits.
            foreach (var ((kind, _), (count, bytes)) in mix.Counts.OrderBy(c => c.Key.Kind.Contains("GET", StringComparison.Ordinal) || c.Key.Kind.Contains("HEAD", StringComparison.Ordinal) ? 0 : 1).ThenBy(c => c.Key.Kind, StringComparer.Ordinal))
            {
                var mine = (int)(count * (i + 1L) / n - count * (long)i / n);
                var size = count == 0 ? 0 : (int)(bytes / count);
                for (var k = 0; k < mine; k++)
                {
                    var key = "r" + ((i * 7 + k) % 2000).ToString(CultureInfo.InvariantCulture);
                    var partition = Partitions[i % Partitions.Count];
                    await Retry.RunAsync(retry, t => OneAsync(kind, partition, key, size, t), ct);
                }
            }
        }

        private async Task OneAsync(string kind, string partition, string key, int size, CancellationToken ct)
        {
            switch (kind)
            {
                case "table GET":
                    await table.GetEntityIfExistsAsync<TableEntity>(partition, key, cancellationToken: ct);
                    break;
                case "table POST $batch":
                    // Two upserts sharing the request's average size (a transaction's body is its entities' JSON plus framing).
                    await table.SubmitTransactionAsync(
                    [
                        new TableTransactionAction(TableTransactionActionType.UpsertReplace, new TableEntity(partition, key) { ["Facts"] = new string('x', Math.Max(1, size / 2 - 400)) }),
                        new TableTransactionAction(TableTransactionActionType.UpsertReplace, new TableEntity(partition, key + "b") { ["Facts"] = new string('x', Math.Max(1, size / 2 - 400)) }),
                    ], ct);
                    break;
                case "table PUT" or "table PATCH" or "table MERGE" or "table POST":
                    await table.UpsertEntityAsync(new TableEntity(partition, key) { ["Facts"] = new string('x', Math.Max(1, size - 200)) }, TableUpdateMode.Replace, ct);
                    break;
                case "table DELETE":
                    await table.DeleteEntityAsync(partition, key + "d", cancellationToken: ct);
                    break;
                case "queue POST":
                    await side.SendMessageAsync(new string('x', Math.Max(1, size * 3 / 4 - 100)), ct);
                    break;
                case "queue PUT" or "queue GET" or "queue DELETE":
                    // Visibility updates, receives and deletes of other queues (series look-ups): a peek is the nearest raw read.
                    await side.PeekMessageAsync(ct);
                    break;
                case "blob PUT":
                    await blobs.GetBlobClient(key).UploadAsync(new BinaryData(new byte[Math.Max(0, size)]), overwrite: true, ct);
                    break;
                case "blob GET" or "blob HEAD":
                    try
                    {
                        await blobs.GetBlobClient(key).GetPropertiesAsync(cancellationToken: ct);
                    }
                    catch (Azure.RequestFailedException ex) when (ex.Status == 404)
                    {
                    }

                    break;
                case "blob DELETE":
                    await blobs.GetBlobClient(key + "d").DeleteIfExistsAsync(cancellationToken: ct);
                    break;
                default:
                    // Anything else (container or queue creation): a cheap read of the same service.
                    await table.GetEntityIfExistsAsync<TableEntity>(partition, key, cancellationToken: ct);
                    break;
            }
        }
    }
}
