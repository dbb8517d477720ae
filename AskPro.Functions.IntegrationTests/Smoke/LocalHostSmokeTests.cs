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
public sealed partial class LocalHostSmokeTests(ITestOutputHelper output)
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
        // A figure for benchmarks/README.md#acknowledgement-latency-over-real-http, not an assertion: it depends on the machine and what else runs on it.
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{latencies.Length} deliveries, {senders} concurrent senders, {latencies.Length / clock.Elapsed.TotalSeconds:F0}/s: acknowledgement p50 {P(0.50):F1} ms, p95 {P(0.95):F1} ms, p99 {P(0.99):F1} ms"));
    }

    [Fact]
    public async Task The_console_shows_the_functions_the_URL_and_one_line_per_delivery_and_applied_event_without_uids_or_personal_data()
    {
        var console = new StringWriter();
        await using var host = await Host.StartAsync(console: console);
        var web = new FreshBooking(new Random(11), TimeProvider.System);
        var bodies = web.Rewrite(host.Examples.Story("web"));
        var sender = host.Sender();

        var deliveries = new List<(Webhook Webhook, string DeliveryId)>();
        foreach (var webhook in bodies.Append(bodies[0])) // the last is an exact re-send
        {
            var delivery = await sender.SendAsync(webhook, CancellationToken.None);
            Assert.True(delivery.StatusCode == 202, $"{webhook.Name}: {delivery.StatusCode} {delivery.Body}");
            deliveries.Add((webhook, JsonNode.Parse(delivery.Body)!["delivery_id"]!.GetValue<string>()));
        }

        var record = await host.WaitForAsync(web.Uids["k3VbP9qWm2xYc7RtL5nD8a"], r => r.GetBoolean("MeetingEnded") == true && r.GetBoolean("CustomerNoShow") == true);
        var lines = await host.WaitForLinesAsync(console, IsApplied, bodies.Count);
        var text = string.Join('\n', lines);
        output.WriteLine(text);

        // Once, at the start: every function as the Functions host lists them, the URL, and the line CI waits for.
        Assert.Contains("Functions:", lines);
        Assert.Contains(lines, l => l.Trim() == $"CalcomWebhook: [POST] {host.WebhookUrl}");
        Assert.Contains(lines, l => l.Trim() == $"ApplyCalcomEvent: queueTrigger ({AskPro.Functions.Storage.StorageNames.WebhookQueue})");
        Assert.Single(lines, l => l.Contains($"POST {host.WebhookUrl}", StringComparison.Ordinal) && l.EndsWith("Ctrl-C stops it.", StringComparison.Ordinal));

        // One line per delivery (trigger, status code, delivery id), one per applied event (naming the appointment).
        var deliveryLines = lines.Where(IsDelivery).ToList();
        Assert.Equal(deliveries.Count, deliveryLines.Count);
        foreach (var (webhook, deliveryId) in deliveries)
        {
            var trigger = JsonNode.Parse(webhook.Body)!["triggerEvent"]!.GetValue<string>();
            Assert.Contains(deliveryLines, l => l.Contains($"delivery {trigger} → 202", StringComparison.Ordinal) && l.EndsWith($"delivery {deliveryId[..12]}", StringComparison.Ordinal));
        }

        // Every distinct body is applied once (a re-send, if it is queued at all, adds a duplicate's line).
        var appliedLines = lines.Where(IsApplied).ToList();
        Assert.InRange(appliedLines.Count, bodies.Count, deliveries.Count);
        Assert.All(deliveries, d => Assert.Contains(appliedLines, l => l.EndsWith($"delivery {d.DeliveryId[..12]}", StringComparison.Ordinal)));
        Assert.All(appliedLines, l => Assert.Contains(record.GetString("AppointmentId")!, l, StringComparison.Ordinal));

        // Nothing for --verbose only: no option dumps, no per-request lines, no hosting chatter.
        Assert.DoesNotContain("QueuesOptions", text, StringComparison.Ordinal);
        Assert.DoesNotContain("Request starting", text, StringComparison.Ordinal);
        Assert.DoesNotContain("Now listening on", text, StringComparison.Ordinal);

        // No uid (nor its pseudonym), name, e-mail or phone number of any body.
        var secrets = bodies.SelectMany(b => PersonalStrings(JsonNode.Parse(b.Body)!)).Distinct().ToList();
        Assert.NotEmpty(secrets);
        Assert.All(secrets, s => Assert.DoesNotContain(s, text, StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public void A_warning_on_the_console_shows_the_exception_type_not_its_message()
    {
        var line = PersonConsole.Line(DateTimeOffset.UnixEpoch, "AskPro.Functions.Queueing.CalcomEventProcessor", Microsoft.Extensions.Logging.LogLevel.Warning,
            new Microsoft.Extensions.Logging.EventId(2003, "Deferred"), [], "Delivery abc deferred", new InvalidOperationException("detail with someone@example.com"));

        Assert.Contains("CalcomEventProcessor[2003]: Delivery abc deferred (InvalidOperationException", line, StringComparison.Ordinal);
        Assert.DoesNotContain("someone@example.com", line, StringComparison.Ordinal);
        Assert.Null(PersonConsole.Line(DateTimeOffset.UnixEpoch, "Microsoft.AspNetCore.Hosting.Diagnostics", Microsoft.Extensions.Logging.LogLevel.Information,
            new Microsoft.Extensions.Logging.EventId(1, "RequestStarting"), [], "Request starting HTTP/1.1 POST", null));
    }

    private static bool IsDelivery(string line) => ConsoleLine().Match(line) is { Success: true } m && m.Groups["kind"].Value == "delivery";

    private static bool IsApplied(string line) => ConsoleLine().Match(line) is { Success: true } m && m.Groups["kind"].Value == "applied";

    [System.Text.RegularExpressions.GeneratedRegex(@"^\d\d:\d\d:\d\d (?<kind>delivery|applied) ")]
    private static partial System.Text.RegularExpressions.Regex ConsoleLine();

    /// <summary>Uids (and their log pseudonyms), names, e-mails and phone numbers anywhere in a body.</summary>
    private static IEnumerable<string> PersonalStrings(JsonNode node)
    {
        string[] personal = ["uid", "bookingUid", "rescheduleUid", "name", "email", "phoneNumber", "attendeePhoneNumber"];
        switch (node)
        {
            case JsonObject o:
                foreach (var (key, value) in o)
                {
                    if (value is JsonValue v && v.TryGetValue<string>(out var s) && s.Length >= 5 && personal.Contains(key))
                    {
                        yield return s;
                        if (key.EndsWith("uid", StringComparison.OrdinalIgnoreCase) || key.EndsWith("Uid", StringComparison.Ordinal))
                        {
                            yield return AskPro.Functions.Logging.UidPseudonym.Of(s);
                        }
                    }
                    else if (value is not null)
                    {
                        foreach (var inner in PersonalStrings(value))
                        {
                            yield return inner;
                        }
                    }
                }

                break;
            case JsonArray a:
                foreach (var item in a.OfType<JsonNode>().SelectMany(PersonalStrings))
                {
                    yield return item;
                }

                break;
        }
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

        /// <summary>The webhook's URL as the host listens on it.</summary>
        public Uri WebhookUrl => _url!;

        /// <summary>The console's lines once <paramref name="count"/> of them satisfy <paramref name="match"/> (the listener works asynchronously).</summary>
        public async Task<List<string>> WaitForLinesAsync(StringWriter console, Func<string, bool> match, int count)
        {
            var deadline = DateTime.UtcNow + Deadline;
            while (true)
            {
                string text;
                lock (console)
                {
                    text = console.ToString();
                }

                var lines = text.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
                if (lines.Count(match) >= count)
                {
                    await Task.Delay(500); // a line too many would show now
                    lock (console)
                    {
                        return [.. console.ToString().Split('\n').Select(l => l.TrimEnd('\r'))];
                    }
                }

                if (DateTime.UtcNow > deadline)
                {
                    Assert.Fail($"after {Deadline.TotalSeconds:F0} s the console has {lines.Count(match)} of {count} lines:\n{text}");
                }

                await Task.Delay(100);
            }
        }

        /// <summary>POST of a JSON body to another function route of the host (under the same route prefix).</summary>
        public Task<HttpResponseMessage> PostAsync(string route, string json) =>
            _http.PostAsync(new Uri(_url!, LocalFunctionsHost.RoutePath(_app!.Configuration, route)), new StringContent(json, System.Text.Encoding.UTF8, "application/json"));

        /// <param name="replace">Registrations after the product's, to make a part fail on purpose.</param>
        /// <param name="console">Where the host's console goes; null: warnings only, to the process's standard output.</param>
        public static async Task<Host> StartAsync(Action<IServiceCollection>? replace = null, TextWriter? console = null)
        {
            var host = new Host();
            try
            {
                await host.InitializeAsync(replace, console);
                return host;
            }
            catch
            {
                await host.DisposeAsync();
                throw;
            }
        }

        private async Task InitializeAsync(Action<IServiceCollection>? replace, TextWriter? console)
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

            // Without a console to read: warnings only, the host's per-delivery lines would flood the test output.
            string[] args = ["--settings", settings, "--hostjson", QueueListenerHarness.HostJsonPath, "--urls", "http://127.0.0.1:0"];
            _app = LocalFunctionsHost.Build(console is null ? [.. args, "--Logging:LogLevel:Default", "Warning"] : args, replace, console);
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
