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
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace AskPro.Functions.Tests.Queueing;

/// <summary>
/// Nothing accepted is lost to the queue: a message that can never succeed is dead-lettered by the processor at the
/// first try, with the reason, in <c>calcom-webhooks-deadletter</c> (never expires), not left to the host's poison queue
/// (whose copies expire after 7 days); transient storage failures are retried without spending dequeue counts and
/// dead-lettered only after <c>Queue__TransientRetryFor</c>; an unknown failure is retried by the host and kept at the
/// last try. Proven with the WebJobs SDK queue listener against Azurite with this project's host.json queue settings.
/// The class has its own emulator (never an external account: the tests empty the webhook queues), and each test
/// starts with the queues and the appointments table empty and stops its listener, so no other test's messages reach a listener.
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
        foreach (var name in new[] { StorageNames.WebhookQueue, StorageNames.WebhookPoisonQueue, StorageNames.DeadLetterQueue })
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
        // Never expires (the service default is 7 days): Azurite reports an infinite time-to-live as year 9999.
        var peeked = Assert.Single((await app.RawQueue(StorageNames.WebhookQueue).PeekMessagesAsync(32)).Value);
        AssertNeverExpires(peeked.ExpiresOn);

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
        Assert.Contains(app.Logs.Lines, l => l.Contains("[2000]", StringComparison.Ordinal) && l.Contains(Functions.Logging.UidPseudonym.Of(booking.Uid), StringComparison.Ordinal)
            && l.Contains(": Created,", StringComparison.Ordinal));
        Assert.DoesNotContain(app.Logs.Lines, l => l.Contains(booking.Uid, StringComparison.Ordinal));
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

        // Applied, so the full personal body is deleted now rather than after the lifecycle rule's 30 days.
        Assert.False((await app.Storage.BodyContainer.GetBlobClient(envelope.BodyBlob).ExistsAsync()).Value);
        // A second message of the same body (a concurrent duplicate) finds it applied instead of dead-lettering it.
        Assert.Null(await app.Processor.ProcessAsync(new BinaryData(envelope.ToUtf8()), "duplicate-message", 1, CancellationToken.None));
        Assert.Equal(0, await QueueListenerHarness.CountAsync(app.DeadLetterQueue));
        Assert.Contains(app.Logs.Lines, l => l.Contains("[2004]", StringComparison.Ordinal) && l.Contains("duplicate-message", StringComparison.Ordinal));
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
    public async Task UnreadableEnvelopeIsDeadLetteredAtTheFirstTryWithTheReasonAndNeverExpires()
    {
        var app = await StartApp(_azurite.ConnectionString);
        await app.Queue.EnsureCreatedAsync(CancellationToken.None);
        var garbage = Encoding.UTF8.GetBytes("{\"v\":1,\"deliveryId\": not json at all");
        var sent = (await app.Storage.WebhookQueue.SendMessageAsync(new BinaryData(garbage))).Value; // Base64, as the host expects

        var listener = await StartListener(app);
        await AssertDeadLetteredAtFirstTryAsync(app, listener, sent.MessageId, garbage, "message is not a webhook envelope", deliveryId: null);
    }

    [Fact]
    public async Task EnvelopeWithMissingClaimCheckBlobIsDeadLetteredAtTheFirstTryNamingTheBlob()
    {
        var app = await StartApp(_azurite.ConnectionString);
        await app.Queue.EnsureCreatedAsync(CancellationToken.None);
        var body = Examples.Calcom("booking_created_web.json");
        var deliveryId = WebhookQueue.DeliveryIdOf(body);
        var blobName = deliveryId + ".json"; // never uploaded
        var envelope = new WebhookEnvelope(1, deliveryId, DateTimeOffset.UtcNow, "BOOKING_CREATED", "uid-1", null, body.Length, null, blobName).ToUtf8();
        var sent = (await app.Storage.WebhookQueue.SendMessageAsync(new BinaryData(envelope))).Value;

        var listener = await StartListener(app);
        await AssertDeadLetteredAtFirstTryAsync(app, listener, sent.MessageId, envelope, $"claim-check blob {blobName} does not exist", deliveryId);
    }

    [Fact]
    public async Task EnvelopeWithForeignClaimCheckNameIsDeadLetteredAtTheFirstTryNamingIt()
    {
        var app = await StartApp(_azurite.ConnectionString);
        await app.Queue.EnsureCreatedAsync(CancellationToken.None);
        var deliveryId = WebhookQueue.DeliveryIdOf(Examples.Calcom("booking_created_web.json"));
        // Not a valid blob name: the storage client answered 400 on every try, which passed for a transient failure.
        var envelope = new WebhookEnvelope(1, deliveryId, DateTimeOffset.UtcNow, "BOOKING_CREATED", "uid-1", null, 10, null, "../x.json").ToUtf8();
        var sent = (await app.Storage.WebhookQueue.SendMessageAsync(new BinaryData(envelope))).Value;

        var listener = await StartListener(app);
        // The name is refused while reading the envelope, so the dead letter names no delivery; the reason does.
        await AssertDeadLetteredAtFirstTryAsync(app, listener, sent.MessageId, envelope, "claim-check blob name ../x.json is not the name of delivery " + deliveryId, deliveryId: null);
    }

    [Fact]
    public async Task StorageBrieflyDownIsRetriedWithoutUsingDequeueCountsAndThenSucceeds()
    {
        // The queue (and claim-check blobs) on one emulator, the appointment table on a second one that goes down.
        var tables = await Track(await Azurite.StartAsync(allowExternal: false));
        var appStorage = Endpoints(_azurite.ConnectionString, except: "TableEndpoint") + Endpoint(tables.ConnectionString, "TableEndpoint");
        var app = await StartApp(appStorage, s => s["Queue:TransientRetryDelay"] = "00:00:00.500");
        var body = Examples.Calcom("booking_created_web.json");
        var booking = CalcomWebhookReader.Read(body).Event!;
        await app.Queue.EnqueueAsync(body, booking.TriggerEvent, booking.Uid, booking.RescheduleUid, DateTimeOffset.UtcNow, CancellationToken.None);
        await tables.StopAsync();

        var clock = Stopwatch.StartNew();
        var started = DateTimeOffset.UtcNow;
        // host.json's own timing: the retries must not depend on the host's visibility timeout or dequeue count.
        var listener = await Track(await QueueListenerHarness.StartAsync(_azurite.ConnectionString, app.Processor));
        PoisonHostJson.Read().AssertBoundTo(listener.Options);
        // More failed tries than maxDequeueCount: with the host's retries alone this message would be poisoned by now.
        await QueueListenerHarness.WaitUntilAsync(() => Task.FromResult(Deferred(app).Count > app.Tries), Timeout,
            "the message was deferred more often than maxDequeueCount");
        var restarting = clock.Elapsed;
        await tables.RestartAsync();
        var restarted = clock.Elapsed;
        try
        {
            await QueueListenerHarness.WaitUntilAsync(() => Task.FromResult(app.Logs.Lines.Any(l => l.Contains("[2000]", StringComparison.Ordinal))), Timeout, "a retry applied it");
            await QueueListenerHarness.WaitUntilAsync(async () => await QueueListenerHarness.CountAsync(app.MainQueue) == 0, Timeout, "the message was deleted");
        }
        finally
        {
            foreach (var a in listener.Attempts.All)
            {
                output.WriteLine($"message {a.MessageId[..8]} dequeue {a.DequeueCount} at +{(a.StartedAt - started).TotalMilliseconds:F0} ms: "
                    + (a.Succeeded ? "completed" : $"{a.Failure!.GetType().Name}: {FirstLine(a.Failure.Message)}"));
            }

            output.WriteLine($"table storage was down until +{restarted.TotalMilliseconds:F0} ms (restart began at +{restarting.TotalMilliseconds:F0} ms)");
        }

        var attempts = listener.Attempts.All;
        // Each retry is a new message seen once: no dequeue count was spent, nothing threw to the host.
        Assert.All(attempts, a => Assert.True(a.Succeeded && a.DequeueCount == 1, $"{a.MessageId}: dequeue {a.DequeueCount}, {a.Failure?.GetType().Name}"));
        Assert.True(attempts.Select(a => a.MessageId).Distinct().Count() > app.Tries);
        Assert.DoesNotContain(app.Logs.Lines, l => l.Contains("[2001]", StringComparison.Ordinal));
        Assert.NotNull(await app.Store.FindByUidAsync(booking.Uid, CancellationToken.None));
        Assert.Equal(0, await QueueListenerHarness.CountAsync(app.PoisonQueue));
        Assert.Equal(0, await QueueListenerHarness.CountAsync(app.DeadLetterQueue));
    }

    /// <summary>
    /// An outage of the whole account as the queue function sees it: its table reads, its re-sends and its own message
    /// updates all fail while the host still receives. Before, the re-send threw from inside the transient handler,
    /// and at dequeue 5 the host copied the message to its poison queue, where it expires after 7 days.
    /// </summary>
    [Fact]
    public async Task QueueAndTableFailingTogetherForMoreThanFiveDequeuesLeaveNothingInAPoisonQueueAndEveryRecordAfterwards()
    {
        var faults = new FaultPolicy();
        var app = await StartApp(_azurite.ConnectionString, s => s["Queue:TransientRetryDelay"] = "00:00:00.200", faults);
        var bookings = await EnqueueFreshBookingsAsync(app, "outage", 3);
        faults.Fault = (service, _) => service is "queue" or "table" ? FaultPolicy.ServerBusy(service, service) : null;

        var listener = await StartListener(app);
        var max = app.Tries;
        await QueueListenerHarness.WaitUntilAsync(() => Task.FromResult(NotPoisoned(listener) && listener.Attempts.All.GroupBy(a => a.MessageId).Count(g => g.Max(a => a.DequeueCount) > max) == bookings.Count),
            TimeSpan.FromSeconds(120), $"every message was tried more than {max} times while storage was down");
        Assert.All(listener.Attempts.All, a => Assert.NotNull(a.Failure)); // nothing could be written, so every try threw to the host
        Assert.Contains(app.Logs.Lines, l => l.Contains("[2101]", StringComparison.Ordinal));
        faults.Fault = null;

        await QueueListenerHarness.WaitUntilAsync(async () => await QueueListenerHarness.CountAsync(app.MainQueue) == 0, TimeSpan.FromSeconds(120), "every message was applied after storage recovered");
        foreach (var uid in bookings)
        {
            Assert.NotNull(await app.Store.FindByUidAsync(uid, CancellationToken.None));
        }

        Assert.Equal(0, await QueueListenerHarness.CountAsync(app.PoisonQueue));
        Assert.Equal(0, await QueueListenerHarness.CountAsync(app.DeadLetterQueue));
        Assert.Empty(MovedToPoison(listener));
        output.WriteLine($"{listener.Attempts.All.Count} tries, highest dequeue count {listener.Attempts.All.Max(a => a.DequeueCount)}");
    }

    /// <summary>
    /// The queue takes no new messages (re-sends and dead letters fail) but still takes updates: the processor keeps
    /// the message in its own queue, hidden with a growing delay, and returns normally; the host's delete then fails
    /// on the changed pop receipt and the message comes back, with no exception and no poison copy.
    /// </summary>
    [Fact]
    public async Task AMessageWhoseReSendCannotBeWrittenIsHeldInItsOwnQueueWithoutThrowingAndAppliedLater()
    {
        var faults = new FaultPolicy();
        var app = await StartApp(_azurite.ConnectionString, s =>
        {
            s["Queue:TransientRetryDelay"] = "00:00:00.200";
            s["Queue:TransientRetryMaxDelay"] = "00:00:00.500";
        }, faults);
        var bookings = await EnqueueFreshBookingsAsync(app, "held", 1);
        faults.Fault = (service, m) => service == "table" || (service == "queue" && m.Request.Method == Azure.Core.RequestMethod.Post)
            ? FaultPolicy.ServerBusy(service, service) : null;

        var listener = await StartListener(app);
        var max = app.Tries;
        await QueueListenerHarness.WaitUntilAsync(() => Task.FromResult(NotPoisoned(listener) && listener.Attempts.All.Any(a => a.DequeueCount > max)), TimeSpan.FromSeconds(120),
            $"the message was tried more than {max} times");
        faults.Fault = null;
        await QueueListenerHarness.WaitUntilAsync(async () => await QueueListenerHarness.CountAsync(app.MainQueue) == 0, TimeSpan.FromSeconds(120), "the message was applied");

        // One message throughout, never thrown to the host: each try ended by holding it.
        Assert.Single(listener.Attempts.All.Select(a => a.MessageId).Distinct());
        Assert.All(listener.Attempts.All, a => Assert.True(a.Succeeded, a.Failure?.ToString()));
        Assert.Contains(app.Logs.Lines, l => l.Contains("[2100]", StringComparison.Ordinal));
        Assert.NotNull(await app.Store.FindByUidAsync(bookings[0], CancellationToken.None));
        Assert.Equal(0, await QueueListenerHarness.CountAsync(app.PoisonQueue));
        Assert.Equal(0, await QueueListenerHarness.CountAsync(app.DeadLetterQueue));
        Assert.Empty(MovedToPoison(listener));
    }

    /// <summary>True while the host has poisoned nothing; fails the test at once when it has.</summary>
    private static bool NotPoisoned(QueueListenerHarness listener)
    {
        Assert.Empty(MovedToPoison(listener));
        return true;
    }

    /// <summary>Queues <paramref name="count"/> bookings with fresh uids (storage still up).</summary>
    private static async Task<List<string>> EnqueueFreshBookingsAsync(TestAppFor app, string prefix, int count)
    {
        var uids = new List<string>();
        for (var i = 0; i < count; i++)
        {
            var json = JsonNode.Parse(Examples.Calcom("booking_created_web.json"))!;
            json["payload"]!["uid"] = $"{prefix}{i}x{Guid.NewGuid():N}"[..24];
            var body = Encoding.UTF8.GetBytes(json.ToJsonString());
            var booking = CalcomWebhookReader.Read(body).Event!;
            await app.Queue.EnqueueAsync(body, booking.TriggerEvent, booking.Uid, booking.RescheduleUid, DateTimeOffset.UtcNow, CancellationToken.None);
            uids.Add(booking.Uid);
        }

        return uids;
    }

    [Fact]
    public async Task TransientFailuresLongerThanTheRetryWindowAreDeadLetteredWithTheReason()
    {
        var faults = new FaultPolicy { Fault = (service, _) => FaultPolicy.ServerBusy("table", service) };
        var app = await StartApp(_azurite.ConnectionString, s =>
        {
            s["Queue:TransientRetryDelay"] = "00:00:00.200";
            s["Queue:TransientRetryFor"] = "00:00:03";
        }, faults);
        var body = Examples.Calcom("booking_created_web.json");
        var booking = CalcomWebhookReader.Read(body).Event!;
        var envelope = await app.Queue.EnqueueAsync(body, booking.TriggerEvent, booking.Uid, booking.RescheduleUid, DateTimeOffset.UtcNow, CancellationToken.None);

        var listener = await StartListener(app);
        await QueueListenerHarness.WaitUntilAsync(async () => await QueueListenerHarness.CountAsync(app.DeadLetterQueue) > 0, Timeout, "the message was dead-lettered");
        await QueueListenerHarness.WaitUntilAsync(async () => await QueueListenerHarness.CountAsync(app.MainQueue) == 0, Timeout, "the message left the queue");

        var letter = await SingleDeadLetterAsync(app);
        Assert.Contains("longer than Queue__TransientRetryFor", letter.Reason, StringComparison.Ordinal);
        Assert.Contains("status 503", letter.Reason, StringComparison.Ordinal);
        Assert.Equal(envelope.DeliveryId, letter.DeliveryId);
        // The dead letter keeps the message as it was last sent (with its retry count), and it applies as the original.
        var kept = WebhookEnvelope.Parse(Encoding.UTF8.GetBytes(letter.Message!));
        Assert.Equal(envelope.Body, kept.Body);
        Assert.True(kept.TransientFailures > 1);
        Assert.All(listener.Attempts.All, a => Assert.True(a.Succeeded && a.DequeueCount == 1));
        Assert.Equal(0, await QueueListenerHarness.CountAsync(app.PoisonQueue));
        output.WriteLine(letter.Reason);
    }

    [Fact]
    public async Task AFailureThatIsNeitherTransientNorKnownIsRetriedByTheHostThenDeadLetteredAtTheLastTry()
    {
        // A bug, say: not a storage failure, not a known unappliable message. The host retries it; the processor
        // keeps it at the last try instead of letting the host poison it (the poison copy would expire).
        var faults = new FaultPolicy { Fault = (service, _) => service == "table" ? new InvalidOperationException("injected bug") : null };
        var app = await StartApp(_azurite.ConnectionString, faults: faults);
        var body = Examples.Calcom("booking_created_web.json");
        var booking = CalcomWebhookReader.Read(body).Event!;
        var envelope = await app.Queue.EnqueueAsync(body, booking.TriggerEvent, booking.Uid, booking.RescheduleUid, DateTimeOffset.UtcNow, CancellationToken.None);

        var listener = await StartListener(app);
        var max = app.Tries;
        await QueueListenerHarness.WaitUntilAsync(async () => await QueueListenerHarness.CountAsync(app.DeadLetterQueue) > 0, Timeout, "the message was dead-lettered");
        await QueueListenerHarness.WaitUntilAsync(async () => await QueueListenerHarness.CountAsync(app.MainQueue) == 0, Timeout, "the message left the queue");

        var attempts = listener.Attempts.All;
        Assert.Equal(Enumerable.Range(1, max).Select(i => (long)i), attempts.Select(a => a.DequeueCount));
        Assert.All(attempts.Take(max - 1), a => Assert.IsType<InvalidOperationException>(a.Failure));
        Assert.True(attempts[^1].Succeeded);
        var letter = await SingleDeadLetterAsync(app);
        Assert.Equal($"failed on all {max} tries of delivery {envelope.DeliveryId}, last with InvalidOperationException", letter.Reason);
        Assert.Equal(Encoding.UTF8.GetString(envelope.ToUtf8()), letter.Message);
        Assert.Equal(0, await QueueListenerHarness.CountAsync(app.PoisonQueue));
        Assert.Empty(MovedToPoison(listener));
    }

    [Fact]
    public void HostJsonLeavesEveryDequeueLimitToTheProcessor()
    {
        // The SDK poisons at its maxDequeueCount whatever the function did (even before calling it once the count is
        // exceeded), so it must never be reached: the processor's own limit decides when a failure is dead-lettered.
        Assert.Equal(ApplyQueueOptions.HostMaxDequeueCount, PoisonHostJson.Read().MaxDequeueCount);
        Assert.True(new ApplyQueueOptions().MaxDequeueCount < ApplyQueueOptions.HostMaxDequeueCount);
    }

    private static List<string> Deferred(TestAppFor app) => [.. app.Logs.Lines.Where(l => l.Contains("[2003]", StringComparison.Ordinal))];

    private static async Task<DeadLetter> SingleDeadLetterAsync(TestAppFor app)
    {
        var message = Assert.Single((await app.RawQueue(StorageNames.DeadLetterQueue).PeekMessagesAsync(32)).Value);
        AssertNeverExpires(message.ExpiresOn);
        return DeadLetter.Parse(Convert.FromBase64String(message.MessageText));
    }

    private static void AssertNeverExpires(DateTimeOffset? expiresOn) =>
        Assert.True(expiresOn is null || expiresOn > DateTimeOffset.UtcNow.AddYears(1000), $"the message expires on {expiresOn:O}");

    private async Task AssertDeadLetteredAtFirstTryAsync(TestAppFor app, QueueListenerHarness listener, string messageId, byte[] original, string reason, string? deliveryId)
    {
        await QueueListenerHarness.WaitUntilAsync(async () => await QueueListenerHarness.CountAsync(app.DeadLetterQueue) > 0, Timeout, "the message is in the dead-letter queue");
        await QueueListenerHarness.WaitUntilAsync(async () => await QueueListenerHarness.CountAsync(app.MainQueue) == 0, Timeout, "the message left the queue");

        // Tried once, not maxDequeueCount times: it can never succeed, so the tries stay for failures that may pass.
        var attempt = Assert.Single(listener.Attempts.Of(messageId));
        Assert.True(attempt.Succeeded, $"the processor threw {attempt.Failure}");
        Assert.Equal(1, attempt.DequeueCount);

        var letter = await SingleDeadLetterAsync(app);
        Assert.Contains(reason, letter.Reason, StringComparison.Ordinal);
        Assert.Equal(deliveryId, letter.DeliveryId);
        Assert.Equal(messageId, letter.MessageId);
        // The exact original content, so it can be sent back as is once the cause is fixed.
        Assert.Equal(original, Encoding.UTF8.GetBytes(letter.Message!));

        // The app said why, naming the message.
        var why = Assert.Single(app.Logs.Lines, l => l.Contains("[2001]", StringComparison.Ordinal) && l.Contains(messageId, StringComparison.Ordinal));
        Assert.Contains(reason, why, StringComparison.Ordinal);
        output.WriteLine(why);

        // And the host never poisoned it: its copy would expire after 7 days.
        Assert.Equal(0, await QueueListenerHarness.CountAsync(app.PoisonQueue));
        Assert.Empty(MovedToPoison(listener));
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

    private Task<TestAppFor> StartApp(string storage, Action<Dictionary<string, string?>>? edit = null, FaultPolicy? faults = null) =>
        Track(new TestAppFor(TestApp.Create(storage, edit, faults is null ? null : s => s.AddSingleton<Azure.Core.Pipeline.HttpPipelinePolicy>(faults))));

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
        /// <summary>The processor's own limit of tries (<c>Queue__MaxDequeueCount</c>); the host's is never reached.</summary>
        public int Tries => app.Get<Microsoft.Extensions.Options.IOptions<ApplyQueueOptions>>().Value.MaxDequeueCount;
        public QueueClient MainQueue => Storage.WebhookQueue;
        public QueueClient PoisonQueue => Storage.Queues.GetQueueClient(StorageNames.WebhookPoisonQueue);
        public QueueClient DeadLetterQueue => Storage.DeadLetterQueue;

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
