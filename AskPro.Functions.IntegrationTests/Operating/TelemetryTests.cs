using System.Collections.Concurrent;
using AskPro.Functions.Queueing;
using AskPro.Functions.Telemetry;
using AskPro.Functions.Tests.Infrastructure;
using Microsoft.ApplicationInsights;
using Microsoft.ApplicationInsights.Channel;
using Microsoft.ApplicationInsights.DataContracts;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace AskPro.Functions.Tests.Operating;

/// <summary>
/// The configured telemetry pipeline (the app's composition with APPLICATIONINSIGHTS_CONNECTION_STRING set, the worker
/// SDK's own logger provider and metric aggregation) emits the documented dimensions for a delivery, an apply and a
/// dead letter. Only the channel is replaced, by one that keeps what would be sent.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class TelemetryTests(AzuriteFixture azurite)
{
    private sealed class CapturingChannel : ITelemetryChannel
    {
        public ConcurrentQueue<ITelemetry> Items { get; } = new();
        public bool? DeveloperMode { get; set; }
        public string EndpointAddress { get; set; } = "http://127.0.0.1:9/";
        public void Send(ITelemetry item) => Items.Enqueue(item);
        public void Flush() { }
        public void Dispose() { }
    }

    [Fact]
    public async Task A_delivery_an_apply_and_a_dead_letter_carry_their_fields_as_custom_dimensions()
    {
        var channel = new CapturingChannel();
        await using var app = TestApp.Create(azurite.ConnectionString, s =>
        {
            s[TelemetrySetup.ConnectionStringSetting] = "InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=http://127.0.0.1:9/";
            s["Appointments:TableName"] = "tel" + Guid.NewGuid().ToString("N")[..12];
        }, s => s.AddSingleton<ITelemetryChannel>(channel));
        var bridge = app.Services.GetServices<IHostedService>().OfType<ApplicationInsightsMetricBridge>().Single();
        await bridge.StartAsync(CancellationToken.None);

        var body = Examples.Calcom("booking_created_web.json");
        var accepted = await WebhookCall.PostSignedAsync(app, body);
        Assert.Equal(202, accepted.StatusCode);
        var deliveryId = WebhookQueue.DeliveryIdOf(body);
        // The envelope the HTTP function queued (the shared emulator's queue may hold other tests' messages).
        var envelope = new WebhookEnvelope(WebhookEnvelope.CurrentVersion, deliveryId, DateTimeOffset.UtcNow.AddSeconds(-3), "BOOKING_CREATED",
            "k3VbP9qWm2xYc7RtL5nD8a", null, body.Length, System.Text.Encoding.UTF8.GetString(body), null);
        var applied = await app.Get<CalcomEventProcessor>().ProcessAsync(new BinaryData(envelope.ToUtf8()), "msg-apply", 2, CancellationToken.None);
        Assert.NotNull(applied);
        await app.Get<CalcomEventProcessor>().ProcessAsync(BinaryData.FromString("not an envelope"), "msg-dead", 1, CancellationToken.None);
        app.Get<TelemetryClient>().Flush();

        var traces = channel.Items.OfType<TraceTelemetry>().ToList();
        var delivery = Assert.Single(traces, t => Dim(t.Properties, "DeliveryId") == deliveryId && t.Properties.ContainsKey("StatusCode"));
        Assert.Equal(SeverityLevel.Information, delivery.SeverityLevel); // the SDK's default Warning filter is gone
        AssertDimensions(delivery, new() { ["EventId"] = "1000", ["TriggerEvent"] = "BOOKING_CREATED", ["Outcome"] = "accepted", ["StatusCode"] = "202", ["UidPseudonym"] = null, ["DurationMs"] = null });

        var apply = Assert.Single(traces, t => Dim(t.Properties, "MessageId") == "msg-apply" && t.Properties.ContainsKey("AppointmentId"));
        AssertDimensions(apply, new() { ["EventId"] = "2000", ["DeliveryId"] = deliveryId, ["TriggerEvent"] = "BOOKING_CREATED", ["AppointmentId"] = applied.AppointmentId, ["Outcome"] = "Created",
            ["HistoryOutcome"] = "applied", ["DequeueCount"] = "2", ["DurationMs"] = null, ["QueueAgeSeconds"] = null, ["Status"] = "confirmed" });
        Assert.InRange(double.Parse(apply.Properties["QueueAgeSeconds"], System.Globalization.CultureInfo.InvariantCulture), 2.5, 60);

        var dead = Assert.Single(traces, t => Dim(t.Properties, "MessageId") == "msg-dead" && t.Properties.ContainsKey("ReasonKind"));
        Assert.Equal(SeverityLevel.Error, dead.SeverityLevel);
        AssertDimensions(dead, new() { ["EventId"] = "2001", ["ReasonKind"] = DeadLetterKinds.NotAnEnvelope, ["DequeueCount"] = "1", ["Reason"] = null });

        var metrics = channel.Items.OfType<MetricTelemetry>().ToList();
        Assert.Contains(metrics, m => m.Name == AskProMetrics.Deliveries && Dim(m.Properties, "Outcome") == "applied" && Dim(m.Properties, "TenantId") == "default" && m.Sum >= 1);
        Assert.Contains(metrics, m => m.Name == AskProMetrics.ApplyDuration && m.Count >= 1);
        Assert.Contains(metrics, m => m.Name == AskProMetrics.QueueAge && m.Max >= 2.5);
        Assert.Contains(metrics, m => m.Name == AskProMetrics.DeadLetters && Dim(m.Properties, "ReasonKind") == DeadLetterKinds.NotAnEnvelope && Dim(m.Properties, "TenantId") == "default");

        // Personal data and booking uids stay out of every field of every item, as it would be sent.
        var sent = System.Text.Encoding.UTF8.GetString(Microsoft.ApplicationInsights.Extensibility.Implementation.JsonSerializer.Serialize(channel.Items.ToArray(), compress: false));
        Assert.DoesNotContain("k3VbP9qWm2xYc7RtL5nD8a", sent, StringComparison.Ordinal);
        Assert.DoesNotContain("@example.com", sent, StringComparison.Ordinal);
        Assert.Empty(LogAudit.ForbiddenIn(sent));
        await bridge.StopAsync(CancellationToken.None);
    }

    private static string? Dim(IDictionary<string, string> properties, string key) => properties.TryGetValue(key, out var value) ? value : null;

    private static void AssertDimensions(TraceTelemetry trace, Dictionary<string, string?> expected)
    {
        foreach (var (key, value) in expected)
        {
            Assert.True(trace.Properties.TryGetValue(key, out var actual), $"no dimension {key} on \"{trace.Message}\": {string.Join(", ", trace.Properties.Keys)}");
            if (value is not null)
            {
                Assert.Equal(value, actual);
            }
        }
    }
}
