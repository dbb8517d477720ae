using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using AskPro.Functions.Tenants;
using AskPro.Functions.Tenants.Registry;
using AskPro.Functions.Tests.Infrastructure;
using AskPro.Functions.Tests.Queueing;
using AskPro.Functions.Tests.Reconciliation;
using AskPro.LocalHost;
using AskPro.Send;
using Azure.Data.Tables;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace AskPro.Functions.Tests.Tenants;

/// <summary>
/// Onboarding against the real service: the local host (its own Azurite, the registry on with a 1-second refresh)
/// and the fake Cal.com API on loopback sockets. <c>tools/tenant.sh add --register</c> pings through the host's tenant
/// route and needs 200; a booking signed with the secret Cal.com was given is accepted and lands in the tenant's
/// partition; after <c>disable</c> the route answers 404 <c>unknown_tenant</c>, without a restart.
/// </summary>
public sealed class OnboardingLocalHostTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string DefaultSecret = "onboarding-default-secret-5d1f9b3e7a2c4e6f";
    private Azurite _azurite = null!;
    private FakeCalcomApi _api = null!;
    private WebApplication _host = null!;
    private Uri _hostUrl = null!;
    private string _settings = null!;
    private readonly StringWriter _console = new();

    public async Task InitializeAsync()
    {
        // Its own emulator: the host's queue listener takes every message of the webhook queue.
        _azurite = await Azurite.StartAsync(allowExternal: false);
        _api = await FakeCalcomApi.StartAsync();
        var values = new Dictionary<string, string?>
        {
            ["AzureWebJobsStorage"] = _azurite.ConnectionString,
            ["CalcomWebhook__Secrets__0"] = DefaultSecret,
            ["ReconciliationSchedule"] = "0 */10 * * * *",
            ["Calcom__ApiBaseUrl"] = _api.BaseUrl.AbsoluteUri,
            ["TenantRegistry__Enabled"] = "true",
            ["TenantRegistry__LocalSecretsKey"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
            ["TenantRegistry__RefreshInterval"] = "00:00:01",
        };
        _settings = Path.Combine(Directory.CreateTempSubdirectory("askpro-onboarding-host-").FullName, "local.settings.json");
        await File.WriteAllTextAsync(_settings, JsonSerializer.Serialize(new { IsEncrypted = false, Values = values }));
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => KeyValuePair.Create(v.Key.Replace("__", ":", StringComparison.Ordinal), v.Value))).Build();
        // AddTenantRegistry adds itself once: a no-op here once the product's composition calls it.
        _host = LocalFunctionsHost.Build(["--settings", _settings, "--hostjson", QueueListenerHarness.HostJsonPath, "--urls", "http://127.0.0.1:0", "--Logging:LogLevel:Default", "Warning"],
            s => s.AddTenantRegistry(configuration), _console);
        await _host.StartAsync();
        _hostUrl = new Uri(_host.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single());
    }

    public async Task DisposeAsync()
    {
        lock (_console)
        {
            output.WriteLine("host console:\n" + _console);
        }

        await _host.StopAsync();
        await _host.DisposeAsync();
        await _api.DisposeAsync();
        await _azurite.DisposeAsync();
    }

    private async Task<CliRun> Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = await AskPro.Tenants.TenantCli.RunAsync([.. args, "--settings", _settings], TextReader.Null, stdout, stderr, _ => null);
        var run = new CliRun(code, stdout.ToString(), stderr.ToString());
        output.WriteLine($"tenant.sh {string.Join(' ', args)}\n{run}");
        return run;
    }

    [Fact]
    public async Task A_practice_added_with_register_is_pinged_through_the_running_host_then_its_bookings_land_in_its_partition_until_it_is_disabled()
    {
        const string id = "praxis-weber";

        var added = await Run("add", id, "--company", "c-4711", "--api-key", FakeCalcomApi.ApiKey, "--register", "--url", _hostUrl.AbsoluteUri);

        Assert.True(added.ExitCode == 0, added.ToString());
        Assert.Contains("→ 200", added.Stdout, StringComparison.Ordinal);
        var webhook = Assert.Single(_api.Webhooks);
        var url = new Uri(webhook.SubscriberUrl);
        Assert.Equal($"/api/webhooks/calcom/{id}", url.AbsolutePath);

        // What Cal.com would send next: a booking signed with the secret it holds, to the URL it holds.
        using var http = new HttpClient();
        var examples = new WebhookExamples(Examples.CalcomDirectory);
        var booking = await new WebhookSender(http, url, webhook.Secret!).SendAsync(examples.Load("booking_created_web"), CancellationToken.None);
        Assert.True(booking.StatusCode == 202, $"{booking.StatusCode} {booking.Body}");
        var wrong = await new WebhookSender(http, url, DefaultSecret).SendAsync(examples.Load("booking_created_web"), CancellationToken.None);
        Assert.Equal(401, wrong.StatusCode);

        var table = new TableClient(_azurite.ConnectionString, "Appointments");
        var row = await Eventually(async () =>
        {
            try
            {
                var r = await table.GetEntityIfExistsAsync<TableEntity>(TenantIds.PartitionOf(id), "uid_k3VbP9qWm2xYc7RtL5nD8a");
                return r.HasValue ? r.Value : null;
            }
            catch (Azure.RequestFailedException e) when (e.Status == 404)
            {
                return null; // the table exists once the first event is applied
            }
        }, r => r is not null);
        Assert.Equal("confirmed", row!.GetString("Status"));

        var disabled = await Run("disable", id);
        Assert.True(disabled.ExitCode == 0, disabled.ToString());
        var ping = await Eventually(
            () => new WebhookSender(http, url, webhook.Secret!).SendAsync(examples.Load("ping"), CancellationToken.None),
            d => d.StatusCode == (int)HttpStatusCode.NotFound);
        Assert.Contains("unknown_tenant", ping.Body, StringComparison.Ordinal);
    }

    private static async Task<T> Eventually<T>(Func<Task<T>> read, Func<T, bool> done)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var value = await read();
            if (done(value) || DateTime.UtcNow > deadline)
            {
                return value;
            }

            await Task.Delay(200);
        }
    }
}
