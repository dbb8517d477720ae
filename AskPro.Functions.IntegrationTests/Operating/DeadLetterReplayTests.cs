using System.Text;
using AskPro.Functions.Calcom;
using AskPro.Functions.Operating;
using AskPro.Functions.Queueing;
using AskPro.Functions.Storage;
using AskPro.Functions.Tests.Infrastructure;
using Azure;
using Azure.Core.Pipeline;
using Azure.Storage.Queues.Models;
using Microsoft.Extensions.DependencyInjection;

namespace AskPro.Functions.Tests.Operating;

/// <summary>
/// Listing and replaying <c>calcom-webhooks-deadletter</c> on Azurite, with dead letters the real processor wrote: a
/// good envelope that failed transiently, a malformed message, and a claim-check delivery whose body the lifecycle
/// rule has since deleted. Own emulator: the tests empty the app's fixed queues.
/// </summary>
[Collection(RunsAloneCollection.Name)]
public sealed class DeadLetterReplayTests(DeadLetterReplayTests.Emulator emulator) : IClassFixture<DeadLetterReplayTests.Emulator>, IAsyncLifetime
{
    private readonly FaultPolicy _faults = new();
    private TestApp _app = null!;

    public sealed class Emulator : IAsyncLifetime
    {
        public Azurite Azurite { get; private set; } = null!;
        public async Task InitializeAsync() => Azurite = await Azurite.StartAsync(allowExternal: false);
        public Task DisposeAsync() => Azurite.StopAsync();
    }

    public async Task InitializeAsync()
    {
        // Retry-for 0: the first transient failure dead-letters, as 24 h of failures would.
        _app = TestApp.Create(emulator.Azurite.ConnectionString, s => s["Queue:TransientRetryFor"] = "00:00:00",
            s => s.AddSingleton<HttpPipelinePolicy>(_faults));
        var queue = _app.Get<WebhookQueue>();
        await queue.EnsureCreatedAsync(CancellationToken.None);
        await Storage.WebhookQueue.ClearMessagesAsync();
        await Storage.DeadLetterQueue.ClearMessagesAsync();
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private StorageClients Storage => _app.Get<StorageClients>();
    private CalcomEventProcessor Processor => _app.Get<CalcomEventProcessor>();

    /// <summary>Queues a body as the HTTP function does and lets the processor fail on it with the table "down".</summary>
    private async Task<WebhookEnvelope> DeadLetterTransientAsync(byte[] body)
    {
        var read = CalcomWebhookReader.Read(body);
        var envelope = await _app.Get<WebhookQueue>().EnqueueAsync(body, read.TriggerEvent!, read.Event!.Uid, read.Event.RescheduleUid, DateTimeOffset.UtcNow, CancellationToken.None);
        var message = (await Storage.WebhookQueue.ReceiveMessageAsync()).Value;
        _faults.Fault = (service, _) => FaultPolicy.ServerBusy("table", service);
        try
        {
            Assert.Null(await Processor.ProcessAsync(message.Body, message.MessageId, message.DequeueCount, CancellationToken.None));
        }
        finally
        {
            _faults.Fault = null;
        }

        await Storage.WebhookQueue.DeleteMessageAsync(message.MessageId, message.PopReceipt);
        return envelope;
    }

    private async Task DeadLetterMalformedAsync() =>
        await Processor.ProcessAsync(BinaryData.FromString("{\"not\":\"an envelope\"}"), "malformed-1", 1, CancellationToken.None);

    /// <summary>A body over the 48 KiB queue limit, so it travels as a claim check.</summary>
    private static byte[] LargeBody()
    {
        var node = System.Text.Json.Nodes.JsonNode.Parse(Examples.Calcom("booking_created_api_metadata.json"))!;
        node["payload"]!["responses"]!["padding"] = new string('x', 60_000);
        return Encoding.UTF8.GetBytes(node.ToJsonString());
    }

    private async Task<int> CountAsync(Azure.Storage.Queues.QueueClient queue) => (await queue.PeekMessagesAsync(32)).Value.Length;

    private async Task<List<QueueMessage>> DrainWorkQueueIntoProcessorAsync()
    {
        var seen = new List<QueueMessage>();
        while ((await Storage.WebhookQueue.ReceiveMessagesAsync(32)).Value is { Length: > 0 } batch)
        {
            foreach (var m in batch)
            {
                seen.Add(m);
                Assert.NotNull(await Processor.ProcessAsync(m.Body, m.MessageId, m.DequeueCount, CancellationToken.None));
                await Storage.WebhookQueue.DeleteMessageAsync(m.MessageId, m.PopReceipt);
            }
        }

        return seen;
    }

    [Fact]
    public async Task List_dry_run_max_and_replay_move_each_good_dead_letter_once_and_keep_the_malformed_one()
    {
        var transient = await DeadLetterTransientAsync(Examples.Calcom("booking_created_web.json"));
        await DeadLetterMalformedAsync();
        var large = await DeadLetterTransientAsync(LargeBody());
        Assert.NotNull(large.BodyBlob);
        // The body container's lifecycle rule deleted the claim check; the dead letter kept its own copy.
        await Storage.BodyContainer.DeleteBlobAsync(large.BodyBlob);

        var list = await OperatorCall.ListDeadLettersAsync(_app);
        Assert.Equal(200, list.StatusCode);
        var items = list.Json.GetProperty("deadLetters").EnumerateArray().ToList();
        Assert.Equal(3, items.Count);
        Assert.Equal([transient.DeliveryId, null, large.DeliveryId], items.Select(i => i.GetProperty("deliveryId").GetString()));
        Assert.Equal(["BOOKING_CREATED", null, "BOOKING_CREATED"], items.Select(i => i.GetProperty("triggerEvent").GetString()));
        Assert.Contains("Queue__TransientRetryFor", items[0].GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.Contains("webhook envelope", items[1].GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.True(items[2].GetProperty("claimCheck").GetBoolean());
        Assert.All(items, i => Assert.Equal(System.Text.Json.JsonValueKind.String, i.GetProperty("lastTry").ValueKind));
        // No bodies, so no personal data or booking uids.
        Assert.DoesNotContain("k3VbP9qWm2xYc7RtL5nD8a", list.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("@example", list.Text, StringComparison.Ordinal);
        Assert.Equal(1, (await OperatorCall.ListDeadLettersAsync(_app, "max=1")).Json.GetProperty("count").GetInt32());

        var dry = await OperatorCall.ReplayAsync(_app, "dryRun=true");
        Assert.Equal(200, dry.StatusCode);
        Assert.True(dry.Json.GetProperty("dryRun").GetBoolean());
        Assert.Equal((2, 1), (dry.Json.GetProperty("moved").GetInt32(), dry.Json.GetProperty("kept").GetInt32()));
        Assert.Equal(0, await CountAsync(Storage.WebhookQueue));
        Assert.Equal(3, await CountAsync(Storage.DeadLetterQueue));

        var one = await OperatorCall.ReplayAsync(_app, "max=1");
        Assert.Equal(1, one.Json.GetProperty("moved").GetInt32());
        Assert.Equal(transient.DeliveryId, one.Json.GetProperty("messages")[0].GetProperty("deliveryId").GetString());
        Assert.Equal(1, await CountAsync(Storage.WebhookQueue));
        Assert.Equal(2, await CountAsync(Storage.DeadLetterQueue));

        var rest = await OperatorCall.ReplayAsync(_app, "max=10");
        Assert.Equal((1, 1, 0), (rest.Json.GetProperty("moved").GetInt32(), rest.Json.GetProperty("kept").GetInt32(), rest.Json.GetProperty("failed").GetInt32()));
        var kept = rest.Json.GetProperty("messages").EnumerateArray().Single(m => m.GetProperty("result").GetString() == DeadLetterOperations.Kept);
        Assert.Contains("not a webhook envelope, replaying it would fail again", kept.GetProperty("reason").GetString(), StringComparison.Ordinal);

        // The claim-check body is back where the processor reads it, and the dead letter's own copy is gone with it.
        Assert.True((await Storage.BodyContainer.GetBlobClient(large.BodyBlob).ExistsAsync()).Value);
        Assert.False((await Storage.DeadLetterContainer.GetBlobClient("bodies/" + large.BodyBlob).ExistsAsync()).Value);

        var again = await OperatorCall.ReplayAsync(_app, "max=10");
        Assert.Equal((0, 1), (again.Json.GetProperty("moved").GetInt32(), again.Json.GetProperty("kept").GetInt32()));
        Assert.Equal(1, await CountAsync(Storage.DeadLetterQueue));

        // Exactly one copy of each good delivery went back, and both apply now (the claim-check body was restored).
        var replayed = await DrainWorkQueueIntoProcessorAsync();
        Assert.Equal(new[] { transient.DeliveryId, large.DeliveryId }.Order(StringComparer.Ordinal),
            replayed.Select(m => WebhookEnvelope.Parse(m.Body.ToMemory().Span).DeliveryId).Order(StringComparer.Ordinal));
        Assert.All(replayed, m => Assert.Null(WebhookEnvelope.Parse(m.Body.ToMemory().Span).FirstFailureAt));
        Assert.All(replayed, m => Assert.True(m.ExpiresOn > DateTimeOffset.UtcNow.AddYears(100), $"replayed copy expires {m.ExpiresOn}"));
        Assert.Equal(1, await CountAsync(Storage.DeadLetterQueue));
    }

    [Fact]
    public async Task A_work_queue_write_that_fails_mid_replay_loses_nothing()
    {
        var first = await DeadLetterTransientAsync(Examples.Calcom("booking_created_web.json"));
        var second = await DeadLetterTransientAsync(Examples.Calcom("booking_created_api_metadata.json"));
        var sends = 0;
        // The first copy reaches the work queue, the second send fails (storage refuses the work queue only).
        _faults.Fault = (_, message) => message.Request.Method == Azure.Core.RequestMethod.Post
            && message.Request.Uri.Path.EndsWith($"/{StorageNames.WebhookQueue}/messages", StringComparison.Ordinal)
            && Interlocked.Increment(ref sends) > 1
            ? new RequestFailedException(503, "injected: the work queue is down", "ServerBusy", null) : null;

        var report = await OperatorCall.ReplayAsync(_app, "max=10");
        _faults.Fault = null;

        Assert.Equal(200, report.StatusCode);
        Assert.Equal((1, 1), (report.Json.GetProperty("moved").GetInt32(), report.Json.GetProperty("failed").GetInt32()));
        var failed = report.Json.GetProperty("messages").EnumerateArray().Single(m => m.GetProperty("result").GetString() == DeadLetterOperations.Failed);
        Assert.Equal(second.DeliveryId, failed.GetProperty("deliveryId").GetString());
        // The one that failed is still a dead letter, visible at once, and moves on the next run.
        Assert.Equal(1, await CountAsync(Storage.WebhookQueue));
        Assert.Equal(1, await CountAsync(Storage.DeadLetterQueue));
        var retry = await OperatorCall.ReplayAsync(_app);
        Assert.Equal(1, retry.Json.GetProperty("moved").GetInt32());
        Assert.Equal(new[] { first.DeliveryId, second.DeliveryId }.Order(StringComparer.Ordinal),
            (await DrainWorkQueueIntoProcessorAsync()).Select(m => WebhookEnvelope.Parse(m.Body.ToMemory().Span).DeliveryId).Order(StringComparer.Ordinal));
        Assert.Equal(0, await CountAsync(Storage.DeadLetterQueue));
    }

    [Theory]
    [InlineData("max=0")]
    [InlineData("max=abc")]
    [InlineData("max=1001")]
    [InlineData("dryRun=maybe")]
    public async Task Bad_query_values_are_400_in_the_error_format(string query)
    {
        var response = await OperatorCall.ReplayAsync(_app, query);

        Assert.Equal(400, response.StatusCode);
        Assert.Equal("invalid_query", response.ErrorCode);
        Assert.Equal(0, await CountAsync(Storage.WebhookQueue));
    }
}
