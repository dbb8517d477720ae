using System.Net;
using System.Text.Json;
using AskPro.Functions.Operating;
using AskPro.Functions.Tests.Infrastructure;
using AskPro.Functions.Tests.Queueing;
using AskPro.LocalHost;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace AskPro.Functions.Tests.Smoke;

/// <summary>
/// The local host serves the operator endpoints without function keys (lookups with personal data, replay,
/// reconciliation), so it listens on loopback unless told otherwise: <c>ASPNETCORE_URLS</c>/<c>--urls</c> asking for
/// all interfaces is not enough, <c>--allow-remote</c> is, and either way it says what it did.
/// </summary>
[Collection(RunsAloneCollection.Name)]
public sealed class LocalHostBindingTests
{
    [Theory]
    [InlineData("http://0.0.0.0:7071", "http://127.0.0.1:7071")]
    [InlineData("http://*:7071", "http://127.0.0.1:7071")]
    [InlineData("http://+:8080", "http://127.0.0.1:8080")]
    [InlineData("http://[::]:7071", "http://127.0.0.1:7071")]
    [InlineData("http://192.168.1.20:7071", "http://127.0.0.1:7071")]
    [InlineData("http://askpro-dev.example:7071", "http://127.0.0.1:7071")]
    [InlineData("https://0.0.0.0:7443", "https://127.0.0.1:7443")]
    public void An_address_that_is_not_loopback_becomes_loopback_on_the_same_port_with_a_warning(string asked, string bound)
    {
        var binding = Binding.Of(asked, allowRemote: false);

        Assert.Equal([bound], binding.Urls);
        Assert.Contains("is not a loopback address", binding.Warning, StringComparison.Ordinal);
        Assert.Contains(LocalFunctionsHost.AllowRemoteFlag, binding.Warning, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://localhost:7071")]
    [InlineData("http://127.0.0.1:0")]
    [InlineData("http://[::1]:7071")]
    [InlineData("http://127.0.0.2:7071;http://localhost:7072")]
    public void Loopback_addresses_are_bound_as_asked_without_a_warning(string asked)
    {
        var binding = Binding.Of(asked, allowRemote: false);

        Assert.Equal(asked.Split(';'), binding.Urls);
        Assert.Null(binding.Warning);
    }

    [Fact]
    public void Allowed_remote_addresses_are_bound_as_asked_with_a_warning_naming_what_is_exposed()
    {
        var binding = Binding.Of("http://0.0.0.0:7071;http://localhost:7072", allowRemote: true);

        Assert.Equal(["http://0.0.0.0:7071", "http://localhost:7072"], binding.Urls);
        Assert.Contains("http://0.0.0.0:7071", binding.Warning, StringComparison.Ordinal);
        Assert.Contains("include=personal", binding.Warning, StringComparison.Ordinal);
        Assert.DoesNotContain("localhost:7072", binding.Warning, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ASPNETCORE_URLS_for_all_interfaces_still_binds_loopback_and_says_so()
    {
        var (addresses, warning) = await StartAsync([], "http://0.0.0.0:0");

        Assert.All(addresses, a => Assert.True(Binding.IsLoopback(a), $"listening on {a}"));
        Assert.Contains("http://0.0.0.0:0 is not a loopback address", warning, StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_allow_remote_it_binds_all_interfaces_and_warns()
    {
        var (addresses, warning) = await StartAsync([LocalFunctionsHost.AllowRemoteFlag], "http://0.0.0.0:0");

        Assert.Contains(addresses, a => a.StartsWith("http://0.0.0.0:", StringComparison.Ordinal));
        Assert.Contains("not only on loopback", warning, StringComparison.Ordinal);
    }

    /// <summary>Starts the local host with ASPNETCORE_URLS set, answers one lookup over loopback, and returns where it listened and what it printed.</summary>
    private static async Task<(IReadOnlyList<string> Addresses, string Warning)> StartAsync(string[] extraArgs, string aspNetCoreUrls)
    {
        await using var azurite = await Azurite.StartAsync(allowExternal: false);
        var directory = Directory.CreateTempSubdirectory("askpro-bind-").FullName;
        var settings = Path.Combine(directory, "local.settings.json");
        await File.WriteAllTextAsync(settings, JsonSerializer.Serialize(new
        {
            IsEncrypted = false,
            Values = new Dictionary<string, string>
            {
                ["AzureWebJobsStorage"] = azurite.ConnectionString,
                ["CalcomWebhook__Secrets__0"] = TestApp.Secret,
                ["ReconciliationSchedule"] = "0 */10 * * * *",
            },
        }));

        var error = new StringWriter();
        var console = Console.Error;
        var previous = Environment.GetEnvironmentVariable("ASPNETCORE_URLS");
        WebApplication? app = null;
        try
        {
            Environment.SetEnvironmentVariable("ASPNETCORE_URLS", aspNetCoreUrls);
            Console.SetError(error);
            app = LocalFunctionsHost.Build(["--settings", settings, "--hostjson", QueueListenerHarness.HostJsonPath, "--Logging:LogLevel:Default", "Warning", .. extraArgs]);
            await app.StartAsync();
            var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.ToList();
            var port = new Uri(addresses[0].Replace("0.0.0.0", "127.0.0.1", StringComparison.Ordinal)).Port;

            // It serves, over loopback: a lookup of a uid nobody booked is a 404 in the error format.
            using var http = new HttpClient();
            using var lookup = await http.PostAsync(new Uri($"http://127.0.0.1:{port}{LocalFunctionsHost.RoutePath(app.Configuration, AppointmentLookupFunction.Route)}"),
                new StringContent("{\"uid\":\"NoSuchUid123\"}", System.Text.Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.NotFound, lookup.StatusCode);
            return (addresses, error.ToString());
        }
        finally
        {
            Console.SetError(console);
            Environment.SetEnvironmentVariable("ASPNETCORE_URLS", previous);
            if (app is not null)
            {
                await app.StopAsync();
                await app.DisposeAsync();
            }

            Directory.Delete(directory, recursive: true);
        }
    }
}
