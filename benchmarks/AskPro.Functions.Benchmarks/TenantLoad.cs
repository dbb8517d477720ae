using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using AskPro.Functions.Appointments;
using AskPro.Functions.Calcom;
using AskPro.Functions.Hosting;
using AskPro.Functions.Queueing;
using AskPro.Functions.Storage;
using AskPro.Functions.Tests.Infrastructure;
using AskPro.Functions.Tests.Tenants;
using AskPro.Functions.Webhooks;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AskPro.Functions.Benchmarks;

/// <summary>
/// Issue 16's load run (<c>tenants N</c>): 20 tenants declared in configuration living overlapping generated stories
/// (<see cref="TenantStories"/>: the same lifecycle generator as <c>pipeline N</c>; shared uids, staff and bodies across
/// tenants), each tenant's deliveries shuffled with duplicates and re-deliveries, all interleaved; posted to the
/// tenants' own routes (<c>POST /api/webhooks/calcom/{tenant}</c>, signed with each tenant's secret before the clock
/// starts) by 32 concurrent senders, then drained as one Functions instance drains the queue through the real
/// processor. The floor is <see cref="PipelineLoad"/>'s, in the same run on the same Azurite: the product's own queue
/// messages sent raw, then drained with the same number and kind of storage requests per message, spread over the
/// tenants' partitions. Checks every tenant's records (its own partition) against its own events delivered alone, in
/// order, to the pure book; every record row names its tenant and company; nothing is dead-lettered; every delivery 202.
/// </summary>
internal static class TenantLoad
{
    public const int Tenants = 20;
    private const int Senders = 32;
    private const string DefaultSecret = "load-run-secret-0123456789abcdef0123";

    public static async Task<int> RunAsync(int deliveries, int seed)
    {
        await using var azurite = await Azurite.StartAsync();
        await PipelineLoad.WarmUpAsync(azurite.ConnectionString, seed);
        var tenants = Enumerable.Range(1, Tenants).Select(i => $"praxis-{i:D2}").ToList();
        var settings = new Dictionary<string, string?>
        {
            ["AzureWebJobsStorage"] = azurite.ConnectionString,
            ["CalcomWebhook:Secrets:0"] = DefaultSecret,
        };
        tenants.ForEach(t => TenantHarness.Declare(settings, t));
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var tally = new PipelineLoad.RequestTally();
        var events = new PipelineLoad.EventTally();
        await using var services = new ServiceCollection().AddLogging(b => b.AddProvider(events).SetMinimumLevel(LogLevel.Debug)).AddSingleton<HttpPipelinePolicy>(tally).AddAskProFunctions(configuration).BuildServiceProvider();
        var function = services.GetRequiredService<CalcomWebhookFunction>();
        var processor = services.GetRequiredService<CalcomEventProcessor>();
        var storage = services.GetRequiredService<StorageClients>();
        var retry = services.GetRequiredService<Microsoft.Extensions.Options.IOptions<ApplyQueueOptions>>().Value;
        await services.GetRequiredService<WebhookQueue>().EnsureCreatedAsync(CancellationToken.None);
        await services.GetRequiredService<AppointmentTableStore>().EnsureCreatedAsync(CancellationToken.None);

        // About N deliveries: a generated lifecycle averages about 3.4 bodies, delivered about 1.45 times.
        var lifecycles = Math.Max(2, (int)Math.Round(deliveries / (double)Tenants / 4.9));
        var stories = TenantStories.Generate(seed, tenants, pool: lifecycles, own: lifecycles - lifecycles / 2, staffMembers: 4, days: 5, seatedRate: 0);
        var oracles = stories.Tenants.ToDictionary(t => t.Tenant, t =>
        {
            var book = new AppointmentBook();
            foreach (var e in t.InOrder)
            {
                book.Apply(CalcomWebhookReader.Read(e.Body).Event!);
            }

            return book;
        }, StringComparer.Ordinal);
        Console.WriteLine($"tenant load: {Tenants} tenants, {stories.Deliveries.Count} deliveries ({stories.Tenants.Sum(t => t.InOrder.Count)} distinct events of "
            + $"{stories.Tenants.Sum(t => t.Lifecycles.Count)} generated lifecycles, the rest exact duplicates and re-deliveries), interleaved and shuffled, seed {seed}; "
            + $"{stories.SharedUids} uids and {stories.SharedBodies} bodies in several tenants");

        // Cal.com signs before sending: not part of what is measured.
        var signed = stories.Deliveries.Select(d => (d.Tenant, d.Body, Signature: WebhookSignature.Sign(d.Body, Encoding.UTF8.GetBytes(TenantHarness.SecretOf(d.Tenant))))).ToList();
        var statuses = new ConcurrentDictionary<int, int>();
        using var self = Process.GetCurrentProcess();
        var cpu = self.TotalProcessorTime;
        tally.Start();
        var clock = Stopwatch.StartNew();
        var resent = 0;
        await Parallel.ForEachAsync(signed, new ParallelOptions { MaxDegreeOfParallelism = Senders }, async (delivery, ct) =>
        {
            for (var attempt = 1; ; attempt++)
            {
                var context = new DefaultHttpContext();
                context.Request.Method = "POST";
                context.Request.Body = new MemoryStream(delivery.Body);
                context.Request.ContentLength = delivery.Body.Length;
                context.Request.Headers[WebhookSignature.HeaderName] = delivery.Signature;
                var result = (ApiResult)await function.CalcomTenantWebhook(context.Request, delivery.Tenant, ct);
                // A 503 (the enqueue failed: nothing queued) is re-sent, as Cal.com re-sends it; counted and printed.
                if (result.StatusCode == StatusCodes.Status503ServiceUnavailable && attempt < 5)
                {
                    Interlocked.Increment(ref resent);
                    await Task.Delay(TimeSpan.FromMilliseconds(200 * attempt), ct);
                    continue;
                }

                statuses.AddOrUpdate(result.StatusCode, 1, (_, n) => n + 1);
                return;
            }
        });
        var intake = clock.Elapsed;
        var intakeRequests = tally.Stop();
        var intakeCpu = PipelineLoad.Cpu(self, ref cpu);
        var queued = (await storage.WebhookQueue.GetPropertiesAsync()).Value.ApproximateMessagesCount;

        var received = new ConcurrentQueue<BinaryData>();
        events.Clear();
        self.Refresh();
        cpu = self.TotalProcessorTime;
        tally.Start();
        clock.Restart();
        var processed = await PipelineLoad.DrainAsync(PipelineLoad.Listener(azurite.ConnectionString, storage.WebhookQueue, tally), retry, async m =>
        {
            received.Enqueue(m.Body);
            await processor.ProcessAsync(m.Body, m.MessageId, m.DequeueCount, CancellationToken.None);
        });
        var apply = clock.Elapsed;
        var applyRequests = tally.Stop();
        var applyCpu = PipelineLoad.Cpu(self, ref cpu);
        var applyEvents = events.Describe();
        var pipeline = intake + apply;

        var (expected, wrong, misnamed) = (0, 0, 0);
        foreach (var tenant in tenants)
        {
            var actual = new Dictionary<string, StoredAppointment>(StringComparer.Ordinal);
            await foreach (var row in storage.Appointments.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {tenant} and RowKey ge {"apt_"} and RowKey lt {"apt`"}")))
            {
                if (row.GetString("RowType") is AppointmentEntities.RowTypeMerged or AppointmentEntities.RowTypeSlot or AppointmentEntities.RowTypeSeat)
                {
                    continue;
                }

                var stored = AppointmentEntities.FromEntity(row);
                actual[stored.Record.AppointmentId] = stored;
                if (row.GetString("TenantId") != tenant || row.GetString("CompanyId") != TenantHarness.CompanyOf(tenant))
                {
                    misnamed++;
                }
            }

            var oracle = oracles[tenant];
            expected += oracle.Records.Count;
            wrong += oracle.Records.Count(p => !actual.TryGetValue(p.Key, out var a) || a.Record with { CalcomUids = [] } != p.Value.Record with { CalcomUids = [] }
                || !a.Record.CalcomUids.SequenceEqual(p.Value.Record.CalcomUids) || !a.ConflictsWith.SequenceEqual(p.Value.ConflictsWith)) + actual.Keys.Count(k => !oracle.Records.ContainsKey(k));
        }

        var partitions = new SortedSet<string>(StringComparer.Ordinal);
        await foreach (var row in storage.Appointments.QueryAsync<TableEntity>(select: ["PartitionKey"]))
        {
            partitions.Add(row.PartitionKey);
        }

        var strayPartitions = partitions.Except(tenants, StringComparer.Ordinal).ToList();
        var deadLetters = (await storage.DeadLetterQueue.GetPropertiesAsync()).Value.ApproximateMessagesCount;

        // The floor: the product's own queue messages and, per message, the requests the product made besides them,
        // done directly with the SDK on the same emulator, spread over the same 20 partitions.
        var messages = received.Where(m => WebhookEnvelope.Parse(m.ToMemory().Span).TransientFailures is null).ToList();
        var floor = await PipelineLoad.Floor.CreateAsync(storage, seed, retry);
        floor.Partitions = tenants;
        var intakeMix = intakeRequests.Without(StorageNames.WebhookQueue, "queue POST", messages.Count);
        self.Refresh();
        cpu = self.TotalProcessorTime;
        clock.Restart();
        var sent = -1;
        await Parallel.ForEachAsync(messages, new ParallelOptions { MaxDegreeOfParallelism = Senders }, async (message, ct) =>
        {
            var i = Interlocked.Increment(ref sent);
            await floor.ReplayAsync(intakeMix, i, messages.Count, ct);
            await PipelineLoad.Retry.RunAsync(retry, t => floor.Queue.SendMessageAsync(message, cancellationToken: t), ct);
        });
        var floorIntake = clock.Elapsed;
        var floorIntakeCpu = PipelineLoad.Cpu(self, ref cpu);

        var applyMix = applyRequests.Without(StorageNames.WebhookQueue, "queue GET", int.MaxValue).Without(StorageNames.WebhookQueue, "queue DELETE", messages.Count);
        clock.Restart();
        var done = -1;
        var floorProcessed = await PipelineLoad.DrainAsync(PipelineLoad.Listener(azurite.ConnectionString, floor.Queue, tally), retry, async m =>
        {
            var i = Interlocked.Increment(ref done);
            await floor.ReplayAsync(applyMix, i, messages.Count, CancellationToken.None);
        });
        var floorApply = clock.Elapsed;
        var floorApplyCpu = PipelineLoad.Cpu(self, ref cpu);
        var floorTotal = floorIntake + floorApply;

        var count = stories.Deliveries.Count;
        Console.WriteLine($"intake (tenant routes): {count} deliveries in {intake.TotalSeconds:F1} s = {count / intake.TotalSeconds:F0}/s ({string.Join(", ", statuses.OrderBy(s => s.Key).Select(s => $"{s.Value}× {s.Key}"))}, {resent} re-sent after a 503 as Cal.com re-sends); {queued} queued; requests {intakeRequests.Describe(count, "delivery")}");
        Console.WriteLine($"apply: {processed} messages in {apply.TotalSeconds:F1} s = {processed / apply.TotalSeconds:F0}/s, at most 24 in flight; requests {applyRequests.Describe(processed, "message")}");
        Console.WriteLine($"floor (raw SDK, same Azurite, same run, {Tenants} partitions): {messages.Count} of the product's messages sent by {Senders} senders in {floorIntake.TotalSeconds:F1} s, "
            + $"{floorProcessed} drained the same way with the product's requests replayed in {floorApply.TotalSeconds:F1} s");
        Console.WriteLine($"ratio to the floor: intake {floorIntake.TotalSeconds / intake.TotalSeconds:F2}, apply {floorApply.TotalSeconds / apply.TotalSeconds:F2}, "
            + $"end to end {floorTotal.TotalSeconds / pipeline.TotalSeconds:F2} (pipeline {count / pipeline.TotalSeconds:F0} deliveries/s, floor {messages.Count / floorTotal.TotalSeconds:F0} messages/s)");
        Console.WriteLine($"CPU of this process (Azurite runs in its own): intake {intakeCpu.TotalSeconds:F1} s vs floor {floorIntakeCpu.TotalSeconds:F1} s, apply {applyCpu.TotalSeconds:F1} s vs floor {floorApplyCpu.TotalSeconds:F1} s; "
            + $"machine load average {PipelineLoad.LoadAverage()}; apply log events: {applyEvents}; handler failures retried: {(PipelineLoad.Failures.IsEmpty ? "none" : string.Join(", ", PipelineLoad.Failures.Select(f => $"{f.Key} ×{f.Value}")))}");
        Console.WriteLine($"check: {Tenants} tenants, {expected} expected records (each tenant's own events alone, in order, to the pure book), {wrong} differ, "
            + $"{misnamed} record rows naming another tenant or company; partitions outside the tenants' {(strayPartitions.Count == 0 ? "none" : string.Join(", ", strayPartitions))}; {deadLetters} dead-lettered");
        return wrong == 0 && misnamed == 0 && strayPartitions.Count == 0 && deadLetters == 0 && statuses.Keys.All(s => s == 202) ? 0 : 1;
    }
}
