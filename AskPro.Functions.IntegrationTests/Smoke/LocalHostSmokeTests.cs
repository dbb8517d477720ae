using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using AskPro.Functions.Tests.Infrastructure;
using AskPro.Functions.Tests.Queueing;
using AskPro.Functions.Webhooks;
using AskPro.LocalHost;
using AskPro.Send;
using Azure.Data.Tables;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Xunit.Abstractions;
using SendExamples = AskPro.Send.WebhookExamples;

namespace AskPro.Functions.Tests.Smoke;

/// <summary>
/// The app as a user runs it without Core Tools: the local host (the same <see cref="LocalFunctionsHost.Build"/> that
/// tools/run-local.sh starts, reading a local.settings.json and the top-level host.json) on a free loopback port over
/// its own Azurite, fed by the sender's code (what tools/send.sh runs) over a real socket; the WebJobs queue listener
/// applies the deliveries and the test reads the rows from the table.
/// </summary>
[Collection(RunsAloneCollection.Name)]
public sealed class LocalHostSmokeTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Signed_examples_and_shuffled_fresh_stories_over_HTTP_end_as_the_right_records()
    {
        const int seed = 20261201;
        output.WriteLine($"seed {seed}");
        await using var host = await Host.StartAsync();
        var random = new Random(seed);
        var sender = host.Sender();

        // Every example as it is, byte for byte: booking triggers are accepted (202), PING answered (200).
        foreach (var name in host.Examples.Names)
        {
            var delivery = await sender.SendAsync(host.Examples.Load(name), CancellationToken.None);
            Assert.True(delivery.StatusCode == (name == "ping" ? 200 : 202), $"{name}: {delivery.StatusCode} {delivery.Body}");
        }

        // Three stories as fresh bookings, out of order with duplicates.
        var reschedule = new FreshBooking(random, TimeProvider.System);
        var rescheduleBodies = reschedule.Rewrite(host.Examples.Story("reschedule"));
        var web = new FreshBooking(random, TimeProvider.System);
        var webBodies = web.Rewrite(host.Examples.Story("web"));
        var rejected = new FreshBooking(random, TimeProvider.System);
        var rejectedBodies = rejected.Rewrite(host.Examples.Story("request-reject"));
        foreach (var webhook in WebhookSender.ShuffledWithDuplicates([.. rescheduleBodies, .. webBodies, .. rejectedBodies], random))
        {
            var delivery = await sender.SendAsync(webhook, CancellationToken.None);
            Assert.True(delivery.StatusCode == 202, $"{webhook.Name}: {delivery.StatusCode} {delivery.Body}");
        }

        // The examples as they are (their uids are the files').
        await host.WaitForAsync("Tz8cYw3RbN6kLq1PmV5xHd", r => Is(r, "Status", "cancelled") && Is(r, "CalcomUids", "Qm7ZtXo4Lp2WcN9vR1sK6e,Tz8cYw3RbN6kLq1PmV5xHd"));
        await host.WaitForAsync("k3VbP9qWm2xYc7RtL5nD8a", r => Is(r, "Status", "confirmed") && r.GetBoolean("MeetingEnded") == true && r.GetBoolean("CustomerNoShow") == true);
        await host.WaitForAsync("Hb2NwQ8kZr5TyL1mXc4Vp9", r => Is(r, "Status", "rejected"));
        await host.WaitForAsync("seedUidRequest001", r => Is(r, "Status", "confirmed"));
        await host.WaitForAsync("seedUidExternal02", r => Is(r, "Status", "cancelled") && r.GetString("CalcomUids")!.Contains("seedUidExternal01", StringComparison.Ordinal));

        // The fresh stories: new uids, and the times the rewritten bodies carry.
        var original = reschedule.Uids["Qm7ZtXo4Lp2WcN9vR1sK6e"];
        var moved = reschedule.Uids["Tz8cYw3RbN6kLq1PmV5xHd"];
        var rescheduled = Payload(rescheduleBodies.Single(w => w.Name == "booking_rescheduled"));
        var created = Payload(rescheduleBodies.Single(w => w.Name == "booking_created_api_metadata"));
        var record = await host.WaitForAsync(moved, r => Is(r, "Status", "cancelled") && Is(r, "CalcomUids", $"{original},{moved}"));
        Assert.Equal(Time(rescheduled, "startTime"), record.GetDateTimeOffset("StartTime"));
        Assert.Equal(Time(created, "startTime"), record.GetDateTimeOffset("PreviousStartTime"));
        Assert.NotEqual(Time(JsonNode.Parse(host.Examples.Load("booking_rescheduled").Body)!["payload"]!, "startTime"), record.GetDateTimeOffset("StartTime"));
        Assert.Equal(created["metadata"]!["askpro_appointment_id"]!.GetValue<string>(), record.GetString("AskProAppointmentId"));
        Assert.Equal(record.GetString("AppointmentId"), (await host.WaitForAsync(original, _ => true)).GetString("AppointmentId"));
        // The operator lookup answers over the same socket, by either uid of the chain.
        foreach (var uid in new[] { original, moved })
        {
            using var lookup = await host.PostAsync(AskPro.Functions.Operating.AppointmentLookupFunction.Route, $"{{\"uid\":\"{uid}\"}}");
            Assert.Equal(System.Net.HttpStatusCode.OK, lookup.StatusCode);
            var body = JsonNode.Parse(await lookup.Content.ReadAsStringAsync())!;
            Assert.Equal(record.GetString("AppointmentId"), (string?)body["appointments"]![0]!["appointmentId"]);
        }

        var booked = web.Uids["k3VbP9qWm2xYc7RtL5nD8a"];
        record = await host.WaitForAsync(booked, r => Is(r, "Status", "confirmed") && r.GetBoolean("MeetingEnded") == true && r.GetBoolean("CustomerNoShow") == true);
        Assert.Equal(Time(Payload(webBodies[0]), "startTime"), record.GetDateTimeOffset("StartTime"));
        await host.WaitForAsync(rejected.Uids["Hb2NwQ8kZr5TyL1mXc4Vp9"], r => Is(r, "Status", "rejected"));
    }

    [Fact]
    public async Task Acknowledgement_latency_over_real_HTTP()
    {
        const int deliveries = 300, senders = 4;
        // A host of its own: the backlog these deliveries leave on the queue is no other test's business.
        await using var host = await Host.StartAsync();
        var random = new Random(7);
        var template = host.Examples.Story("web").Take(1).ToList();
        var bodies = Enumerable.Range(0, deliveries).Select(_ => new FreshBooking(random, TimeProvider.System).Rewrite(template)[0]).ToArray();
        var sender = host.Sender();
        await sender.SendAsync(bodies[0], CancellationToken.None); // warm: connection, JIT, queue creation

        var latencies = new double[deliveries - 1];
        var next = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, senders).Select(async _ =>
        {
            for (var i = Interlocked.Increment(ref next); i < deliveries; i = Interlocked.Increment(ref next))
            {
                var delivery = await sender.SendAsync(bodies[i], CancellationToken.None);
                Assert.True(delivery.StatusCode == 202, $"{delivery.StatusCode} {delivery.Body}");
                latencies[i - 1] = delivery.Elapsed.TotalMilliseconds;
            }
        }));
        clock.Stop();

        Array.Sort(latencies);
        double P(double q) => latencies[(int)Math.Ceiling(q * latencies.Length) - 1];
        // A figure for the README, not an assertion: it depends on the machine and what else runs on it.
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{latencies.Length} deliveries, {senders} concurrent senders, {latencies.Length / clock.Elapsed.TotalSeconds:F0}/s: acknowledgement p50 {P(0.50):F1} ms, p95 {P(0.95):F1} ms, p99 {P(0.99):F1} ms"));
    }

    [Fact]
    public async Task An_unexpected_exception_on_the_HTTP_path_is_the_products_uniform_500()
    {
        // The function reads its options per delivery; options that throw stand for any unexpected failure.
        await using var host = await Host.StartAsync(s => s.AddSingleton<IOptions<WebhookOptions>>(new ThrowingOptions()));

        var delivery = await host.Sender().SendAsync(host.Examples.Load("booking_created_web"), CancellationToken.None);

        Assert.Equal(500, delivery.StatusCode);
        using var body = JsonDocument.Parse(delivery.Body);
        Assert.Equal("error", body.RootElement.GetProperty("status").GetString());
        Assert.Equal(ErrorCodes.InternalError, body.RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.DoesNotContain(ThrowingOptions.Message, delivery.Body, StringComparison.Ordinal);
    }

    private sealed class ThrowingOptions : IOptions<WebhookOptions>
    {
        public const string Message = "secret detail that must not leave the process";

        public WebhookOptions Value => throw new InvalidOperationException(Message);
    }

    private static bool Is(TableEntity row, string column, string expected) => row.GetString(column) == expected;

    private static JsonNode Payload(Webhook webhook) => JsonNode.Parse(webhook.Body)!["payload"]!;

    private static DateTimeOffset Time(JsonNode node, string name) => DateTimeOffset.Parse(node[name]!.GetValue<string>(), CultureInfo.InvariantCulture);

    /// <summary>Azurite, a local.settings.json for it, and the local host started on it.</summary>
    private sealed class Host : IAsyncDisposable
    {
        private const string Secret = "smoke-test-secret-5d1f9b3e7a2c4e6f8a0b";
        private readonly HttpClient _http = new(new SocketsHttpHandler { AllowAutoRedirect = false }) { Timeout = TimeSpan.FromSeconds(30) };
        private Azurite? _azurite;
        private WebApplication? _app;
        private string? _directory;
        private TableClient? _table;
        private Uri? _url;

        public SendExamples Examples { get; } = new(Infrastructure.Examples.CalcomDirectory, Infrastructure.Examples.SeedDirectory);

        public WebhookSender Sender() => new(_http, _url!, Secret);

        /// <summary>POST of a JSON body to another function route of the host (under the same route prefix).</summary>
        public Task<HttpResponseMessage> PostAsync(string route, string json) =>
            _http.PostAsync(new Uri(_url!, LocalFunctionsHost.RoutePath(_app!.Configuration, route)), new StringContent(json, System.Text.Encoding.UTF8, "application/json"));

        public static async Task<Host> StartAsync(Action<IServiceCollection>? replace = null)
        {
            var host = new Host();
            try
            {
                await host.InitializeAsync(replace);
                return host;
            }
            catch
            {
                await host.DisposeAsync();
                throw;
            }
        }

        private async Task InitializeAsync(Action<IServiceCollection>? replace)
        {
            // Its own emulator: the listener takes every message of the webhook queue.
            _azurite = await Azurite.StartAsync(allowExternal: false);
            _directory = Directory.CreateTempSubdirectory("askpro-smoke-").FullName;
            var settings = Path.Combine(_directory, "local.settings.json");
            await File.WriteAllTextAsync(settings, JsonSerializer.Serialize(new
            {
                IsEncrypted = false,
                Values = new Dictionary<string, string>
                {
                    ["AzureWebJobsStorage"] = _azurite.ConnectionString,
                    ["CalcomWebhook__Secrets__0"] = Secret,
                    ["Appointments__TableName"] = "SmokeAppointments",
                    ["ReconciliationSchedule"] = "0 */10 * * * *",
                },
            }));

            // Warnings only: the host's per-delivery lines would flood the test output.
            _app = LocalFunctionsHost.Build(["--settings", settings, "--hostjson", QueueListenerHarness.HostJsonPath, "--urls", "http://127.0.0.1:0", "--Logging:LogLevel:Default", "Warning"], replace);
            await _app.StartAsync();
            var address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
            _url = new Uri(address + LocalFunctionsHost.WebhookPath(_app.Configuration));
            Assert.Equal("/api/webhooks/calcom", _url.AbsolutePath);
            Assert.Equal("SmokeAppointments", LocalFunctionsHost.TableName(_app.Services));
            _table = new TableClient(_azurite.ConnectionString, "SmokeAppointments");
        }

        /// <summary>The <c>uid_</c> row of <paramref name="uid"/> once it satisfies <paramref name="done"/> (the listener works asynchronously).</summary>
        public async Task<TableEntity> WaitForAsync(string uid, Func<TableEntity, bool> done)
        {
            TableEntity? row = null;
            var deadline = DateTime.UtcNow + Deadline;
            while (true)
            {
                try
                {
                    var response = await _table!.GetEntityIfExistsAsync<TableEntity>("calcom", "uid_" + uid);
                    row = response.HasValue ? response.Value : null;
                }
                catch (Azure.RequestFailedException e) when (e.Status == 404)
                {
                    row = null; // the table does not exist until the first event is applied
                }

                if (row is not null && done(row))
                {
                    return row;
                }

                if (DateTime.UtcNow > deadline)
                {
                    Assert.Fail($"after {Deadline.TotalSeconds:F0} s the record of a uid is {(row is null ? "missing" : $"status {row.GetString("Status")}, uids {row.GetString("CalcomUids")}")}");
                }

                await Task.Delay(100);
            }
        }

        public async ValueTask DisposeAsync()
        {
            _http.Dispose();
            if (_app is not null)
            {
                await _app.StopAsync();
                await _app.DisposeAsync();
            }

            if (_azurite is not null)
            {
                await _azurite.DisposeAsync();
            }

            if (_directory is not null)
            {
                Directory.Delete(_directory, recursive: true);
            }
        }
    }
}
