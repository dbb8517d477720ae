using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using AskPro.Functions.Tests.Appointments;
using AskPro.Functions.Tests.Infrastructure;
using AskPro.Functions.Webhooks;
using AskPro.LocalHost;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace AskPro.Functions.Benchmarks;

/// <summary>
/// The acknowledgement over real HTTP: the local host (tools/AskPro.LocalHost, the product's functions on Kestrel and
/// the WebJobs queue listener, as tools/run-local.sh runs it) on a free loopback port over an in-memory Azurite,
/// fed N distinct signed deliveries of generated lifecycles by 4 concurrent senders (after a warm-up of 50). Prints the
/// latency percentiles of the 202s as the sender sees them. A measurement, not a test: it fails only on a non-202.
/// </summary>
internal static class AckRun
{
    private const string Secret = "ack-run-secret-0123456789abcdef01234";
    private const int Senders = 4;
    private const int WarmUp = 50;

    public static async Task<int> RunAsync(int deliveries)
    {
        await using var azurite = await Azurite.StartAsync(allowExternal: false);
        var directory = Directory.CreateTempSubdirectory("askpro-ack-").FullName;
        var settings = Path.Combine(directory, "local.settings.json");
        await File.WriteAllTextAsync(settings, JsonSerializer.Serialize(new
        {
            IsEncrypted = false,
            Values = new Dictionary<string, string>
            {
                ["AzureWebJobsStorage"] = azurite.ConnectionString,
                ["CalcomWebhook__Secrets__0"] = Secret,
                ["ReconciliationSchedule"] = "0 0 0 1 1 *",
            },
        }));
        var app = LocalFunctionsHost.Build(["--settings", settings, "--hostjson", Path.Combine(Azurite.RepoRoot(), "host.json"),
            "--urls", "http://127.0.0.1:0", "--Logging:LogLevel:Default", "Warning"]);
        await app.StartAsync();
        try
        {
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
            var url = new Uri(address + LocalFunctionsHost.WebhookPath(app.Configuration));

            // Distinct events (none answered from memory as a re-send), signed before the clock starts.
            var generator = new LifecycleGenerator(20261206);
            var bodies = new List<byte[]>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            while (bodies.Count < deliveries + WarmUp)
            {
                foreach (var e in new Scenario(generator.NextLifecycles(20, staffMembers: 10, days: 5)).InOrder)
                {
                    if (seen.Add(Functions.Queueing.WebhookQueue.DeliveryIdOf(e.Body)))
                    {
                        bodies.Add(e.Body);
                    }
                }
            }

            var signed = bodies.Take(deliveries + WarmUp).Select(b => (Body: b, Signature: WebhookSignature.Sign(b, Encoding.UTF8.GetBytes(Secret)))).ToList();
            using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = Senders }) { Timeout = TimeSpan.FromSeconds(30) };
            Console.WriteLine($"ack run: local host at {url}, {deliveries} distinct signed deliveries (after {WarmUp} warm-up), {Senders} concurrent senders");

            await SendAllAsync(http, url, signed.Take(WarmUp).ToList());
            var clock = Stopwatch.StartNew();
            var latencies = await SendAllAsync(http, url, signed.Skip(WarmUp).ToList());
            var elapsed = clock.Elapsed;
            if (latencies is null)
            {
                return 1;
            }

            latencies.Sort();
            double P(double q) => latencies[Math.Min(latencies.Count - 1, (int)Math.Ceiling(q * latencies.Count) - 1)];
            Console.WriteLine($"acknowledgement (POST → 202 over HTTP): {latencies.Count} in {elapsed.TotalSeconds:F1} s = {latencies.Count / elapsed.TotalSeconds:F0}/s; "
                + $"p50 {P(0.50):F1} ms, p95 {P(0.95):F1} ms, p99 {P(0.99):F1} ms, max {latencies[^1]:F1} ms");
            return 0;
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>Latencies in ms of every 202, or null after printing the first other answer.</summary>
    private static async Task<List<double>?> SendAllAsync(HttpClient http, Uri url, List<(byte[] Body, string Signature)> deliveries)
    {
        var latencies = new List<double>(deliveries.Count);
        var failed = 0;
        await Parallel.ForEachAsync(deliveries, new ParallelOptions { MaxDegreeOfParallelism = Senders }, async (delivery, ct) =>
        {
            using var content = new ByteArrayContent(delivery.Body);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = content };
            request.Headers.TryAddWithoutValidation(WebhookSignature.HeaderName, delivery.Signature);
            var started = Stopwatch.GetTimestamp();
            using var response = await http.SendAsync(request, ct);
            var ms = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            if ((int)response.StatusCode != 202)
            {
                if (Interlocked.Increment(ref failed) == 1)
                {
                    Console.WriteLine($"answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(ct)}");
                }

                return;
            }

            lock (latencies)
            {
                latencies.Add(ms);
            }
        });
        return failed == 0 ? latencies : null;
    }
}
