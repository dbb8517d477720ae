using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using AskPro.Functions.Appointments;
using AskPro.Functions.Calcom;
using AskPro.Functions.Queueing;
using AskPro.Functions.Storage;
using AskPro.Functions.Tests.Infrastructure;
using Azure.Data.Tables;
using Azure.Storage.Queues;
using Microsoft.Azure.WebJobs.Host;
using Xunit.Abstractions;

namespace AskPro.Functions.Tests.Queueing;

/// <summary>
/// Issue 3, "Poison": a message that can never succeed ends in <c>calcom-webhooks-poison</c> after
/// <c>maxDequeueCount</c> tries with a log line saying why; a transient failure is retried and then succeeds.
/// Proven with the WebJobs SDK queue listener against Azurite with this project's host.json queue settings.
/// The class has its own emulator (never an external account: the tests empty the webhook queues), and each test
/// starts with both queues and the appointments table empty and stops its listener, so no other test's messages reach a listener.
/// </summary>
[Collection(RunsAloneCollection.Name)]
public sealed class PoisonQueueTests(PoisonQueueTests.Emulator emulator, ITestOutputHelper output) : IClassFixture<PoisonQueueTests.Emulator>, IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    /// <summary>
    /// host.json's visibilityTimeout (10 s) is the pause before each retry; five tries would take 40 s per test.
    /// Only the two timing values are shortened; everything that decides how often a message is tried and where it
    /// ends comes from host.json unchanged (<see cref="HostJsonQueueSettingsAreWhatTheListenerRunsWith"/> proves it).
    /// </summary>
    private static readonly TimeSpan TestVisibilityTimeout = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan TestMaxPollingInterval = TimeSpan.FromMilliseconds(250);

    private readonly List<IAsyncDisposable> _cleanup = [];
    private readonly Azurite _azurite = emulator.Azurite;

    public async Task InitializeAsync()
    {
        var queues = new QueueServiceClient(_azurite.ConnectionString);
        foreach (var name in new[] { StorageNames.WebhookQueue, StorageNames.WebhookPoisonQueue })
        {
            var queue = queues.GetQueueClient(name);
            if ((await queue.ExistsAsync()).Value)
            {
                await queue.ClearMessagesAsync();
            }
        }

        // And no appointment from an earlier test: several apply the same example booking.
        await new TableServiceClient(_azurite.ConnectionString).DeleteTableAsync(new StorageOptions().AppointmentsTable);
    }

    public async Task DisposeAsync()
    {
        for (var i = _cleanup.Count - 1; i >= 0; i--)
        {
            await _cleanup[i].DisposeAsync();
        }
    }

    public sealed class Emulator : IAsyncLifetime
    {
        private Azurite? _azurite;

        public Azurite Azurite => _azurite ?? throw new InvalidOperationException("Azurite not started");

        public async Task InitializeAsync() => _azurite = await Azurite.StartAsync(allowExternal: false);

        public async Task DisposeAsync()
        {
            if (_azurite is not null)
            {
                await _azurite.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task HostJsonQueueSettingsAreWhatTheListenerRunsWith()
    {
        var hostJson = PoisonHostJson.Read();
        var app = await StartApp(_azurite.ConnectionString);

        // As the host runs it: nothing but host.json.
        var asHost = await Track(await QueueListenerHarness.StartAsync(_azurite.ConnectionString, app.Processor));
        hostJson.AssertBoundTo(asHost.Options);

        // As the other tests run it: only the two timing values differ.
        var asTest = await Track(await QueueListenerHarness.StartAsync(_azurite.ConnectionString, app.Processor, ShortenTiming));
        Assert.Equal(hostJson.MessageEncoding, asTest.Options.MessageEncoding);
        Assert.Equal(hostJson.BatchSize, asTest.Options.BatchSize);
        Assert.Equal(hostJson.NewBatchThreshold, asTest.Options.NewBatchThreshold);
        Assert.Equal(hostJson.MaxDequeueCount, asTest.Options.MaxDequeueCount);
        Assert.Equal(TestVisibilityTimeout, asTest.Options.VisibilityTimeout);
        Assert.Equal(TestMaxPollingInterval, asTest.Options.MaxPollingInterval);
        output.WriteLine($"host.json: {hostJson}");
        output.WriteLine($"tests run with visibilityTimeout {asTest.Options.VisibilityTimeout} (host.json {hostJson.VisibilityTimeout}), "
            + $"maxPollingInterval {asTest.Options.MaxPollingInterval} (host.json {hostJson.MaxPollingInterval}); "
            + $"maxDequeueCount {asTest.Options.MaxDequeueCount}, messageEncoding {asTest.Options.MessageEncoding}, batchSize {asTest.Options.BatchSize}, newBatchThreshold {asTest.Options.NewBatchThreshold} as in host.json");
    }

    [Fact]
    public async Task MessageTheHttpSideWritesIsDecodedAndAppliedExactlyOnce()
    {
        var app = await StartApp(_azurite.ConnectionString);
        var body = Examples.Calcom("booking_created_web.json");
        var booking = CalcomWebhookReader.Read(body).Event ?? throw new InvalidOperationException("example is not a booking event");
        var clock = Stopwatch.StartNew();
        var envelope = await app.Queue.EnqueueAsync(body, booking.TriggerEvent, booking.Uid, booking.RescheduleUid, DateTimeOffset.UtcNow, CancellationToken.None);
        Assert.NotNull(envelope.Body); // inline, not a claim check

        var listener = await StartListener(app);
        await QueueListenerHarness.WaitUntilAsync(async () => listener.Attempts.All.Count > 0 && await QueueListenerHarness.CountAsync(app.MainQueue) == 0,
            Timeout, "the message was processed and deleted");
        output.WriteLine($"applied after {clock.ElapsedMilliseconds} ms (listener start included)");

        var attempt = Assert.Single(listener.Attempts.All);
        Assert.True(attempt.Succeeded, $"the processor failed: {attempt.Failure}");
        Assert.Equal(1, attempt.DequeueCount);
        // What the job got is the envelope's UTF-8 JSON, not the Base64 text the queue holds.
        Assert.Equal(envelope.ToUtf8(), attempt.Body.ToArray());

        var stored = await app.Store.FindByUidAsync(booking.Uid, CancellationToken.None);
        Assert.NotNull(stored);
        Assert.Equal(booking.Uid, stored.Record.CalcomUid);
        Assert.Equal(AppointmentStatus.Confirmed, stored.Record.Status);
        Assert.Contains(app.Logs.Lines, l => l.Contains("[2000]", StringComparison.Ordinal) && l.Contains(booking.Uid, StringComparison.Ordinal)
            && l.Contains(": Created,", StringComparison.Ordinal));
        Assert.Equal(0, await QueueListenerHarness.CountAsync(app.PoisonQueue));
    }

    [Fact]
    public async Task LargeBodyTravelsByClaimCheckAndIsAppliedOnce()
    {
        var app = await StartApp(_azurite.ConnectionString);
        var body = Padded(Examples.Calcom("booking_created_web.json"), p => p["x-padding"] = Bulk()); // bulk the app does not store
        var booking = CalcomWebhookReader.Read(body).Event ?? throw new InvalidOperationException("padded example is not a booking event");
        var envelope = await app.Queue.EnqueueAsync(body, booking.TriggerEvent, booking.Uid, booking.RescheduleUid, DateTimeOffset.UtcNow, CancellationToken.None);
        Assert.NotNull(envelope.BodyBlob);

        var listener = await StartListener(app);
        await QueueListenerHarness.WaitUntilAsync(async () => listener.Attempts.All.Count > 0 && await QueueListenerHarness.CountAsync(app.MainQueue) == 0,
            Timeout, "the message was processed and deleted");

        var attempt = Assert.Single(listener.Attempts.All);
        Assert.True(attempt.Succeeded, $"the processor failed: {attempt.Failure}");
        Assert.Equal(1, attempt.DequeueCount);
        Assert.NotNull(await app.Store.FindByUidAsync(booking.Uid, CancellationToken.None));
        Assert.Equal(0, await QueueListenerHarness.CountAsync(app.PoisonQueue));
        output.WriteLine($"{body.Length} bytes by claim check {envelope.BodyBlob}: applied at dequeue 1");
    }

    /// <summary>
    /// Notes longer than a table property holds (32K characters) would make the record unstorable on every try; the
    /// reader cuts free text at <see cref="CalcomWebhookReader.MaxTextLength"/> so such a booking is stored, not lost.
    /// </summary>
    [Fact]
    public async Task BookingWithNotesLongerThanATablePropertyIsStoredWithClippedNotesAtTheFirstTry()
    {
        var app = await StartApp(_azurite.ConnectionString);
        var body = Padded(Examples.Calcom("booking_created_web.json"), p =>
        {
            p["additionalNotes"] = Bulk();
            p["responses"]!["notes"]!["value"] = Bulk();
        });
        var booking = CalcomWebhookReader.Read(body).Event ?? throw new InvalidOperationException("padded example is not a booking event");
        Assert.Equal(CalcomWebhookReader.MaxTextLength, booking.Notes?.Length);
        Assert.EndsWith("…", booking.Notes, StringComparison.Ordinal);
        await app.Queue.EnqueueAsync(body, booking.TriggerEvent, booking.Uid, booking.RescheduleUid, DateTimeOffset.UtcNow, CancellationToken.None);

        var listener = await StartListener(app);
        await QueueListenerHarness.WaitUntilAsync(async () => listener.Attempts.All.Count > 0 && await QueueListenerHarness.CountAsync(app.MainQueue) == 0,
            Timeout, "the message was processed and deleted");

        var attempt = Assert.Single(listener.Attempts.All);
        Assert.True(attempt.Succeeded, $"the processor failed: {attempt.Failure}");
        var stored = await app.Store.FindByUidAsync(booking.Uid, CancellationToken.None);
        Assert.Equal(booking.Notes, stored?.Record.Notes);
        Assert.Equal(0, await QueueListenerHarness.CountAsync(app.PoisonQueue));
    }

    private static string Bulk() => string.Concat(Enumerable.Repeat("Bitte vorab anrufen. ", 3000)); // 63,000 characters

    private static byte[] Padded(byte[] example, Action<JsonNode> editPayload)
    {
        var json = JsonNode.Parse(example)!;
        editPayload(json["payload"]!);
        return Encoding.UTF8.GetBytes(json.ToJsonString());
    }

    [Fact]
    public async Task MessageNotInBase64GoesToPoisonWithoutReachingTheProcessor()
    {
        var app = await StartApp(_azurite.ConnectionString);
        await app.Queue.EnsureCreatedAsync(CancellationToken.None);
        // A producer that forgot the Base64 encoding the host expects: the envelope's JSON as plain text.
        var body = Examples.Calcom("booking_created_web.json");
        var plain = Encoding.UTF8.GetString(new WebhookEnvelope(1, WebhookQueue.DeliveryIdOf(body), DateTimeOffset.UtcNow, "BOOKING_CREATED", "uid-1", null,
            body.Length, Encoding.UTF8.GetString(body), null).ToUtf8());
        var raw = app.RawQueue(StorageNames.WebhookQueue);
        var sent = (await raw.SendMessageAsync(plain)).Value;

        var listener = await StartListener(app);
        await QueueListenerHarness.WaitUntilAsync(async () => await QueueListenerHarness.CountAsync(app.PoisonQueue) > 0, Timeout, "the message is in the poison queue");
        await QueueListenerHarness.WaitUntilAsync(async () => await QueueListenerHarness.CountAsync(app.MainQueue) == 0, Timeout, "the message left the queue");

        var poisoned = Assert.Single((await app.RawQueue(StorageNames.WebhookPoisonQueue).ReceiveMessagesAsync(32)).Value);
        Assert.Equal(plain, poisoned.Body.ToString());
        Assert.Empty(listener.Attempts.All);
        Assert.Equal(0, await QueueListenerHarness.CountAsync(app.MainQueue));
        // The SDK moved it at the first receive (its line claims maxDequeueCount was reached; the processor never ran).
        var moved = Assert.Single(MovedToPoison(listener));
        output.WriteLine($"message {sent.MessageId}: {moved}");
    }

    [Fact]
    public async Task UnreadableEnvelopeIsTriedMaxDequeueCountTimesThenPoisonedWithTheReasonLogged()
    {
        var app = await StartApp(_azurite.ConnectionString);
        await app.Queue.EnsureCreatedAsync(CancellationToken.None);
        var garbage = Encoding.UTF8.GetBytes("{\"v\":1,\"deliveryId\": not json at all");
        var sent = (await app.Storage.WebhookQueue.SendMessageAsync(new BinaryData(garbage))).Value; // Base64, as the host expects

        var listener = await StartListener(app);
        await AssertPoisonedAfterEveryTryAsync(app, listener, sent.MessageId, garbage, "message is not a webhook envelope");
    }

    [Fact]
    public async Task EnvelopeWithMissingClaimCheckBlobIsTriedMaxDequeueCountTimesThenPoisonedNamingTheBlob()
    {
        var app = await StartApp(_azurite.ConnectionString);
        await app.Queue.EnsureCreatedAsync(CancellationToken.None);
        var body = Examples.Calcom("booking_created_web.json");
        var deliveryId = WebhookQueue.DeliveryIdOf(body);
        var blobName = deliveryId + ".json"; // never uploaded
        var envelope = new WebhookEnvelope(1, deliveryId, DateTimeOffset.UtcNow, "BOOKING_CREATED", "uid-1", null, body.Length, null, blobName).ToUtf8();
        var sent = (await app.Storage.WebhookQueue.SendMessageAsync(new BinaryData(envelope))).Value;

        var listener = await StartListener(app);
        await AssertPoisonedAfterEveryTryAsync(app, listener, sent.MessageId, envelope, $"claim-check blob {blobName} does not exist");
    }

    [Fact]
    public async Task EnvelopeWithForeignClaimCheckNameIsTriedMaxDequeueCountTimesThenPoisonedNamingIt()
    {
        var app = await StartApp(_azurite.ConnectionString);
        await app.Queue.EnsureCreatedAsync(CancellationToken.None);
        var deliveryId = WebhookQueue.DeliveryIdOf(Examples.Calcom("booking_created_web.json"));
        // Not a valid blob name: the storage client answered 400 on every try, which passed for a transient failure.
        var envelope = new WebhookEnvelope(1, deliveryId, DateTimeOffset.UtcNow, "BOOKING_CREATED", "uid-1", null, 10, null, "../x.json").ToUtf8();
        var sent = (await app.Storage.WebhookQueue.SendMessageAsync(new BinaryData(envelope))).Value;

        var listener = await StartListener(app);
        await AssertPoisonedAfterEveryTryAsync(app, listener, sent.MessageId, envelope, "claim-check blob name ../x.json is not the name of delivery " + deliveryId);
    }

    [Fact]
    public async Task StorageBrieflyDownIsRetriedAndThenSucceeds()
    {
        // The queue (and claim-check blobs) on one emulator, the appointment table on a second one that goes down.
        var tables = await Track(await Azurite.StartAsync(allowExternal: false));
        var appStorage = Endpoints(_azurite.ConnectionString, except: "TableEndpoint") + Endpoint(tables.ConnectionString, "TableEndpoint");
        var app = await StartApp(appStorage);
        var body = Examples.Calcom("booking_created_web.json");
        var booking = CalcomWebhookReader.Read(body).Event!;
        await app.Queue.EnqueueAsync(body, booking.TriggerEvent, booking.Uid, booking.RescheduleUid, DateTimeOffset.UtcNow, CancellationToken.None);
        await tables.StopAsync();

        var clock = Stopwatch.StartNew();
        var started = DateTimeOffset.UtcNow;
        // host.json's own timing: how long an outage the retries bridge depends on visibilityTimeout, so it is not shortened here.
        var listener = await Track(await QueueListenerHarness.StartAsync(_azurite.ConnectionString, app.Processor));
        PoisonHostJson.Read().AssertBoundTo(listener.Options);
        await QueueListenerHarness.WaitUntilAsync(() => Task.FromResult(listener.Attempts.All.Count > 0), Timeout, "the first try failed");
        var restarting = clock.Elapsed;
        await tables.RestartAsync();
        var restarted = clock.Elapsed;
        try
        {
            await QueueListenerHarness.WaitUntilAsync(() => Task.FromResult(listener.Attempts.All.Any(a => a.Succeeded)), Timeout, "a retry succeeded");
            await QueueListenerHarness.WaitUntilAsync(async () => await QueueListenerHarness.CountAsync(app.MainQueue) == 0, Timeout, "the message was deleted");
        }
        finally
        {
            foreach (var a in listener.Attempts.All)
            {
                output.WriteLine($"dequeue {a.DequeueCount} at +{(a.StartedAt - started).TotalMilliseconds:F0} ms: "
                    + (a.Succeeded ? "applied" : $"{a.Failure!.GetType().Name}: {FirstLine(a.Failure.Message)}"));
            }

            output.WriteLine($"table storage was down until +{restarted.TotalMilliseconds:F0} ms (restart began at +{restarting.TotalMilliseconds:F0} ms)");
        }

        var attempts = listener.Attempts.All;
        Assert.Single(attempts.Select(a => a.MessageId).Distinct());
        var success = Assert.Single(attempts, a => a.Succeeded);
        Assert.InRange(success.DequeueCount, 2, listener.Options.MaxDequeueCount);
        Assert.Equal(Enumerable.Range(1, (int)success.DequeueCount).Select(i => (long)i), attempts.Select(a => a.DequeueCount));
        Assert.All(attempts.Where(a => !a.Succeeded), a => Assert.IsNotType<InvalidEnvelopeException>(a.Failure));
        Assert.DoesNotContain(app.Logs.Lines, l => l.Contains("[2001]", StringComparison.Ordinal)); // not called unreadable
        Assert.NotNull(await app.Store.FindByUidAsync(booking.Uid, CancellationToken.None));
        Assert.Equal(0, await QueueListenerHarness.CountAsync(app.PoisonQueue));
    }

    private async Task AssertPoisonedAfterEveryTryAsync(TestAppFor app, QueueListenerHarness listener, string messageId, byte[] original, string reason)
    {
        var max = listener.Options.MaxDequeueCount;
        await QueueListenerHarness.WaitUntilAsync(async () => await QueueListenerHarness.CountAsync(app.PoisonQueue) > 0, Timeout, "the message is in the poison queue");
        await QueueListenerHarness.WaitUntilAsync(async () => await QueueListenerHarness.CountAsync(app.MainQueue) == 0, Timeout, "the message left the queue");

        var attempts = listener.Attempts.Of(messageId);
        for (var i = 0; i < attempts.Count; i++)
        {
            var gap = i == 0 ? "" : $" (+{(attempts[i].StartedAt - attempts[i - 1].StartedAt).TotalMilliseconds:F0} ms)";
            output.WriteLine($"dequeue {attempts[i].DequeueCount}{gap}: {attempts[i].Failure?.GetType().Name}");
        }

        // Tried exactly maxDequeueCount times, every time for the same reason, never again once poisoned.
        Assert.Equal(Enumerable.Range(1, max).Select(i => (long)i), attempts.Select(a => a.DequeueCount));
        Assert.All(attempts, a => Assert.IsType<InvalidEnvelopeException>(a.Failure));
        Assert.All(attempts, a => Assert.Equal(original, a.Body.ToArray()));
        // A retry waits for the visibility timeout: the listener, not a tight loop, paces them.
        for (var i = 1; i < attempts.Count; i++)
        {
            Assert.True(attempts[i].StartedAt - attempts[i - 1].StartedAt >= listener.Options.VisibilityTimeout - TimeSpan.FromMilliseconds(100),
                $"retry {i + 1} came {(attempts[i].StartedAt - attempts[i - 1].StartedAt).TotalMilliseconds:F0} ms after the previous try");
        }

        // The poison queue holds the original content, encoded as the queue expects it (so it can be moved back as is).
        var poisoned = Assert.Single((await app.RawQueue(StorageNames.WebhookPoisonQueue).ReceiveMessagesAsync(32)).Value);
        Assert.Equal(original, Convert.FromBase64String(poisoned.Body.ToString()));

        // The app said why, naming the message, on every try.
        var why = app.Logs.Lines.Where(l => l.Contains("[2001]", StringComparison.Ordinal) && l.Contains(messageId, StringComparison.Ordinal)).ToList();
        Assert.Equal(max, why.Count);
        Assert.All(why, l => Assert.Contains(reason, l, StringComparison.Ordinal));
        Assert.Contains(why, l => l.Contains($"(dequeue {max})", StringComparison.Ordinal));
        output.WriteLine(why[^1]);

        // The SDK moved it once, after the last try.
        var moved = Assert.Single(MovedToPoison(listener));
        Assert.Contains($"MaxDequeueCount of {max}.", moved, StringComparison.Ordinal);
        Assert.Equal(max, listener.Attempts.All.Count);
    }

    /// <summary>The SDK's own "moving to the poison queue" lines (not the HTTP request logs that name the queue too).</summary>
    private static List<string> MovedToPoison(QueueListenerHarness listener) =>
        [.. listener.HostLogs.Lines.Where(l => l.Contains($"Moving message to queue '{StorageNames.WebhookPoisonQueue}'", StringComparison.Ordinal))
            .Select(l => l.Split(" | ")[0])];

    private static void ShortenTiming(QueuesOptions o)
    {
        o.VisibilityTimeout = TestVisibilityTimeout;
        o.MaxPollingInterval = TestMaxPollingInterval;
    }

    private async Task<QueueListenerHarness> StartListener(TestAppFor app) =>
        await Track(await QueueListenerHarness.StartAsync(_azurite.ConnectionString, app.Processor, ShortenTiming));

    private Task<TestAppFor> StartApp(string storage) => Track(new TestAppFor(TestApp.Create(storage)));

    private async Task<T> Track<T>(T item) where T : IAsyncDisposable
    {
        _cleanup.Add(item);
        return await Task.FromResult(item);
    }

    private static string Endpoints(string connectionString, string except) =>
        string.Concat(connectionString.Split(';', StringSplitOptions.RemoveEmptyEntries)
            .Where(p => !p.StartsWith(except + "=", StringComparison.Ordinal)).Select(p => p + ";"));

    private static string Endpoint(string connectionString, string name) =>
        connectionString.Split(';', StringSplitOptions.RemoveEmptyEntries).Single(p => p.StartsWith(name + "=", StringComparison.Ordinal)) + ";";

    private static string FirstLine(string text) => text.Split('\n')[0];

    /// <summary>The app's services a test needs, plus raw (non-encoding) clients to look at what the queues really hold.</summary>
    private sealed class TestAppFor(TestApp app) : IAsyncDisposable
    {
        public TestApp App => app;
        public CalcomEventProcessor Processor => app.Get<CalcomEventProcessor>();
        public WebhookQueue Queue => app.Get<WebhookQueue>();
        public AppointmentTableStore Store => app.Get<AppointmentTableStore>();
        public StorageClients Storage => app.Get<StorageClients>();
        public LogCapture Logs => app.Logs;
        public QueueClient MainQueue => Storage.WebhookQueue;
        public QueueClient PoisonQueue => Storage.Queues.GetQueueClient(StorageNames.WebhookPoisonQueue);

        public QueueClient RawQueue(string name) =>
            new QueueServiceClient(Endpoints(ConnectionString, except: "none"), new QueueClientOptions { MessageEncoding = QueueMessageEncoding.None }).GetQueueClient(name);

        private string ConnectionString => app.Get<Microsoft.Extensions.Options.IOptions<StorageOptions>>().Value.ConnectionString!;

        public ValueTask DisposeAsync() => app.DisposeAsync();
    }
}

/// <summary>host.json's <c>extensions.queues</c>, read with a JSON parser: what the listener must end up with.</summary>
internal sealed record PoisonHostJson(QueueMessageEncoding MessageEncoding, int BatchSize, int NewBatchThreshold, int MaxDequeueCount, TimeSpan VisibilityTimeout, TimeSpan MaxPollingInterval)
{
    private static readonly string[] Known = ["messageEncoding", "batchSize", "newBatchThreshold", "maxDequeueCount", "visibilityTimeout", "maxPollingInterval"];

    public static PoisonHostJson Read()
    {
        var q = QueueListenerHarness.HostJsonQueues();
        // A misspelt key would be silently ignored by the host's binder: refuse it here.
        var unknown = q.EnumerateObject().Select(p => p.Name).Where(n => !Known.Contains(n, StringComparer.Ordinal)).ToList();
        Assert.True(unknown.Count == 0, $"host.json extensions.queues has keys this test does not know: {string.Join(", ", unknown)}");
        Assert.All(Known, k => Assert.True(q.TryGetProperty(k, out _), $"host.json extensions.queues has no {k}"));
        return new PoisonHostJson(
            Enum.Parse<QueueMessageEncoding>(q.GetProperty("messageEncoding").GetString()!, ignoreCase: true),
            q.GetProperty("batchSize").GetInt32(),
            q.GetProperty("newBatchThreshold").GetInt32(),
            q.GetProperty("maxDequeueCount").GetInt32(),
            TimeSpan.Parse(q.GetProperty("visibilityTimeout").GetString()!, System.Globalization.CultureInfo.InvariantCulture),
            TimeSpan.Parse(q.GetProperty("maxPollingInterval").GetString()!, System.Globalization.CultureInfo.InvariantCulture));
    }

    public void AssertBoundTo(QueuesOptions o)
    {
        Assert.Equal(MessageEncoding, o.MessageEncoding);
        Assert.Equal(BatchSize, o.BatchSize);
        Assert.Equal(NewBatchThreshold, o.NewBatchThreshold);
        Assert.Equal(MaxDequeueCount, o.MaxDequeueCount);
        Assert.Equal(VisibilityTimeout, o.VisibilityTimeout);
        Assert.Equal(MaxPollingInterval, o.MaxPollingInterval);
    }
}
