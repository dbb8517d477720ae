using System.Security.Cryptography;
using System.Text.Json;
using AskPro.Functions.Tenants;
using AskPro.Functions.Tenants.Registry;
using AskPro.Functions.Tests.Infrastructure;
using AskPro.Functions.Tests.Queueing;
using AskPro.LocalHost;
using AskPro.Send;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using SendExamples = AskPro.Send.WebhookExamples;

namespace AskPro.Functions.Tests.Tenants;

/// <summary>
/// Over real HTTP, on the local host (the app's own composition with its background services running; the queue
/// listener left out): a practice
/// added to the registry while the app runs is served on its route at once, and a disabled one stops being served
/// within one refresh — no restart in between.
/// </summary>
public sealed class RegistryHttpTests : IAsyncLifetime
{
    private readonly HttpClient _http = new(new SocketsHttpHandler { AllowAutoRedirect = false }) { Timeout = TimeSpan.FromSeconds(30) };
    private readonly SendExamples _examples = new(Infrastructure.Examples.CalcomDirectory, Infrastructure.Examples.SeedDirectory);
    private Azurite _azurite = null!;
    private WebApplication _app = null!;
    private string _directory = null!;
    private Uri _base = null!;

    public async Task InitializeAsync()
    {
        _azurite = await Azurite.StartAsync(allowExternal: false);
        _directory = Directory.CreateTempSubdirectory("askpro-registry-").FullName;
        var values = new Dictionary<string, string?>
        {
            ["AzureWebJobsStorage"] = _azurite.ConnectionString,
            ["CalcomWebhook__Secrets__0"] = TestApp.Secret,
            ["ReconciliationSchedule"] = "0 */10 * * * *",
            ["TenantRegistry__Enabled"] = "true",
            ["TenantRegistry__LocalSecretsKey"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
            ["TenantRegistry__RefreshInterval"] = "00:00:01",
        };
        var settings = Path.Combine(_directory, "local.settings.json");
        await File.WriteAllTextAsync(settings, JsonSerializer.Serialize(new { IsEncrypted = false, Values = values }));
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values.ToDictionary(v => v.Key.Replace("__", ":", StringComparison.Ordinal), v => v.Value)).Build();
        _app = LocalFunctionsHost.Build(
            ["--settings", settings, "--hostjson", QueueListenerHarness.HostJsonPath, "--urls", "http://127.0.0.1:0", "--Logging:LogLevel:Default", "Warning"],
            s =>
            {
                s.AddTenantRegistry(configuration);
                // Only the HTTP side is under test: no queue listener (stopping one mid-message crashes the WebJobs SDK).
                s.AddSingleton<Microsoft.Azure.WebJobs.ITypeLocator>(new NoJobs());
            });
        await _app.StartAsync();
        _base = new Uri(_app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single());
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        await _azurite.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    private Task<Delivery> SendAsync(string tenant, string secret) =>
        new WebhookSender(_http, new Uri(_base, LocalFunctionsHost.RoutePath(_app.Configuration, CalcomWebhookFunctionRoute(tenant))), secret)
            .SendAsync(_examples.Load("booking_created_web"), CancellationToken.None);

    private static string CalcomWebhookFunctionRoute(string tenant) => AskPro.Functions.Webhooks.CalcomWebhookFunction.Route + "/" + tenant;

    [Fact]
    public async Task A_practice_added_while_the_app_runs_gets_202_at_once_and_404_within_a_refresh_of_being_disabled()
    {
        const string id = "practice-live";
        var secret = "whsec-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        LogAudit.Forbid(secret);
        Assert.Equal(404, (await SendAsync(id, secret)).StatusCode);

        // Onboarded while the app runs: the secret first, then the entry (what the onboarding operation does).
        await _app.Services.GetRequiredService<ITenantSecretStore>().SetAsync(TenantSecretNames.Webhook(id, 1), secret, CancellationToken.None);
        var registry = _app.Services.GetRequiredService<TenantRegistry>();
        Assert.True(await registry.CreateAsync(new TenantEntry { Id = id, CompanyId = "company-live", WebhookSecrets = [new(TenantSecretNames.Webhook(id, 1))] }, CancellationToken.None));

        // The 404 a moment ago is remembered for a while; the refresh (every second here) serves the new practice.
        var accepted = await Eventually(async () => await SendAsync(id, secret), d => d.StatusCode == 202, TimeSpan.FromSeconds(10));
        Assert.True(accepted.StatusCode == 202, accepted.ToString());
        Assert.Equal(401, (await SendAsync(id, TestApp.Secret)).StatusCode);

        await registry.ChangeAsync(id, e => e with { Enabled = false }, CancellationToken.None);
        var refused = await Eventually(async () => await SendAsync(id, secret), d => d.StatusCode == 404, TimeSpan.FromSeconds(10));
        Assert.True(refused.StatusCode == 404, refused.ToString());
    }

    [Fact]
    public async Task A_practice_never_asked_for_before_is_served_on_its_first_delivery()
    {
        const string id = "practice-first";
        var secret = "whsec-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        LogAudit.Forbid(secret);
        await _app.Services.GetRequiredService<ITenantSecretStore>().SetAsync(TenantSecretNames.Webhook(id, 1), secret, CancellationToken.None);
        await _app.Services.GetRequiredService<TenantRegistry>().CreateAsync(new TenantEntry { Id = id, WebhookSecrets = [new(TenantSecretNames.Webhook(id, 1))] }, CancellationToken.None);

        var delivery = await SendAsync(id, secret);

        Assert.True(delivery.StatusCode == 202, delivery.ToString());
    }

    private sealed class NoJobs : Microsoft.Azure.WebJobs.ITypeLocator
    {
        public IReadOnlyList<Type> GetTypes() => [];
    }

    private static async Task<Delivery> Eventually(Func<Task<Delivery>> send, Func<Delivery, bool> done, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (true)
        {
            var delivery = await send();
            if (done(delivery) || DateTime.UtcNow > deadline)
            {
                return delivery;
            }

            await Task.Delay(200);
        }
    }
}
