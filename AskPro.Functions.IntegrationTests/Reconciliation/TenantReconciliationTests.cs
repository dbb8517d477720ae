using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Text;
using System.Text.Json.Nodes;
using AskPro.Functions.Appointments;
using AskPro.Functions.Queueing;
using AskPro.Functions.Reconciliation;
using AskPro.Functions.Storage;
using AskPro.Functions.Telemetry;
using AskPro.Functions.Tenants;
using AskPro.Functions.Tests.Infrastructure;
using Azure.Data.Tables;
using Azure.Storage.Queues;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Abstractions;
using Microsoft.AspNetCore.Routing;

namespace AskPro.Functions.Tests.Reconciliation;

/// <summary>
/// Reconciliation per tenant (docs/reconciliation.md#per-tenant), on Azurite against the fake Cal.com API on loopback
/// serving each key its own account: the timer's fan-out queues one pass per tenant with a key, each pass reads with its
/// tenant's key and applies into its tenant's partition; a refused key stops only its tenant; a booking outside a
/// tenant's scope is never applied and is counted; <c>POST /api/ops/reconcile?tenant=</c> runs one tenant's pass.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class TenantReconciliationTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private const string AcmeKey = "cal_test_acme_5f1e9c3a7b2d4e6f8a0c1e3b5d7f9a1c";
    private const string BetaKey = "cal_test_beta_0a2c4e6f8b1d3f5a7c9e1b3d5f7a9c2e";
    private const string AcmeSecret = "acme-webhook-secret-3e7a1c9f5b2d8e4a6c0f";
    private const string BetaSecret = "beta-webhook-secret-8c2f6a0e4b9d1f7c3a5e";
    private const long AcmeEventType = 4411001;
    private const long StrangerEventType = 9900017;
    /// <summary>The same uid in both practices: two independent bookings, as in two Cal.com accounts.</summary>
    private const string SharedUid = "t7NqR2vXc9Lm4WbK8pZs1d";
    private static readonly DateTimeOffset Start = new(2026, 2, 10, 9, 0, 0, TimeSpan.Zero);
    private readonly DateTimeOffset _changed = DateTimeOffset.UtcNow.AddHours(-1);
    private FakeCalcomApi _api = null!;
    private TestApp _app = null!;

    public async Task InitializeAsync()
    {
        _api = await FakeCalcomApi.StartAsync();
        _api.AddKey(AcmeKey);
        _api.AddKey(BetaKey);
        var table = "tre" + Guid.NewGuid().ToString("N")[..12];
        _app = TestApp.Create(azurite.ConnectionString, s =>
        {
            s["Appointments:TableName"] = table;
            s["Calcom:ApiKey"] = FakeCalcomApi.ApiKey;
            s["Calcom:ApiBaseUrl"] = _api.BaseUrl.ToString();
            s["Calcom:RetryDelay"] = "00:00:00.020";
            s["Tenants:acme:WebhookSecrets:0"] = AcmeSecret;
            s["Tenants:acme:Calcom:ApiKey"] = AcmeKey;
            s["Tenants:acme:CompanyId"] = "company-acme";
            s["Tenants:acme:EventTypeIds:0"] = AcmeEventType.ToString(System.Globalization.CultureInfo.InvariantCulture);
            s["Tenants:beta:WebhookSecrets:0"] = BetaSecret;
            s["Tenants:beta:Calcom:ApiKey"] = BetaKey;
            s["Tenants:beta:Calcom:ApiBaseUrl"] = _api.BaseUrl.ToString();
            // No key: reconciliation is off for this one, and the fan-out skips it.
            s["Tenants:nokey:WebhookSecrets:0"] = "nokey-webhook-secret-1b3d5f7a9c2e4a6c8e0f";
        });
        await _app.Get<WebhookQueue>().EnsureCreatedAsync(CancellationToken.None);
        await _app.Get<ReconciliationFanOut>().EnsureCreatedAsync(CancellationToken.None);
        await new QueueProbe(azurite.ConnectionString).ClearAsync();
        await LookupQueue.ClearMessagesAsync();
        await FanOutQueue.ClearMessagesAsync();
    }

    public async Task DisposeAsync()
    {
        await WebhookQueue.ClearMessagesAsync();
        await LookupQueue.ClearMessagesAsync();
        await FanOutQueue.ClearMessagesAsync();
        await _app.Get<StorageClients>().Appointments.DeleteAsync();
        await _app.DisposeAsync();
        await _api.DisposeAsync();
    }

    private QueueClient WebhookQueue => _app.Get<StorageClients>().WebhookQueue;
    private QueueClient LookupQueue => _app.Get<StorageClients>().SeriesLookupQueue;
    private QueueClient FanOutQueue => _app.Get<StorageClients>().Queues.GetQueueClient(StorageNames.ReconciliationQueue);
    private AppointmentTableStore Store => _app.Get<AppointmentTableStore>();
    private static TenantRows Acme => new("acme", "company-acme");
    private static TenantRows Beta => new("beta");

    private JsonObject Booking(string uid, DateTimeOffset start, long eventType = AcmeEventType, string hostEmail = "anna.schmidt@praxis-example.de")
    {
        var booking = FakeCalcomApi.Booking(uid, start, _changed, hostEmail: hostEmail, location: "Hauptstraße 12, 10115 Berlin");
        booking["eventTypeId"] = eventType;
        booking["eventType"] = new JsonObject { ["id"] = eventType, ["slug"] = "erstberatung" };
        return booking;
    }

    /// <summary>The timer's tick as the host runs it: the fan-out, then every queued pass through its queue function; the passes' summaries are in the log.</summary>
    private async Task<int> TickAsync()
    {
        var queued = await _app.Get<ReconciliationFanOut>().QueueAllAsync(CancellationToken.None);
        var function = _app.Get<ReconcileFunctions>();
        var passes = await DrainQueueAsync(FanOutQueue, m => function.RunTenantReconciliation(m, CancellationToken.None));
        Assert.Equal(queued.Count, passes);
        return passes;
    }

    private async Task<int> DrainAsync()
    {
        var function = _app.Get<ApplyCalcomEventFunction>();
        var lookups = _app.Get<SeriesLookupFunction>();
        var applied = 0;
        while (true)
        {
            var handled = await DrainQueueAsync(WebhookQueue, m => function.ApplyCalcomEvent(m, CancellationToken.None))
                + await DrainQueueAsync(LookupQueue, m => lookups.RunSeriesLookup(m, CancellationToken.None));
            if (handled == 0)
            {
                return applied;
            }

            applied += handled;
        }
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

    private async Task<Appointment?> RecordAsync(TenantRows tenant, string uid) => (await Store.FindByUidAsync(tenant, uid, CancellationToken.None))?.Record;

    [Fact]
    public async Task The_fan_out_recovers_lost_creates_of_two_tenants_into_their_own_partitions()
    {
        // One uid in both accounts, each its own booking; and one only the default account has.
        _api.UpsertFor(AcmeKey, Booking(SharedUid, Start));
        _api.UpsertFor(BetaKey, Booking(SharedUid, Start.AddDays(1), hostEmail: "dr.beta@praxis-beta.example"));
        _api.Upsert(Booking("d9HwK3mPq6Rt1XvZ5cN8bL", Start.AddDays(2)));

        Assert.Equal(3, await TickAsync()); // default, acme, beta; not nokey
        Assert.Equal(3, await DrainAsync());

        var acme = await RecordAsync(Acme, SharedUid);
        var beta = await RecordAsync(Beta, SharedUid);
        Assert.NotNull(acme);
        Assert.NotNull(beta);
        Assert.Equal((Start, "anna.schmidt@praxis-example.de"), (acme.StartTime, acme.StaffEmail));
        Assert.Equal((Start.AddDays(1), "dr.beta@praxis-beta.example"), (beta.StartTime, beta.StaffEmail));
        Assert.Null(await RecordAsync(TenantRows.Default, SharedUid));
        Assert.NotNull(await RecordAsync(TenantRows.Default, "d9HwK3mPq6Rt1XvZ5cN8bL"));
        Assert.Null(await RecordAsync(Acme, "d9HwK3mPq6Rt1XvZ5cN8bL"));
        // Each key read only its own account, and the other tenants' passes never used another's key.
        Assert.NotEmpty(_api.RequestsBy(AcmeKey));
        Assert.NotEmpty(_api.RequestsBy(BetaKey));

        // Each pass kept its own checkpoint: the default one where it always was, the others in their partitions.
        var table = _app.Get<StorageClients>().Appointments;
        Assert.True((await table.GetEntityIfExistsAsync<TableEntity>(ReconciliationState.PartitionKey, ReconciliationState.CheckpointRow)).HasValue);
        Assert.True((await table.GetEntityIfExistsAsync<TableEntity>("acme", "reconciliation_checkpoint")).HasValue);
        Assert.True((await table.GetEntityIfExistsAsync<TableEntity>("beta", "reconciliation_checkpoint")).HasValue);
        Assert.False((await table.GetEntityIfExistsAsync<TableEntity>("nokey", "reconciliation_checkpoint")).HasValue);

        // A second tick finds nothing left in any tenant.
        await TickAsync();
        Assert.Equal(0, await DrainAsync());
    }

    [Fact]
    public async Task A_refused_key_stops_only_its_tenant_with_error_6002_naming_the_tenant_and_the_others_are_reconciled()
    {
        using var refused = new Measurements(_app, AskProMetrics.CalcomKeyRefused);
        _api.UpsertFor(AcmeKey, Booking(SharedUid, Start));
        _api.UpsertFor(BetaKey, Booking(SharedUid, Start.AddDays(1)));
        _api.Upsert(Booking("d9HwK3mPq6Rt1XvZ5cN8bL", Start.AddDays(2)));
        _api.Refuse(BetaKey);

        await TickAsync();
        await DrainAsync();

        Assert.NotNull(await RecordAsync(Acme, SharedUid));
        Assert.NotNull(await RecordAsync(TenantRows.Default, "d9HwK3mPq6Rt1XvZ5cN8bL"));
        Assert.Null(await RecordAsync(Beta, SharedUid));
        var line = Assert.Single(_app.Logs.Lines, l => l.Contains("[6002]", StringComparison.Ordinal));
        Assert.StartsWith("Error", line, StringComparison.Ordinal);
        Assert.Contains("TenantId=beta", line, StringComparison.Ordinal);
        Assert.Contains("Tenants__beta__Calcom__ApiKey", line, StringComparison.Ordinal);
        Assert.Contains(_app.Logs.Lines, l => l.Contains("[5003]", StringComparison.Ordinal) && l.Contains("TenantId=beta", StringComparison.Ordinal));
        Assert.Equal("beta", Assert.Single(refused.Taken)["TenantId"]);
        Assert.DoesNotContain(_app.Logs.Lines, l => l.Contains(BetaKey, StringComparison.Ordinal) || l.Contains(AcmeKey, StringComparison.Ordinal));
        // Its checkpoint did not move; the others' did.
        var table = _app.Get<StorageClients>().Appointments;
        Assert.False((await table.GetEntityIfExistsAsync<TableEntity>("beta", "reconciliation_checkpoint")).HasValue);
        Assert.True((await table.GetEntityIfExistsAsync<TableEntity>("acme", "reconciliation_checkpoint")).HasValue);
    }

    [Fact]
    public async Task A_booking_outside_the_tenants_scope_is_never_applied_and_is_counted_without_its_uid()
    {
        using var outOfScope = new Measurements(_app, ReconciliationMetrics.OutOfScopeBookings);
        const string stranger = "s5TgY8uJk2Lp7QwE3rZx9v";
        _api.UpsertFor(AcmeKey, Booking(SharedUid, Start), Booking(stranger, Start.AddHours(3), eventType: StrangerEventType));

        var acme = (await _app.Get<ITenantDirectory>().FindAsync("acme", CancellationToken.None))!;
        var pass = await _app.Get<Reconciler>().RunScheduledAsync(acme, CancellationToken.None);
        await DrainAsync();

        Assert.Equal(("completed", "acme", 1, 1, 1), (pass.Outcome, pass.TenantId, pass.OutOfScope, pass.Missing, pass.Enqueued));
        Assert.NotNull(await RecordAsync(Acme, SharedUid));
        Assert.Null(await RecordAsync(Acme, stranger));
        var taken = Assert.Single(outOfScope.Taken);
        Assert.Equal(("acme", "event_type"), (taken["TenantId"], taken["Reason"]));
        var line = Assert.Single(_app.Logs.Lines, l => l.Contains("[8101]", StringComparison.Ordinal));
        Assert.DoesNotContain(stranger, line, StringComparison.Ordinal);
        Assert.DoesNotContain(_app.Logs.Lines, l => l.Contains(stranger, StringComparison.Ordinal));

        // The default tenant has no scope: it owns every booking its key sees, whatever its event type, as before tenants.
        _api.Upsert(Booking("d9HwK3mPq6Rt1XvZ5cN8bL", Start, eventType: StrangerEventType));
        var unscoped = await _app.Get<Reconciler>().RunScheduledAsync(CancellationToken.None);
        Assert.Equal((0, 1), (unscoped.OutOfScope, unscoped.Enqueued));
    }

    [Fact]
    public async Task A_team_scoped_tenant_asks_for_its_team_and_applies_nothing_of_another_team()
    {
        await using var app = TestApp.Create(azurite.ConnectionString, s =>
        {
            s["Appointments:TableName"] = "trt" + Guid.NewGuid().ToString("N")[..12];
            s["Calcom:ApiBaseUrl"] = _api.BaseUrl.ToString();
            s["Tenants:team7:WebhookSecrets:0"] = AcmeSecret;
            s["Tenants:team7:Calcom:ApiKey"] = AcmeKey;
            s["Tenants:team7:TeamId"] = "77";
        });
        _api.SetTeam(AcmeEventType, 77);
        _api.SetTeam(StrangerEventType, 88);
        var other = Booking("s5TgY8uJk2Lp7QwE3rZx9v", Start.AddHours(3), eventType: StrangerEventType);
        // A booking that says it is another team's is not the tenant's even when the list returns it.
        var saysOther = Booking("w3ErT6yUi9OpA2sD5fG8hJ", Start.AddHours(5));
        saysOther["eventType"]!["teamId"] = 88;
        _api.UpsertFor(AcmeKey, Booking(SharedUid, Start), other, saysOther);
        _api.SetTeam(AcmeEventType, 77);

        var tenant = (await app.Get<ITenantDirectory>().FindAsync("team7", CancellationToken.None))!;
        var pass = await app.Get<Reconciler>().RunScheduledAsync(tenant, CancellationToken.None);

        Assert.All(_api.RequestsBy(AcmeKey).Where(r => r.StartsWith("/v2/bookings?", StringComparison.Ordinal)),
            r => Assert.Contains("teamsIds=77", r, StringComparison.Ordinal));
        Assert.Equal(("completed", 1, 1), (pass.Outcome, pass.OutOfScope, pass.Enqueued));
        await app.Get<StorageClients>().Appointments.DeleteAsync();
    }

    [Fact]
    public async Task The_ops_endpoint_runs_the_named_tenants_pass_and_answers_404_unknown_tenant_for_an_unknown_or_disabled_one()
    {
        _api.UpsertFor(AcmeKey, Booking(SharedUid, Start));
        _api.Upsert(Booking("d9HwK3mPq6Rt1XvZ5cN8bL", Start.AddDays(2)));
        var from = Uri.EscapeDataString(_changed.AddMinutes(-5).ToString("O", System.Globalization.CultureInfo.InvariantCulture));

        var (status, body) = await OnDemandAsync($"?tenant=acme&from={from}");
        Assert.Equal(200, status);
        Assert.Contains("\"tenantId\":\"acme\"", body, StringComparison.Ordinal);
        await DrainAsync();
        Assert.NotNull(await RecordAsync(Acme, SharedUid));
        Assert.Null(await RecordAsync(TenantRows.Default, "d9HwK3mPq6Rt1XvZ5cN8bL"));

        // Without ?tenant: the default tenant, as before.
        (status, body) = await OnDemandAsync($"?from={from}");
        Assert.Equal(200, status);
        Assert.Contains("\"tenantId\":\"default\"", body, StringComparison.Ordinal);
        await DrainAsync();
        Assert.NotNull(await RecordAsync(TenantRows.Default, "d9HwK3mPq6Rt1XvZ5cN8bL"));

        foreach (var unknown in new[] { "nobody", "Not-A-Tenant!" })
        {
            (status, body) = await OnDemandAsync($"?tenant={Uri.EscapeDataString(unknown)}&from={from}");
            Assert.Equal(404, status);
            Assert.Equal("error", System.Text.Json.JsonDocument.Parse(body).RootElement.GetProperty("status").GetString());
            Assert.Equal("unknown_tenant", System.Text.Json.JsonDocument.Parse(body).RootElement.GetProperty("error").GetProperty("code").GetString());
        }

        // A tenant without a key: its pass is off (503), as the default tenant's is without Calcom__ApiKey.
        (status, body) = await OnDemandAsync($"?tenant=nokey&from={from}");
        Assert.Equal(503, status);
        Assert.Contains("\"off\"", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_series_look_up_of_a_tenant_reads_with_its_key_and_repairs_in_its_partition()
    {
        const string series = "rS4eR1eS9uIdX7cV2bN5mQ";
        var first = Booking("o1Kq7Wm3Zt8Rb5Yx2Lc9Pa", Start);
        var second = Booking("o2Kq7Wm3Zt8Rb5Yx2Lc9Pb", Start.AddDays(7));
        first["recurringBookingUid"] = series;
        second["recurringBookingUid"] = series;
        _api.UpsertFor(AcmeKey, first, second);

        await _app.Get<SeriesFollowUp>().ScheduleAsync(Acme, "o1Kq7Wm3Zt8Rb5Yx2Lc9Pa", "BOOKING_CANCELLED", "delivery-acme", CancellationToken.None);
        await DrainAsync();

        Assert.NotNull(await RecordAsync(Acme, "o1Kq7Wm3Zt8Rb5Yx2Lc9Pa"));
        Assert.NotNull(await RecordAsync(Acme, "o2Kq7Wm3Zt8Rb5Yx2Lc9Pb"));
        Assert.Null(await RecordAsync(TenantRows.Default, "o2Kq7Wm3Zt8Rb5Yx2Lc9Pb"));
        Assert.NotEmpty(_api.RequestsBy(AcmeKey));
        Assert.Empty(_api.RequestsBy(FakeCalcomApi.ApiKey));
        Assert.True((await _app.Get<StorageClients>().Appointments.GetEntityIfExistsAsync<TableEntity>("acme", "reconciliation_series_" + series)).HasValue);
    }

    [Fact]
    public async Task Each_key_has_its_own_request_budget_on_the_one_client()
    {
        await using var app = TestApp.Create(azurite.ConnectionString, s =>
        {
            s["Calcom:ApiKey"] = FakeCalcomApi.ApiKey;
            s["Calcom:ApiBaseUrl"] = _api.BaseUrl.ToString();
            s["Calcom:RequestsPerMinute"] = "1"; // and a wait queue of one
            s["Tenants:acme:WebhookSecrets:0"] = AcmeSecret;
            s["Tenants:acme:Calcom:ApiKey"] = AcmeKey;
            s["Tenants:beta:WebhookSecrets:0"] = BetaSecret;
            s["Tenants:beta:Calcom:ApiKey"] = BetaKey;
        });
        var api = app.Get<CalcomApiClient>();
        var options = app.Get<Microsoft.Extensions.Options.IOptions<CalcomApiOptions>>().Value;
        var directory = app.Get<ITenantDirectory>();
        CalcomApiClient ClientOf(string id) => api.For(CalcomAccount.Of(directory.FindAsync(id, CancellationToken.None).AsTask().Result!, options)!);
        var acme = ClientOf("acme");
        using var stop = new CancellationTokenSource();

        Assert.Empty(await acme.GetAsync("nothingHere1Xq2Wc9vR1s", CancellationToken.None)); // acme's one permit
        var waiting = acme.GetAsync("nothingHere2Xq2Wc9vR1s", stop.Token); // acme's wait queue, full now
        var refused = await Assert.ThrowsAsync<CalcomApiException>(() => acme.GetAsync("nothingHere3Xq2Wc9vR1s", CancellationToken.None));
        Assert.Equal((429, "local_rate_limit"), (refused.Status, refused.ErrorCode));

        // The other keys' budgets are untouched: their requests go out at once.
        var watch = System.Diagnostics.Stopwatch.StartNew();
        Assert.Empty(await ClientOf("beta").GetAsync("nothingHere4Xq2Wc9vR1s", CancellationToken.None));
        Assert.Empty(await api.GetAsync("nothingHere5Xq2Wc9vR1s", CancellationToken.None));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"the other keys waited {watch.Elapsed}");
        Assert.False(waiting.IsCompleted, "acme's second request did not wait for its own budget");
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<Exception>(() => waiting);
    }

    private async Task<(int Status, string Body)> OnDemandAsync(string query)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "POST";
        context.Request.QueryString = new QueryString(query);
        context.Response.Body = new MemoryStream();
        var result = await _app.Get<ReconcileFunctions>().ReconcileOnDemand(context.Request, CancellationToken.None);
        await result.ExecuteResultAsync(new ActionContext(context, new RouteData(), new ActionDescriptor()));
        return (context.Response.StatusCode, Encoding.UTF8.GetString(((MemoryStream)context.Response.Body).ToArray()));
    }

    /// <summary>Every measurement of one AskPro instrument of this app (not of the tests running beside it), with its tags as text.</summary>
    private sealed class Measurements : IDisposable
    {
        private readonly MeterListener _listener = new();

        public Measurements(TestApp app, string instrument)
        {
            var factory = app.Get<IMeterFactory>();
            _listener.InstrumentPublished = (i, l) =>
            {
                if (i.Meter.Name == AskProMetrics.MeterName && i.Name == instrument && ReferenceEquals(i.Meter.Scope, factory))
                {
                    l.EnableMeasurementEvents(i);
                }
            };
            _listener.SetMeasurementEventCallback<long>((_, _, tags, _) =>
            {
                var taken = new Dictionary<string, string?>(StringComparer.Ordinal);
                foreach (var tag in tags)
                {
                    taken[tag.Key] = tag.Value?.ToString();
                }

                Taken.Enqueue(taken);
            });
            _listener.Start();
        }

        public ConcurrentQueue<Dictionary<string, string?>> Taken { get; } = new();

        public void Dispose() => _listener.Dispose();
    }
}
