using System.Collections.Concurrent;
using System.Text;
using AskPro.Functions.Appointments;
using AskPro.Functions.Logging;
using AskPro.Functions.Queueing;
using AskPro.Functions.Reconciliation;
using AskPro.Functions.Telemetry;
using AskPro.Functions.Tests.Infrastructure;
using AskPro.Functions.Tests.Reconciliation;
using Microsoft.ApplicationInsights;
using Microsoft.ApplicationInsights.Channel;
using Microsoft.ApplicationInsights.DataContracts;
using Microsoft.Extensions.DependencyInjection;
using AiJson = Microsoft.ApplicationInsights.Extensibility.Implementation.JsonSerializer;

namespace AskPro.Functions.Tests.Operating;

/// <summary>
/// What the worker really sends to Application Insights, not only the log lines' properties: the app's composition
/// with the worker SDK on (its logger provider, dependency tracking, the factory's HTTP client logging), only the
/// channel replaced by one that keeps every item. Booking uids are bearer tokens and must not be in any item, in any
/// field (message, dependency name, data and target, operation name, properties), nor the bodies' personal data.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class TelemetryAuditTests(AzuriteFixture azurite)
{
    private const string ApiUid = "tAud7Xq2Wc9vR1sKpL4mZn";
    private const string UnknownApiUid = "tAudNoSuch5Lp2WcN9vR1s";
    private const string ExampleUid = "k3VbP9qWm2xYc7RtL5nD8a";
    // A uid of its own: the emulator is shared, and the example's delivery id may already be accepted or applied there.
    private static readonly string WebhookUid = "aud" + Guid.NewGuid().ToString("N")[..19];

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
    public async Task No_booking_uid_or_personal_data_reaches_any_telemetry_item_the_worker_sends()
    {
        LogAudit.Forbid(ApiUid);
        LogAudit.Forbid(UnknownApiUid);
        LogAudit.Forbid(WebhookUid);
        await using var api = await FakeCalcomApi.StartAsync();
        var start = DateTimeOffset.Parse("2026-03-02T09:00:00Z", System.Globalization.CultureInfo.InvariantCulture);
        api.Upsert(FakeCalcomApi.Booking(ApiUid, start, start.AddDays(-2)));
        var channel = new CapturingChannel();
        var table = "audit" + Guid.NewGuid().ToString("N")[..12];
        await using var app = TestApp.Create(azurite.ConnectionString, s =>
        {
            s[TelemetrySetup.ConnectionStringSetting] = "InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=http://127.0.0.1:9/";
            s["Appointments:TableName"] = table;
            s["Calcom:ApiKey"] = FakeCalcomApi.ApiKey;
            s["Calcom:ApiBaseUrl"] = api.BaseUrl.ToString();
            s["Calcom:RetryDelay"] = "00:00:00.050";
        }, s => s.AddSingleton<ITelemetryChannel>(channel));
        // Resolving the client initialises the SDK's modules: dependency tracking listens from here on.
        var telemetry = app.Get<TelemetryClient>();

        // Cal.com API reads: a booking, and a uid Cal.com does not know (404).
        var client = app.Get<CalcomApiClient>();
        Assert.Single(await client.GetAsync(ApiUid, CancellationToken.None));
        Assert.Empty(await client.GetAsync(UnknownApiUid, CancellationToken.None));

        // Table writes and reads of uid rows: a delivery applied, then looked up by its uid.
        var body = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(Examples.Calcom("booking_created_web.json")).Replace(ExampleUid, WebhookUid, StringComparison.Ordinal));
        var envelope = new WebhookEnvelope(WebhookEnvelope.CurrentVersion, WebhookQueue.DeliveryIdOf(body), DateTimeOffset.UtcNow, "BOOKING_CREATED",
            WebhookUid, null, body.Length, Encoding.UTF8.GetString(body), null);
        Assert.NotNull(await app.Get<CalcomEventProcessor>().ProcessAsync(new BinaryData(envelope.ToUtf8()), "msg-audit", 1, CancellationToken.None));
        Assert.Single(await app.Get<AppointmentTableStore>().LookupByUidAsync(WebhookUid, CancellationToken.None));

        // The operator lookup, with personal fields in the answer.
        var lookup = await OperatorCall.LookupAsync(app, WebhookUid, "include=personal");
        Assert.Equal(200, lookup.StatusCode);
        Assert.Contains("@", lookup.Text, StringComparison.Ordinal);

        // The host records invocations (requests) itself; should a request item with a uid path pass the worker's
        // pipeline (an old GET /api/appointments/{uid} link), it is redacted too.
        telemetry.TrackRequest(new RequestTelemetry("GET /api/appointments/" + WebhookUid, DateTimeOffset.UtcNow, TimeSpan.FromMilliseconds(5), "404", false)
        {
            Url = new Uri("https://app.example/api/appointments/" + WebhookUid + "?include=personal"),
        });
        telemetry.Flush();

        var items = channel.Items.ToArray();
        // The pipeline did see what this test did: the API reads and the table requests as dependencies.
        var dependencies = items.OfType<DependencyTelemetry>().ToList();
        Assert.Contains(dependencies, d => d.Target?.Contains(api.BaseUrl.Authority, StringComparison.Ordinal) == true);
        Assert.Contains(dependencies, d => d.Data?.Contains(table, StringComparison.Ordinal) == true);

        // Every item as the channel would serialise it for ingestion.
        var sent = Encoding.UTF8.GetString(AiJson.Serialize(items, compress: false));
        var forbidden = new HashSet<string>(PersonalData.PersonalValues(body), StringComparer.Ordinal)
        {
            ApiUid, UnknownApiUid, WebhookUid, ExampleUid, FakeCalcomApi.ApiKey, "Max Mustermann", "max.mustermann@example.com",
        };
        foreach (var value in forbidden)
        {
            var at = sent.IndexOf(value, StringComparison.OrdinalIgnoreCase);
            Assert.True(at < 0, $"'{value}' is in the telemetry sent: …{sent[Math.Max(0, at - 300)..Math.Min(sent.Length, at + 100)]}…");
        }

        // And the audit's own list: every example body's uids, names, e-mails and phones, and the test secrets.
        Assert.Empty(LogAudit.ForbiddenIn(sent));

        // Redacted, not dropped: the pseudonyms stand where the uids were, so an operator who has a uid finds its items.
        Assert.Contains(dependencies, d => d.Data?.Contains("/v2/bookings/" + UidPseudonym.Of(ApiUid), StringComparison.Ordinal) == true);
        Assert.Contains(dependencies, d => d.Data?.Contains("uid_" + UidPseudonym.Of(WebhookUid), StringComparison.Ordinal) == true);
        Assert.Contains(items.OfType<TraceTelemetry>(), t => t.Properties.TryGetValue("EventId", out var id) && id == "4000");
        Assert.Contains(items.OfType<TraceTelemetry>(), t => t.Properties.TryGetValue("EventId", out var id) && id == "6001"
            && t.Properties.TryGetValue("UidPseudonym", out var p) && p == UidPseudonym.Of(ApiUid));
        var request = Assert.Single(items.OfType<RequestTelemetry>(), r => r.Name.StartsWith("GET /api/appointments/", StringComparison.Ordinal));
        Assert.Equal("/api/appointments/" + UidPseudonym.Of(WebhookUid), request.Url.AbsolutePath);
    }

    [Theory]
    [InlineData("GET http://127.0.0.1:10002/devstoreaccount1/Appointments(PartitionKey='calcom',RowKey='uid_{0}')", "RowKey='uid_{1}')")]
    [InlineData("https://st.table.core.windows.net/Appointments(PartitionKey=%27calcom%27,RowKey=%27uid_{0}%27)", "RowKey=%27uid_{1}%27)")]
    [InlineData("GET /v2/bookings/{0}", "GET /v2/bookings/{1}")]
    [InlineData("https://api.cal.com/v2/bookings/{0}?x=1", "/v2/bookings/{1}?x=1")]
    [InlineData("POST /api/appointments/{0}?include=personal", "/api/appointments/{1}?include=personal")]
    [InlineData("Booking with uid={0} was not found", "uid={1} was")]
    [InlineData("{{\"bookingUid\": \"{0}\"}}", "\"bookingUid\": \"{1}\"")]
    public void Uids_in_urls_row_keys_and_messages_become_their_pseudonyms(string template, string expected)
    {
        const string uid = ExampleUid;
        var text = string.Format(System.Globalization.CultureInfo.InvariantCulture, template, uid);

        var redacted = UidRedaction.Redact(text)!;

        Assert.DoesNotContain(uid, redacted, StringComparison.Ordinal);
        Assert.Contains(string.Format(System.Globalization.CultureInfo.InvariantCulture, expected, uid, UidPseudonym.Of(uid)), redacted, StringComparison.Ordinal);
        Assert.Equal(redacted, UidRedaction.Redact(redacted)); // a pseudonym is not redacted again
    }

    [Theory]
    [InlineData("GET /devstoreaccount1/Appointments(PartitionKey='calcom',RowKey='apt_0a1b2c3d4e5f60718293')")]
    [InlineData("POST /api/appointments/lookup?include=personal")]
    [InlineData("GET /v2/bookings?afterUpdatedAt=2026-01-20T00%3A00%3A00.000Z&sortUpdatedAt=asc&take=250&skip=0")]
    [InlineData("Delivery 3f2a… BOOKING_CREATED uid~0123456789ab applied")]
    public void Text_without_a_uid_is_left_as_it_is(string text) => Assert.Equal(text, UidRedaction.Redact(text));
}
