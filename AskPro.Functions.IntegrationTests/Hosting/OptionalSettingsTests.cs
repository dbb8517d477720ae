using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Text;
using AskPro.Functions.Queueing;
using AskPro.Functions.Reconciliation;
using AskPro.Functions.Telemetry;
using AskPro.Functions.Tests.Infrastructure;
using AskPro.Functions.Tests.Reconciliation;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Abstractions;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace AskPro.Functions.Tests.Hosting;

/// <summary>
/// An optional setting that cannot be used switches its feature off, loudly, and never stops the service: an
/// unresolved <c>Calcom__ApiKey</c> Key Vault reference (a vault hiccup, a disabled secret) leaves intake and apply
/// running with reconciliation off; a key Cal.com refuses is an error line the alert fires on, and a metric.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class OptionalSettingsTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private const string Unresolved = "@Microsoft.KeyVault(VaultName=kv-askpro;SecretName=calcom-api-key)";
    private FakeCalcomApi? _api;

    public async Task InitializeAsync() => _api = await FakeCalcomApi.StartAsync();

    public async Task DisposeAsync() => await _api!.DisposeAsync();

    [Fact]
    public async Task An_unresolved_api_key_reference_starts_the_app_which_serves_webhooks_with_reconciliation_off()
    {
        await using var app = TestApp.Create(azurite.ConnectionString, s =>
        {
            s["Calcom:ApiKey"] = Unresolved;
            s["Calcom:ApiBaseUrl"] = _api!.BaseUrl.ToString();
            s["Appointments:TableName"] = "opt" + Guid.NewGuid().ToString("N")[..12];
        });
        using var metrics = new Measurements(app, AskProMetrics.FeatureOff);

        // Start-up: options validate, then the hosted services start (the metric bridge's place is taken by the listener).
        app.Get<IStartupValidator>().Validate();
        foreach (var service in app.Services.GetServices<IHostedService>())
        {
            await service.StartAsync(CancellationToken.None);
        }

        Assert.False(app.Get<IOptions<CalcomApiOptions>>().Value.IsEnabled);
        var line = Assert.Single(app.Logs.Lines, l => l.Contains("[6000]", StringComparison.Ordinal));
        Assert.StartsWith("Error", line, StringComparison.Ordinal);
        Assert.Contains("Calcom__ApiKey is an unresolved Key Vault reference", line, StringComparison.Ordinal);
        Assert.DoesNotContain("kv-askpro", line, StringComparison.Ordinal);
        var measured = Assert.Single(metrics.Taken);
        Assert.Equal(("reconciliation", "unresolved_key_vault_reference"), (measured["Feature"], measured["Reason"]));

        // Webhooks are accepted and applied.
        // A uid of its own: the emulator is shared, and the example's own delivery may be accepted there already.
        var uid = "opt" + Guid.NewGuid().ToString("N")[..19];
        var body = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(Examples.Calcom("booking_created_web.json")).Replace("k3VbP9qWm2xYc7RtL5nD8a", uid, StringComparison.Ordinal));
        var accepted = await WebhookCall.PostSignedAsync(app, body);
        Assert.Equal(202, accepted.StatusCode);
        Assert.Equal("accepted", accepted.Status);
        var envelope = new WebhookEnvelope(WebhookEnvelope.CurrentVersion, WebhookQueue.DeliveryIdOf(body), DateTimeOffset.UtcNow, "BOOKING_CREATED",
            uid, null, body.Length, Encoding.UTF8.GetString(body), null);
        var applied = await app.Get<CalcomEventProcessor>().ProcessAsync(new BinaryData(envelope.ToUtf8()), "msg-optional", 1, CancellationToken.None);
        Assert.NotNull(applied);

        // Reconciliation reports itself off, on the timer's path and on demand (503), and never calls the API.
        Assert.Equal("off", (await app.Get<Reconciler>().RunScheduledAsync(CancellationToken.None)).Outcome);
        var context = new DefaultHttpContext();
        context.Request.Method = "POST";
        context.Request.QueryString = new QueryString("?from=" + Uri.EscapeDataString(DateTimeOffset.UtcNow.AddDays(-1).ToString("O", System.Globalization.CultureInfo.InvariantCulture)));
        context.Response.Body = new MemoryStream();
        var result = await app.Get<ReconcileFunctions>().ReconcileOnDemand(context.Request, CancellationToken.None);
        await result.ExecuteResultAsync(new ActionContext(context, new RouteData(), new ActionDescriptor()));
        Assert.Equal(503, context.Response.StatusCode);
        Assert.Contains("\"off\"", Encoding.UTF8.GetString(((MemoryStream)context.Response.Body).ToArray()), StringComparison.Ordinal);
        Assert.Empty(_api!.Requests);
    }

    [Fact]
    public async Task Without_any_api_key_reconciliation_is_off_without_an_error()
    {
        await using var app = TestApp.Create(azurite.ConnectionString, s => s.Remove("Calcom:ApiKey"));
        using var metrics = new Measurements(app, AskProMetrics.FeatureOff);

        app.Get<IStartupValidator>().Validate();
        Assert.False(app.Get<CalcomApiKeyCheck>().Report());

        Assert.DoesNotContain(app.Logs.Lines, l => l.Contains("[6000]", StringComparison.Ordinal));
        Assert.Empty(metrics.Taken);
    }

    [Theory]
    [InlineData(401)]
    [InlineData(403)]
    public async Task A_refused_api_key_is_an_error_line_for_the_alert_and_a_metric(int status)
    {
        await using var app = TestApp.Create(azurite.ConnectionString, s =>
        {
            s["Calcom:ApiKey"] = FakeCalcomApi.ApiKey;
            s["Calcom:ApiBaseUrl"] = _api!.BaseUrl.ToString();
        });
        using var metrics = new Measurements(app, AskProMetrics.CalcomKeyRefused);
        _api!.Inject(new FakeCalcomApi.Fault(status, Code: status == 401 ? "UnauthorizedException" : "ForbiddenException"));

        var failure = await Assert.ThrowsAsync<CalcomApiException>(() => app.Get<CalcomApiClient>().GetAsync("refusedUid7Xq2Wc9vR1sK", CancellationToken.None));

        Assert.True(failure.IsAuthFailure);
        var line = Assert.Single(app.Logs.Lines, l => l.Contains("[6002]", StringComparison.Ordinal));
        Assert.StartsWith("Error", line, StringComparison.Ordinal);
        Assert.Contains($"answered {status}", line, StringComparison.Ordinal);
        Assert.Contains("/v2/bookings/{uid}", line, StringComparison.Ordinal);
        Assert.DoesNotContain("refusedUid7Xq2Wc9vR1sK", line, StringComparison.Ordinal);
        Assert.DoesNotContain(FakeCalcomApi.ApiKey, line, StringComparison.Ordinal);
        Assert.Equal(status.ToString(System.Globalization.CultureInfo.InvariantCulture), Assert.Single(metrics.Taken)["Status"]);
    }

    [Fact]
    public void The_deployed_alert_fires_on_the_refused_key_line_and_the_unusable_key_line()
    {
        var rule = Assert.Single(Infra.InfraSnapshot.Load().Resources("Microsoft.Insights/scheduledQueryRules"),
            r => r.GetProperty("name").GetString()!.StartsWith("alert-askpro-calcom-key-", StringComparison.Ordinal));
        var query = rule.GetProperty("properties").GetProperty("criteria").GetProperty("allOf")[0].GetProperty("query").GetString()!;

        // The ids the code logs: 6002 (CalcomApiHttpLogger, asserted above) and 6000 (CalcomApiKeyCheck).
        Assert.StartsWith("traces | where tostring(customDimensions.EventId) in (\"6000\", \"6002\") |", query, StringComparison.Ordinal);
        // One alert per tenant whose key is refused: split by the TenantId the lines carry (6000 is the default tenant's).
        Assert.Contains("extend TenantId = iff(isempty(TenantId), \"default\", TenantId)", query, StringComparison.Ordinal);
        var dimension = Assert.Single(rule.GetProperty("properties").GetProperty("criteria").GetProperty("allOf")[0].GetProperty("dimensions").EnumerateArray());
        Assert.Equal("TenantId", dimension.GetProperty("name").GetString());
        Assert.True(rule.GetProperty("properties").GetProperty("enabled").GetBoolean());
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
