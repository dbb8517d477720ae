using System.Text.Json.Nodes;
using AskPro.Functions.Appointments;
using AskPro.Functions.Calcom;
using AskPro.Functions.Logging;
using AskPro.Functions.Tests.Appointments;
using AskPro.Functions.Queueing;
using AskPro.Functions.Reconciliation;
using AskPro.Functions.Storage;
using AskPro.Functions.Tests.Infrastructure;
using Azure.Data.Tables;
using Azure.Storage.Queues;

namespace AskPro.Functions.Tests.Reconciliation;

/// <summary>
/// Webhooks Cal.com never re-sends, recovered: the example stories with some deliveries lost, a fake Cal.com API
/// on loopback holding the truth, one reconciliation pass, the queue drained through the queue function, all on
/// Azurite. The pass only queues; the records change through the same apply path as deliveries.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class ReconciliationEndToEndTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private static readonly DateTimeOffset Web = new(2026, 1, 27, 9, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Api = new(2026, 1, 28, 14, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Rescheduled = new(2026, 1, 30, 10, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Requested = new(2026, 2, 3, 8, 30, 0, TimeSpan.Zero);
    private readonly DateTimeOffset _changed = DateTimeOffset.UtcNow.AddHours(-1);
    private FakeCalcomApi _api = null!;
    private TestApp _app = null!;
    private string _queueName = null!;

    public async Task InitializeAsync()
    {
        _api = await FakeCalcomApi.StartAsync();
        var table = "rec" + Guid.NewGuid().ToString("N")[..12];
        _app = TestApp.Create(azurite.ConnectionString, s =>
        {
            s["Appointments:TableName"] = table;
            s["Calcom:ApiKey"] = FakeCalcomApi.ApiKey;
            s["Calcom:ApiBaseUrl"] = _api.BaseUrl.ToString();
            s["Calcom:RetryDelay"] = "00:00:00.020";
        });
        _queueName = StorageNames.WebhookQueue;
        await _app.Get<WebhookQueue>().EnsureCreatedAsync(CancellationToken.None);
        // An empty queue: messages an earlier test left would otherwise be applied here.
        await new QueueProbe(azurite.ConnectionString).ClearAsync();
        await LookupQueue.ClearMessagesAsync();
    }

    public async Task DisposeAsync()
    {
        await Queue.ClearMessagesAsync();
        await LookupQueue.ClearMessagesAsync();
        await _app.Get<StorageClients>().Appointments.DeleteAsync();
        await _app.DisposeAsync();
        await _api.DisposeAsync();
    }

    private QueueClient Queue => _app.Get<StorageClients>().Queues.GetQueueClient(_queueName);
    private QueueClient LookupQueue => _app.Get<StorageClients>().SeriesLookupQueue;
    private Reconciler Reconciler => _app.Get<Reconciler>();
    private AppointmentTableStore Store => _app.Get<AppointmentTableStore>();

    private async Task DeliverAsync(string example)
    {
        var response = await WebhookCall.PostSignedAsync(_app, Examples.Calcom(example));
        Assert.Equal(202, response.StatusCode);
        await DrainAsync();
    }

    /// <summary>Applies every queued message through the queue function, as the host would; returns how many.</summary>
    private Task<int> DrainAsync() => DrainAsync(_app);

    /// <summary>Both queue functions: the webhook queue and the series look-up queue, until neither has a visible message.</summary>
    private async Task<int> DrainAsync(TestApp app)
    {
        var function = app.Get<ApplyCalcomEventFunction>();
        var lookups = app.Get<SeriesLookupFunction>();
        var applied = 0;
        while (true)
        {
            var handled = await DrainQueueAsync(Queue, m => function.ApplyCalcomEvent(m, CancellationToken.None))
                + await DrainQueueAsync(LookupQueue, m => lookups.RunSeriesLookup(m, CancellationToken.None));
            if (handled == 0)
            {
                return applied;
            }

            applied += handled;
        }
    }

    /// <summary>The webhook queue alone, as its function runs it.</summary>
    private Task<int> DrainWebhooksAsync(TestApp app)
    {
        var function = app.Get<ApplyCalcomEventFunction>();
        return DrainQueueAsync(Queue, m => function.ApplyCalcomEvent(m, CancellationToken.None));
    }

    private static async Task<int> DrainQueueAsync(QueueClient queue, Func<Azure.Storage.Queues.Models.QueueMessage, Task> run)
    {
        var handled = 0;
        while (true)
        {
            var messages = (await queue.ReceiveMessagesAsync(32, TimeSpan.FromMinutes(1))).Value;
            if (messages.Length == 0)
            {
                return handled;
            }

            foreach (var m in messages)
            {
                await run(m);
                await queue.DeleteMessageAsync(m.MessageId, m.PopReceipt);
                handled++;
            }
        }
    }

    private async Task<Appointment> RecordAsync(string uid) =>
        (await Store.FindByUidAsync(uid, CancellationToken.None) ?? throw new Xunit.Sdk.XunitException($"no record for {uid}")).Record;

    private JsonObject WebBooking(string status = "accepted") =>
        FakeCalcomApi.Booking("k3VbP9qWm2xYc7RtL5nD8a", Web, _changed, status, location: "Hauptstraße 12, 10115 Berlin");

    [Fact]
    public async Task A_lost_create_is_recovered_and_a_second_pass_queues_nothing()
    {
        _api.Upsert(WebBooking());

        var pass = await Reconciler.RunScheduledAsync(CancellationToken.None);
        Assert.Equal(("completed", 1, 1), (pass.Outcome, pass.Missing, pass.Enqueued));
        Assert.Equal(1, await DrainAsync());

        var record = await RecordAsync("k3VbP9qWm2xYc7RtL5nD8a");
        Assert.Equal(AppointmentStatus.Confirmed, record.Status);
        Assert.Equal((Web, Web.AddMinutes(30)), (record.StartTime, record.EndTime));
        Assert.Equal("anna.schmidt@praxis-example.de", record.StaffEmail);
        Assert.Equal("Hauptstraße 12, 10115 Berlin", record.Location);

        var again = await Reconciler.RunAsync(_changed.AddMinutes(-1), _changed.AddMinutes(1), CancellationToken.None);
        Assert.Equal((1, 1, 0), (again.Seen, again.Unchanged, again.Enqueued));
        Assert.Equal(0, await DrainAsync());
    }

    [Fact]
    public async Task A_booking_the_webhooks_got_right_queues_nothing()
    {
        await DeliverAsync("booking_created_web.json");
        _api.Upsert(WebBooking());

        var pass = await Reconciler.RunScheduledAsync(CancellationToken.None);

        Assert.Equal((1, 1, 0), (pass.Seen, pass.Unchanged, pass.Enqueued));
        Assert.Empty((await Queue.PeekMessagesAsync(32)).Value);
    }

    [Fact]
    public async Task A_lost_cancel_is_recovered()
    {
        await DeliverAsync("booking_created_web.json");
        var cancelled = WebBooking("cancelled");
        cancelled["cancellationReason"] = "Termin passt leider nicht mehr.";
        _api.Upsert(cancelled);

        var pass = await Reconciler.RunScheduledAsync(CancellationToken.None);
        Assert.Equal((1, 1), (pass.Different, pass.Enqueued));
        await DrainAsync();

        var record = await RecordAsync("k3VbP9qWm2xYc7RtL5nD8a");
        Assert.Equal(AppointmentStatus.Cancelled, record.Status);
        Assert.Equal("Termin passt leider nicht mehr.", record.CancellationReason);
    }

    [Fact]
    public async Task A_lost_reschedule_is_recovered_onto_the_same_appointment()
    {
        await DeliverAsync("booking_created_api_metadata.json");
        var before = await RecordAsync("Qm7ZtXo4Lp2WcN9vR1sK6e");
        var old = FakeCalcomApi.Booking("Qm7ZtXo4Lp2WcN9vR1sK6e", Api, _changed, "cancelled", minutes: 20);
        old["rescheduledToUid"] = "Tz8cYw3RbN6kLq1PmV5xHd";
        var next = FakeCalcomApi.Booking("Tz8cYw3RbN6kLq1PmV5xHd", Rescheduled, _changed, minutes: 20);
        next["rescheduledFromUid"] = "Qm7ZtXo4Lp2WcN9vR1sK6e";
        _api.Upsert(old, next);

        var pass = await Reconciler.RunScheduledAsync(CancellationToken.None);
        Assert.Equal("completed", pass.Outcome);
        Assert.True(pass.Enqueued >= 1, $"nothing queued: {pass}");
        await DrainAsync();

        var record = await RecordAsync("Tz8cYw3RbN6kLq1PmV5xHd");
        Assert.Equal(before.AppointmentId, record.AppointmentId);
        Assert.Equal(["Qm7ZtXo4Lp2WcN9vR1sK6e", "Tz8cYw3RbN6kLq1PmV5xHd"], record.CalcomUids);
        Assert.Equal(AppointmentStatus.Confirmed, record.Status);
        Assert.Equal((Rescheduled, Rescheduled.AddMinutes(20)), (record.StartTime, record.EndTime));
        Assert.Equal((Api, Api.AddMinutes(20)), (record.PreviousStartTime, record.PreviousEndTime));
        Assert.Equal(record.AppointmentId, (await RecordAsync("Qm7ZtXo4Lp2WcN9vR1sK6e")).AppointmentId);
        // And the next pass finds nothing left to repair, on either side of the reschedule.
        var again = await Reconciler.RunAsync(_changed.AddMinutes(-1), _changed.AddMinutes(1), CancellationToken.None);
        Assert.Equal(0, again.Enqueued);
    }

    [Fact]
    public async Task A_reassignment_without_a_webhook_moves_the_record_to_the_new_host()
    {
        await DeliverAsync("booking_created_web.json");
        _api.Upsert(FakeCalcomApi.Booking("k3VbP9qWm2xYc7RtL5nD8a", Web, _changed, hostId: 55555, hostEmail: "dr.neu@praxis-example.de", location: "Hauptstraße 12, 10115 Berlin"));

        var pass = await Reconciler.RunScheduledAsync(CancellationToken.None);
        Assert.Equal((1, 1), (pass.Different, pass.Enqueued));
        await DrainAsync();

        var record = await RecordAsync("k3VbP9qWm2xYc7RtL5nD8a");
        Assert.Equal(55555, record.StaffUserId);
        Assert.Equal("dr.neu@praxis-example.de", record.StaffEmail);
        Assert.Equal(AppointmentStatus.Confirmed, record.Status);
    }

    [Fact]
    public async Task A_lost_confirmation_is_recovered()
    {
        await DeliverAsync("booking_requested.json");
        Assert.Equal(AppointmentStatus.Requested, (await RecordAsync("Hb2NwQ8kZr5TyL1mXc4Vp9")).Status);
        _api.Upsert(FakeCalcomApi.Booking("Hb2NwQ8kZr5TyL1mXc4Vp9", Requested, _changed, attendeeEmail: "jonas.beispiel@example.net", location: "Hauptstraße 12, 10115 Berlin"));

        await Reconciler.RunScheduledAsync(CancellationToken.None);
        await DrainAsync();

        Assert.Equal(AppointmentStatus.Confirmed, (await RecordAsync("Hb2NwQ8kZr5TyL1mXc4Vp9")).Status);
    }

    [Fact]
    public async Task A_host_request_reschedule_and_the_rebooking_are_recovered_in_two_passes()
    {
        await DeliverAsync("booking_created_web.json");
        var asked = WebBooking("cancelled");
        asked["cancellationReason"] = "Bitte einen neuen Termin wählen.";
        asked["cancelledByEmail"] = "anna.schmidt@praxis-example.de";
        _api.Upsert(asked);

        await Reconciler.RunScheduledAsync(CancellationToken.None);
        await DrainAsync();
        Assert.Equal(AppointmentStatus.Cancelled, (await RecordAsync("k3VbP9qWm2xYc7RtL5nD8a")).Status);

        // The attendee rebooks: Cal.com links the new booking to the cancelled one.
        asked["rescheduledToUid"] = "Nw4RbT8kLm2QzX6cVp1YdS";
        asked["updatedAt"] = FakeCalcomApi.Iso(_changed.AddMinutes(10));
        var rebooked = FakeCalcomApi.Booking("Nw4RbT8kLm2QzX6cVp1YdS", Web.AddDays(2), _changed.AddMinutes(10), location: "Hauptstraße 12, 10115 Berlin");
        rebooked["rescheduledFromUid"] = "k3VbP9qWm2xYc7RtL5nD8a";
        _api.Upsert(asked, rebooked);

        await Reconciler.RunAsync(_changed.AddMinutes(5), _changed.AddMinutes(15), CancellationToken.None);
        await DrainAsync();

        var record = await RecordAsync("Nw4RbT8kLm2QzX6cVp1YdS");
        Assert.Equal(AppointmentStatus.Confirmed, record.Status);
        Assert.Equal(Web.AddDays(2), record.StartTime);
        Assert.Equal((await RecordAsync("k3VbP9qWm2xYc7RtL5nD8a")).AppointmentId, record.AppointmentId);
    }

    [Fact]
    public async Task Rate_limits_and_server_errors_mid_run_are_waited_out_and_the_pass_completes()
    {
        _api.Upsert(WebBooking());
        _api.Inject(FakeCalcomApi.TooManyRequests(resetSeconds: 1), FakeCalcomApi.ServerError());

        var pass = await Reconciler.RunScheduledAsync(CancellationToken.None);

        Assert.Equal(("completed", 1), (pass.Outcome, pass.Enqueued));
        Assert.True(_api.Requests.Count >= 3, "the 429 and the 500 were not retried");
    }

    [Theory]
    [InlineData(20261202, 40, 0.35)]
    [InlineData(20261203, 60, 0.5)]
    [InlineData(20261204, 60, 0.2)]
    public async Task Generated_lifecycles_with_webhooks_dropped_end_as_full_delivery_after_one_pass(int seed, int lifecycles, double dropRate)
    {
        var random = new Random(seed);
        var generated = new LifecycleGenerator(seed).NextLifecycles(lifecycles, staffMembers: 3, days: 5);
        var inOrder = new Scenario(generated).InOrder;
        var truth = new AppointmentBook();
        foreach (var g in inOrder)
        {
            truth.Apply(CalcomWebhookReader.Read(g.Body).Event!);
        }

        // What Cal.com's API shows at the end: every booking row of every lifecycle, dated by its last change.
        var compared = new List<Lifecycle>();
        foreach (var lifecycle in generated)
        {
            var stored = truth.FindByUid(lifecycle.FinalUid)!;
            foreach (var (current, previous) in ApiSnapshot.ApiRows([stored], lifecycle.Events.Max(e => e.CreatedAt)))
            {
                if (current.Uid == lifecycle.FinalUid)
                {
                    compared.Add(lifecycle);
                }

                foreach (var row in new[] { current, previous }.OfType<CalcomApiBooking>().Where(r => r.Start is not null))
                {
                    _api.Upsert(System.Text.Json.JsonSerializer.SerializeToNode(row, CalcomApiJsonContext.Default.CalcomApiBooking)!.AsObject());
                }
            }
        }

        // Cal.com's deliveries, a third of them lost.
        var kept = inOrder.Where(_ => random.NextDouble() >= dropRate).ToList();
        foreach (var g in kept)
        {
            Assert.Equal(202, (await WebhookCall.PostSignedAsync(_app, g.Body)).StatusCode);
        }

        await DrainAsync();
        var from = inOrder.Min(g => g.CreatedAt).AddMinutes(-1);
        var to = inOrder.Max(g => g.CreatedAt).AddMinutes(1);
        var pass = await Reconciler.RunAsync(from, to, CancellationToken.None);
        Assert.Equal("completed", pass.Outcome);
        await DrainAsync();

        foreach (var lifecycle in compared)
        {
            var want = truth.FindByUid(lifecycle.FinalUid)!.Record;
            var got = await RecordAsync(lifecycle.FinalUid);
            Assert.True(BookComparison.Key(got) == BookComparison.Key(want) && got.CalcomUids.SequenceEqual(want.CalcomUids),
                $"seed {seed}, {lifecycle}: after {kept.Count} of {inOrder.Count} deliveries and a pass ({pass.Missing} missing, {pass.Different} different, {pass.Enqueued} queued): "
                + $"{BookComparison.Key(got)} [{string.Join(">", got.CalcomUids)}], full delivery {BookComparison.Key(want)} [{string.Join(">", want.CalcomUids)}]");
        }

        Assert.True(compared.Count > lifecycles / 2, $"only {compared.Count} lifecycles had API rows to compare");
        // A second pass finds nothing left to repair.
        Assert.Equal(0, (await Reconciler.RunAsync(from, to, CancellationToken.None)).Enqueued);
    }

    [Fact]
    public async Task Cancel_all_remaining_of_a_series_sends_one_webhook_and_the_follow_up_cancels_every_later_occurrence()
    {
        var series = Enumerable.Range(0, 3).Select(i =>
        {
            var b = FakeCalcomApi.Booking($"occ{i}R7wN2kLp9QzX4cVb1Ym", Web.AddDays(7 * i), _changed.AddDays(-1), location: "Hauptstraße 12, 10115 Berlin");
            b["recurringBookingUid"] = "seriesN2kLp9QzX4cVb1Ym";
            return b;
        }).ToArray();
        foreach (var occurrence in series)
        {
            var created = SyntheticWebhook.Body(Booking(occurrence), CalcomTriggers.BookingCreated, "setup", _changed);
            Assert.Equal(202, (await WebhookCall.PostSignedAsync(_app, created)).StatusCode);
        }

        await DrainAsync();
        // "Cancel all remaining" from the second occurrence: Cal.com cancels two and sends one webhook, for the clicked one.
        foreach (var occurrence in series.Skip(1))
        {
            occurrence["status"] = "cancelled";
            occurrence["updatedAt"] = FakeCalcomApi.Iso(_changed);
        }

        _api.Upsert(series);
        var cancel = System.Text.Json.Nodes.JsonNode.Parse(SyntheticWebhook.Body(Booking(series[1]), CalcomTriggers.BookingCancelled, "setup", _changed))!.AsObject();
        cancel.Remove("askpro");
        cancel["payload"]!["recurringEvent"] = new JsonObject { ["freq"] = 2, ["count"] = 3, ["interval"] = 1 };
        Assert.Equal(202, (await WebhookCall.PostSignedAsync(_app, System.Text.Encoding.UTF8.GetBytes(cancel.ToJsonString()))).StatusCode);

        var applied = await DrainAsync();

        Assert.True(applied >= 3, $"{applied} messages: the cancel, the series lookup and the repair of the third occurrence");
        Assert.Equal(AppointmentStatus.Confirmed, (await RecordAsync("occ0R7wN2kLp9QzX4cVb1Ym")).Status);
        Assert.Equal(AppointmentStatus.Cancelled, (await RecordAsync("occ1R7wN2kLp9QzX4cVb1Ym")).Status);
        Assert.Equal(AppointmentStatus.Cancelled, (await RecordAsync("occ2R7wN2kLp9QzX4cVb1Ym")).Status);
        Assert.Contains(_app.Logs.Lines, l => l.Contains("[5010]", StringComparison.Ordinal));
        static CalcomApiBooking Booking(JsonObject json) => System.Text.Json.JsonSerializer.Deserialize(json.ToJsonString(), CalcomApiJsonContext.Default.CalcomApiBooking)!;
    }

    [Fact]
    public async Task A_throttled_series_look_up_leaves_the_webhooks_own_record_applied_at_once_and_completes_after_the_throttle_lifts()
    {
        await using var app = SeriesApp(s => s["Queue:TransientRetryDelay"] = "00:00:00.100");
        var (cancel, uids, _) = await CancelAllRemainingAsync(app, "thr");
        _api.Inject(FakeCalcomApi.TooManyRequests(1), FakeCalcomApi.TooManyRequests(1));
        var requests = _api.Requests.Count;
        // Other tests of this collection share the storage account: count only what this test dead-letters.
        var deadBefore = await QueueListenerCount(app.Get<StorageClients>().DeadLetterQueue);
        Assert.Equal(202, (await WebhookCall.PostSignedAsync(app, cancel)).StatusCode);

        // Applying the webhook reads nothing from the API: its own record is cancelled at once, the look-up waits in its queue.
        Assert.Equal(1, await DrainWebhooksAsync(app));
        Assert.Equal(requests, _api.Requests.Count);
        Assert.Equal(AppointmentStatus.Cancelled, (await RecordAsync(app, uids[1])).Status);
        Assert.Equal(AppointmentStatus.Confirmed, (await RecordAsync(app, uids[2])).Status);
        Assert.Equal(1, await QueueListenerCount(app.Get<StorageClients>().SeriesLookupQueue));

        // Throttled twice: each time back on its queue with the delay Cal.com named, then done.
        await RunUntilAsync(app, async () => (await RecordAsync(app, uids[2])).Status == AppointmentStatus.Cancelled, "the look-up repaired the third occurrence");
        Assert.Equal(2, app.Logs.Lines.Count(l => l.Contains("[5101]", StringComparison.Ordinal) && l.Contains("status 429", StringComparison.Ordinal)));
        Assert.Equal(AppointmentStatus.Confirmed, (await RecordAsync(app, uids[0])).Status);
        Assert.Equal(deadBefore, await QueueListenerCount(app.Get<StorageClients>().DeadLetterQueue));
    }

    [Fact]
    public async Task A_series_look_up_that_keeps_getting_5xx_is_retried_from_its_own_queue_and_never_dead_lettered_with_the_booking()
    {
        await using var app = SeriesApp(s =>
        {
            s["Queue:TransientRetryDelay"] = "00:00:00.050";
            s["Queue:TransientRetryFor"] = "00:00:01";
        });
        var (cancel, uids, _) = await CancelAllRemainingAsync(app, "err");
        _api.Inject([.. Enumerable.Repeat(FakeCalcomApi.ServerError(), 500)]);
        var deadBefore = await QueueListenerCount(app.Get<StorageClients>().DeadLetterQueue);
        Assert.Equal(202, (await WebhookCall.PostSignedAsync(app, cancel)).StatusCode);
        Assert.Equal(1, await DrainWebhooksAsync(app));
        Assert.Equal(AppointmentStatus.Cancelled, (await RecordAsync(app, uids[1])).Status);

        await RunUntilAsync(app, () => Task.FromResult(app.Logs.Lines.Any(l => l.Contains("[5102]", StringComparison.Ordinal))), "the look-up was given up");
        Assert.Contains(app.Logs.Lines, l => l.Contains("[5101]", StringComparison.Ordinal) && l.Contains("status 500", StringComparison.Ordinal));
        var storage = app.Get<StorageClients>();
        Assert.Equal(deadBefore, await QueueListenerCount(storage.DeadLetterQueue));
        Assert.Equal(0, await QueueListenerCount(storage.SeriesLookupQueue));
        Assert.Equal(0, await QueueListenerCount(storage.Queues.GetQueueClient(StorageNames.SeriesLookupPoisonQueue)));
        Assert.Equal(AppointmentStatus.Cancelled, (await RecordAsync(app, uids[1])).Status);
    }

    [Fact]
    public async Task A_look_up_of_a_series_another_look_up_holds_waits_in_its_queue_and_runs_after_it()
    {
        // Hidden 2 s when sent back: long enough to see it waiting.
        await using var app = SeriesApp(s => s["Queue:TransientRetryDelay"] = "00:00:02");
        var (cancel, uids, series) = await CancelAllRemainingAsync(app, "one");
        var lookups = app.Get<SeriesLookupFunction>();
        await using (var other = await app.Get<ReconciliationState>().TryAcquireSeriesLeaseAsync(series, "another-look-up", TimeSpan.FromMinutes(1), CancellationToken.None))
        {
            Assert.NotNull(other);
            Assert.Equal(202, (await WebhookCall.PostSignedAsync(app, cancel)).StatusCode);
            Assert.Equal(1, await DrainWebhooksAsync(app));
            Assert.Equal(1, await DrainQueueAsync(app.Get<StorageClients>().SeriesLookupQueue, m => lookups.RunSeriesLookup(m, CancellationToken.None)));

            // It read the occurrence, found the series held, and went back to its queue without reading the series.
            Assert.Contains(app.Logs.Lines, l => l.Contains("[5101]", StringComparison.Ordinal) && l.Contains(nameof(SeriesBusyException), StringComparison.Ordinal));
            Assert.DoesNotContain(_api.Requests, r => r.Contains(series, StringComparison.Ordinal));
            Assert.Equal(AppointmentStatus.Confirmed, (await RecordAsync(app, uids[2])).Status);
            Assert.Equal(1, await QueueListenerCount(app.Get<StorageClients>().SeriesLookupQueue));
        }

        await RunUntilAsync(app, async () => (await RecordAsync(app, uids[2])).Status == AppointmentStatus.Cancelled, "the look-up ran once the series was free");
        Assert.Contains(_api.Requests, r => r.Contains(series, StringComparison.Ordinal));
    }

    /// <summary>An app of its own for a look-up test: no in-process retries, so every API failure reaches the look-up.</summary>
    private TestApp SeriesApp(Action<Dictionary<string, string?>> edit) => TestApp.Create(azurite.ConnectionString, s =>
    {
        s["Appointments:TableName"] = "rec" + Guid.NewGuid().ToString("N")[..12];
        s["Calcom:ApiKey"] = FakeCalcomApi.ApiKey;
        s["Calcom:ApiBaseUrl"] = _api.BaseUrl.ToString();
        s["Calcom:MaxRetries"] = "0";
        edit(s);
    });

    /// <summary>Three occurrences booked through webhooks; then "cancel all remaining" from the second in the API, and its one webhook (not yet sent).</summary>
    private async Task<(byte[] Cancel, string[] Uids, string Series)> CancelAllRemainingAsync(TestApp app, string prefix)
    {
        var seriesUid = prefix + "series" + Guid.NewGuid().ToString("N")[..14];
        var series = Enumerable.Range(0, 3).Select(i =>
        {
            var b = FakeCalcomApi.Booking($"{prefix}{i}{Guid.NewGuid():N}"[..22], Web.AddDays(7 * i), _changed.AddDays(-1));
            b["recurringBookingUid"] = seriesUid;
            return b;
        }).ToArray();
        foreach (var occurrence in series)
        {
            Assert.Equal(202, (await WebhookCall.PostSignedAsync(app, SyntheticWebhook.Body(ApiBooking(occurrence), CalcomTriggers.BookingCreated, "setup", _changed))).StatusCode);
        }

        await DrainAsync(app);
        foreach (var occurrence in series.Skip(1))
        {
            occurrence["status"] = "cancelled";
            occurrence["updatedAt"] = FakeCalcomApi.Iso(_changed);
        }

        _api.Upsert(series);
        var cancel = JsonNode.Parse(SyntheticWebhook.Body(ApiBooking(series[1]), CalcomTriggers.BookingCancelled, "setup", _changed))!.AsObject();
        cancel.Remove("askpro");
        cancel["payload"]!["recurringEvent"] = new JsonObject { ["freq"] = 2, ["count"] = 3, ["interval"] = 1 };
        return (System.Text.Encoding.UTF8.GetBytes(cancel.ToJsonString()), [.. series.Select(b => (string)b["uid"]!)], seriesUid);
    }

    private static CalcomApiBooking ApiBooking(JsonObject json) => System.Text.Json.JsonSerializer.Deserialize(json.ToJsonString(), CalcomApiJsonContext.Default.CalcomApiBooking)!;

    /// <summary>Runs both queue functions (bounded, polling for delayed messages) until <paramref name="done"/> holds.</summary>
    private async Task RunUntilAsync(TestApp app, Func<Task<bool>> done, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!await done())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting until {what}");
            await DrainAsync(app);
            await Task.Delay(100);
        }
    }

    private static async Task<Appointment> RecordAsync(TestApp app, string uid) =>
        (await app.Get<AppointmentTableStore>().FindByUidAsync(uid, CancellationToken.None) ?? throw new Xunit.Sdk.XunitException($"no record for {uid}")).Record;

    private static async Task<int> QueueListenerCount(QueueClient queue) =>
        (await queue.ExistsAsync()).Value ? (await queue.GetPropertiesAsync()).Value.ApproximateMessagesCount : 0;

    private const string SeatSlot = "Gs5TqW8nLp2XcR7vK1mB4d";
    private static readonly DateTimeOffset Course = new(2026, 2, 10, 17, 0, 0, TimeSpan.Zero);

    private static readonly FakeCalcomApi.Seat[] CourseSeats =
    [
        new("Max Mustermann", "max.mustermann@example.com", "seatA1xQ9LpR2wKc7VnB4mZ"),
        new("Erika Musterfrau", "erika.musterfrau@example.org", "seatB2yR8KqS3xLd6WmC5nY"),
        new("Jonas Beispiel", "jonas.beispiel@example.net", "seatC3zS7JrT4yMe5XnD6pX"),
    ];

    /// <summary>
    /// Cal.com's webhook for one seat of the course slot, from the web example: the shared uid and booking id,
    /// <c>seatsPerTimeSlot</c>, only that seat's attendee; a booked seat names its <c>attendeeSeatId</c>, a cancelled
    /// one does not, and its <c>responses</c> describe the first booker (Cal.com rebuilds them from the booking row).
    /// </summary>
    private static byte[] SeatWebhook(string trigger, FakeCalcomApi.Seat seat, DateTimeOffset at, DateTimeOffset? start = null) =>
        ExampleBodies.Retrigger(Examples.Calcom("booking_created_web.json"), trigger, FakeCalcomApi.Iso(at), p =>
        {
            var first = CourseSeats[0];
            p["uid"] = SeatSlot;
            p["bookingId"] = 5100001;
            p["eventTypeId"] = 7654321;
            p["title"] = "Rückenschule (Gruppe)";
            p["startTime"] = FakeCalcomApi.Iso(start ?? Course);
            p["endTime"] = FakeCalcomApi.Iso((start ?? Course).AddMinutes(90));
            p["seatsPerTimeSlot"] = 8;
            p["attendees"] = new JsonArray(new JsonObject { ["email"] = seat.Email, ["name"] = seat.Name, ["timeZone"] = "Europe/Berlin", ["language"] = new JsonObject { ["locale"] = "de" } });
            var seated = trigger == CalcomTriggers.BookingCreated;
            p["responses"] = new JsonObject
            {
                ["name"] = new JsonObject { ["label"] = "your_name", ["value"] = seated ? seat.Name : first.Name },
                ["email"] = new JsonObject { ["label"] = "email_address", ["value"] = seated ? seat.Email : first.Email },
                ["location"] = new JsonObject { ["label"] = "location", ["value"] = new JsonObject { ["value"] = "Hauptstraße 12, 10115 Berlin", ["optionValue"] = "" } },
            };
            if (seated)
            {
                p["attendeeSeatId"] = seat.SeatUid;
            }
            else
            {
                p["status"] = "CANCELLED";
                p["cancellationReason"] = "Kann leider nicht.";
                p["requestReschedule"] = false;
            }
        });

    /// <summary>The course slot's seats as full delivery of <paramref name="bodies"/> makes them, and as the store holds them.</summary>
    private async Task AssertSeatsAsInFullDeliveryAsync(IEnumerable<byte[]> bodies)
    {
        var truth = ExampleBodies.Book([.. bodies]).FindByUid(SeatSlot)!.Seats.Select(s => SeatKey(s.Record)).ToList();
        var stored = (await Store.FindByUidAsync(SeatSlot, CancellationToken.None))!.Seats.Select(s => SeatKey(s.Record)).ToList();
        Assert.Equal(CourseSeats.Length, truth.Count);
        Assert.Equal(truth, stored);
    }

    private static string SeatKey(Appointment a) =>
        $"{BookComparison.Key(a)} {a.CustomerName} <{a.CustomerEmail}> [{string.Join(">", a.CalcomUids)}] slot {a.SlotId}";

    private async Task<Dictionary<string, Appointment>> SeatsByEmailAsync() =>
        (await Store.FindByUidAsync(SeatSlot, CancellationToken.None))!.Seats.ToDictionary(s => s.Record.CustomerEmail!, s => s.Record, StringComparer.OrdinalIgnoreCase);

    [Fact]
    public async Task A_lost_seat_cancel_cancels_that_seat_only_and_the_others_keep_their_own_customers()
    {
        // Three seats booked, their webhooks delivered; the slot row last changed when the first seat was booked.
        var booked = CourseSeats.Select((seat, i) => SeatWebhook(CalcomTriggers.BookingCreated, seat, _changed.AddMinutes(i))).ToList();
        foreach (var body in booked)
        {
            Assert.Equal(202, (await WebhookCall.PostSignedAsync(_app, body)).StatusCode);
        }

        await DrainAsync();
        _api.Upsert(FakeCalcomApi.SeatedBooking(SeatSlot, Course, _changed, CourseSeats));
        // Jonas cancels his seat: Cal.com deletes his attendee row, leaves updatedAt, and the webhook is lost.
        var lost = SeatWebhook(CalcomTriggers.BookingCancelled, CourseSeats[2], _changed.AddMinutes(20));
        _api.CancelSeat(SeatSlot, CourseSeats[2].Email);

        var pass = await Reconciler.RunScheduledAsync(CancellationToken.None);
        Assert.Equal(("completed", 1, 1), (pass.Outcome, pass.Different, pass.Enqueued));
        Assert.Equal(1, await DrainAsync());

        var seats = await SeatsByEmailAsync();
        Assert.Equal(AppointmentStatus.Cancelled, seats[CourseSeats[2].Email].Status);
        Assert.Equal(AppointmentStatus.Confirmed, seats[CourseSeats[0].Email].Status);
        Assert.Equal(AppointmentStatus.Confirmed, seats[CourseSeats[1].Email].Status);
        Assert.Equal("Erika Musterfrau", seats[CourseSeats[1].Email].CustomerName);
        await AssertSeatsAsInFullDeliveryAsync([.. booked, lost]);
        Assert.DoesNotContain(_app.Logs.Lines, l => l.Contains(CourseSeats[2].Email, StringComparison.OrdinalIgnoreCase) || l.Contains(SeatSlot, StringComparison.Ordinal));

        // And nothing is left to repair, pass after pass.
        var again = await Reconciler.RunAsync(_changed.AddMinutes(-1), _changed.AddMinutes(1), CancellationToken.None);
        Assert.Equal((1, 1, 0), (again.Seen, again.Unchanged, again.Enqueued));
    }

    [Fact]
    public async Task A_seat_cancel_leaves_updatedAt_so_the_changed_since_pass_misses_it_and_the_daily_sweep_repairs_it()
    {
        var soon = new DateTimeOffset(DateTimeOffset.UtcNow.Date.AddDays(3).AddHours(17), TimeSpan.Zero);
        var booked = CourseSeats.Select((seat, i) => SeatWebhook(CalcomTriggers.BookingCreated, seat, _changed.AddMinutes(i), soon)).ToList();
        foreach (var body in booked)
        {
            Assert.Equal(202, (await WebhookCall.PostSignedAsync(_app, body)).StatusCode);
        }

        await DrainAsync();
        _api.Upsert(FakeCalcomApi.SeatedBooking(SeatSlot, soon, _changed, CourseSeats));
        var state = _app.Get<ReconciliationState>();
        await state.AdvanceDeltaAsync(DateTimeOffset.UtcNow, CancellationToken.None);
        // The last sweep was a day ago less three seconds: due in three seconds (Reconciliation__SweepEvery is a day).
        await state.MarkSweepAsync(DateTimeOffset.UtcNow - new ReconciliationOptions().SweepEvery + TimeSpan.FromSeconds(3), CancellationToken.None);
        _api.CancelSeat(SeatSlot, CourseSeats[1].Email);

        var delta = await Reconciler.RunScheduledAsync(CancellationToken.None);
        Assert.Equal((false, 0, 0), (delta.Swept, delta.Seen, delta.Enqueued));

        await Task.Delay(TimeSpan.FromSeconds(3.5));
        var swept = await Reconciler.RunScheduledAsync(CancellationToken.None);
        Assert.Equal((true, 1), (swept.Swept, swept.Enqueued));
        await DrainAsync();

        var seats = await SeatsByEmailAsync();
        Assert.Equal(AppointmentStatus.Cancelled, seats[CourseSeats[1].Email].Status);
        Assert.Equal(2, seats.Values.Count(s => s.Status == AppointmentStatus.Confirmed));
    }

    [Fact]
    public async Task A_sweep_cut_by_its_time_budget_resumes_in_the_next_pass_and_repairs_every_drift_once()
    {
        // More bookings than one page (250), each with its own start, changed long before the delta window: only the
        // sweep finds them. A budget so small that every pass stops after the first page of each walk.
        await using var app = TestApp.Create(azurite.ConnectionString, s =>
        {
            s["Appointments:TableName"] = "rec" + Guid.NewGuid().ToString("N")[..12];
            s["Calcom:ApiKey"] = FakeCalcomApi.ApiKey;
            s["Calcom:ApiBaseUrl"] = _api.BaseUrl.ToString();
            s["Reconciliation:PassBudget"] = "00:00:00.001";
        });
        var first = new DateTimeOffset(DateTimeOffset.UtcNow.Date.AddDays(2).AddHours(7), TimeSpan.Zero);
        var uids = Enumerable.Range(0, CalcomApiClient.MaxTake + 10).Select(i => $"sweep{i:D4}x{Guid.NewGuid():N}"[..24]).ToList();
        _api.Upsert([.. uids.Select((uid, i) => FakeCalcomApi.Booking(uid, first.AddMinutes(10 * i), DateTimeOffset.UtcNow.AddDays(-20)))]);
        var state = app.Get<ReconciliationState>();
        await state.AdvanceDeltaAsync(DateTimeOffset.UtcNow, CancellationToken.None);
        var reconciler = app.Get<Reconciler>();

        var cut = await reconciler.RunScheduledAsync(CancellationToken.None);
        Assert.Equal(("cut", false, CalcomApiClient.MaxTake), (cut.Outcome, cut.Swept, cut.Enqueued));
        var progress = (await state.ReadCheckpointAsync(CancellationToken.None)).Sweep;
        Assert.NotNull(progress);
        Assert.Contains(app.Logs.Lines, l => l.Contains("[5100]", StringComparison.Ordinal));
        Assert.Equal(CalcomApiClient.MaxTake, await DrainAsync(app));

        var resumed = await reconciler.RunScheduledAsync(CancellationToken.None);
        // It went on from the saved position (the sweep's range is the first pass's), not from the start of the range.
        Assert.Equal(("completed", true, 10), (resumed.Outcome, resumed.Swept, resumed.Enqueued));
        Assert.True(resumed.Seen <= 11, $"the resumed sweep read {resumed.Seen} bookings again");
        var checkpoint = await state.ReadCheckpointAsync(CancellationToken.None);
        Assert.Null(checkpoint.Sweep);
        Assert.Equal(progress.StartedAt, checkpoint.LastSweepAt);
        Assert.Equal(10, await DrainAsync(app));

        var later = await reconciler.RunScheduledAsync(CancellationToken.None);
        Assert.Equal(("completed", false, 0), (later.Outcome, later.Swept, later.Enqueued));
        foreach (var uid in uids)
        {
            Assert.NotNull(await app.Get<AppointmentTableStore>().FindByUidAsync(uid, CancellationToken.None));
        }

        // Each drift was queued exactly once over the passes.
        var queued = app.Logs.Lines.Where(l => l.Contains("[5001]", StringComparison.Ordinal)).ToList();
        Assert.Equal(uids.Count, queued.Count);
        Assert.Equal(uids.Count, uids.Select(UidPseudonym.Of).Count(p => queued.Count(l => l.Contains(p, StringComparison.Ordinal)) == 1));
        await app.Get<StorageClients>().Appointments.DeleteAsync();
    }

    [Fact]
    public async Task A_lost_seat_booking_is_recovered_as_that_attendees_own_seat()
    {
        var booked = CourseSeats.Select((seat, i) => SeatWebhook(CalcomTriggers.BookingCreated, seat, _changed.AddMinutes(i))).ToList();
        foreach (var body in booked.Take(2))
        {
            Assert.Equal(202, (await WebhookCall.PostSignedAsync(_app, body)).StatusCode);
        }

        await DrainAsync();
        _api.Upsert(FakeCalcomApi.SeatedBooking(SeatSlot, Course, _changed.AddMinutes(2), CourseSeats));

        var pass = await Reconciler.RunScheduledAsync(CancellationToken.None);
        Assert.Equal(("completed", 1, 1), (pass.Outcome, pass.Different, pass.Enqueued));
        await DrainAsync();

        var seats = await SeatsByEmailAsync();
        Assert.Equal(3, seats.Count);
        Assert.All(seats.Values, s => Assert.Equal(AppointmentStatus.Confirmed, s.Status));
        Assert.Equal(SeatProjection.SeatIdOf(SeatSlot, CourseSeats[2].Email), seats[CourseSeats[2].Email].AppointmentId);
        await AssertSeatsAsInFullDeliveryAsync(booked);
        Assert.Equal(0, (await Reconciler.RunAsync(_changed.AddMinutes(1), _changed.AddMinutes(3), CancellationToken.None)).Enqueued);
    }

    [Fact]
    public async Task A_seated_slot_the_webhooks_got_right_queues_nothing()
    {
        foreach (var (seat, i) in CourseSeats.Select((s, i) => (s, i)))
        {
            Assert.Equal(202, (await WebhookCall.PostSignedAsync(_app, SeatWebhook(CalcomTriggers.BookingCreated, seat, _changed.AddMinutes(i)))).StatusCode);
        }

        await DrainAsync();
        _api.Upsert(FakeCalcomApi.SeatedBooking(SeatSlot, Course, _changed, CourseSeats));

        var pass = await Reconciler.RunScheduledAsync(CancellationToken.None);

        Assert.Equal((1, 1, 0), (pass.Seen, pass.Unchanged, pass.Enqueued));
        Assert.Empty((await Queue.PeekMessagesAsync(32)).Value);
    }

    [Fact]
    public async Task A_slot_cancelled_by_the_host_without_its_webhook_cancels_every_seat()
    {
        foreach (var (seat, i) in CourseSeats.Select((s, i) => (s, i)))
        {
            Assert.Equal(202, (await WebhookCall.PostSignedAsync(_app, SeatWebhook(CalcomTriggers.BookingCreated, seat, _changed.AddMinutes(i)))).StatusCode);
        }

        await DrainAsync();
        var cancelled = FakeCalcomApi.SeatedBooking(SeatSlot, Course, _changed.AddMinutes(30), CourseSeats, "cancelled");
        cancelled["cancellationReason"] = "Kurs fällt aus.";
        _api.Upsert(cancelled);

        var pass = await Reconciler.RunScheduledAsync(CancellationToken.None);
        Assert.Equal(1, pass.Enqueued);
        await DrainAsync();

        Assert.All((await SeatsByEmailAsync()).Values, s => Assert.Equal((AppointmentStatus.Cancelled, "Kurs fällt aus."), (s.Status, s.CancellationReason)));
    }

    [Fact]
    public async Task A_refused_key_stops_the_pass_and_leaves_the_checkpoint()
    {
        _api.Upsert(WebBooking());
        _api.Inject(FakeCalcomApi.Unauthorized());

        var pass = await Reconciler.RunScheduledAsync(CancellationToken.None);

        Assert.Equal(("unauthorized", 0), (pass.Outcome, pass.Enqueued));
        Assert.Equal(new ReconciliationCheckpoint(null, null), await _app.Get<ReconciliationState>().ReadCheckpointAsync(CancellationToken.None));
        Assert.Contains(_app.Logs.Lines, l => l.Contains("[5003]", StringComparison.Ordinal) && l.Contains("Calcom__ApiKey", StringComparison.Ordinal));
        Assert.DoesNotContain(_app.Logs.Lines, l => l.Contains(FakeCalcomApi.ApiKey, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Two_passes_at_once_do_the_work_once()
    {
        _api.Upsert(WebBooking());
        _api.Inject(FakeCalcomApi.Slow(TimeSpan.FromMilliseconds(500)));

        var passes = await Task.WhenAll(Reconciler.RunScheduledAsync(CancellationToken.None), Reconciler.RunScheduledAsync(CancellationToken.None));

        Assert.Equal(["busy", "completed"], passes.Select(p => p.Outcome).Order(StringComparer.Ordinal));
        Assert.Single((await Queue.PeekMessagesAsync(32)).Value);
    }

    [Fact]
    public async Task A_pass_that_dies_mid_run_leaves_the_checkpoint_at_the_last_queued_chunk_and_the_next_pass_recovers_the_rest()
    {
        // 300 changed bookings over 150 minutes: the whole window fills a page and is halved; the older half (175) is
        // one chunk, the newer half's page then fails for good.
        var start = DateTimeOffset.UtcNow.AddDays(60);
        var from = _changed.AddHours(-2);
        _api.Upsert([.. Enumerable.Range(0, 300).Select(i => FakeCalcomApi.Booking($"c{i:D5}Lp2WcN9vR1sK6eQxZ", start.AddHours(i), from.AddSeconds(i * 30)))]);
        var state = _app.Get<ReconciliationState>();
        var checkpointBefore = from.AddMinutes(-1);
        await state.AdvanceDeltaAsync(checkpointBefore, CancellationToken.None);
        await state.MarkSweepAsync(DateTimeOffset.UtcNow, CancellationToken.None);
        // The whole window (a full page, so split) and its older half answer; the newer half fails past every retry.
        _api.Inject([NoFault(), NoFault(), .. Enumerable.Range(0, 5).Select(_ => FakeCalcomApi.ServerError())]);

        var failed = await Reconciler.RunScheduledAsync(CancellationToken.None);
        Assert.Equal("failed", failed.Outcome);
        Assert.InRange(failed.Enqueued, 1, 299);
        var checkpoint = (await state.ReadCheckpointAsync(CancellationToken.None)).DeltaUpTo!.Value;
        var newestQueued = (await Queue.PeekMessagesAsync(32)).Value.Length; // some were queued …
        Assert.True(newestQueued > 0);
        Assert.True(checkpoint > checkpointBefore, "the checkpoint did not move past the queued older half");
        Assert.True(checkpoint < from.AddSeconds(299 * 30), $"the checkpoint {checkpoint:o} moved past bookings that were never queued");

        var next = await Reconciler.RunScheduledAsync(CancellationToken.None);
        Assert.Equal("completed", next.Outcome);
        await DrainAsync();
        var table = _app.Get<StorageClients>().Appointments;
        var uids = new HashSet<string>(StringComparer.Ordinal);
        await foreach (var row in table.QueryAsync<TableEntity>(r => r.PartitionKey == AppointmentEntities.PartitionKey))
        {
            if (row.RowKey.StartsWith(AppointmentEntities.UidPrefix, StringComparison.Ordinal))
            {
                uids.Add(row.RowKey[AppointmentEntities.UidPrefix.Length..]);
            }
        }

        Assert.Equal(300, uids.Count);
        static FakeCalcomApi.Fault NoFault() => FakeCalcomApi.Slow(TimeSpan.Zero);
    }
}
