using System.Text.Json;
using AskPro.Functions.Storage;
using AskPro.Functions.Tenants;
using AskPro.Functions.Tests.Infrastructure;
using AskPro.Functions.Webhooks;
using Microsoft.Extensions.Options;

namespace AskPro.Functions.Tests.Hosting;

/// <summary>local.settings.sample.json is what a new developer copies: it must start the app and be documented.</summary>
public sealed class LocalSettingsSampleTests
{
    private static Dictionary<string, string> SampleValues()
    {
        using var sample = JsonDocument.Parse(File.ReadAllText(Path.Combine(Azurite.RepoRoot(), "local.settings.sample.json")));
        return sample.RootElement.GetProperty("Values").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? "", StringComparer.Ordinal);
    }

    [Fact]
    public async Task The_sample_settings_start_the_app_against_Azurite_with_its_defaults_spelled_out()
    {
        var values = SampleValues();
        await using var app = TestApp.Create(values.ToDictionary(p => p.Key.Replace("__", ":", StringComparison.Ordinal), p => (string?)p.Value));

        app.Get<IStartupValidator>().Validate();
        Assert.Equal("dotnet-isolated", values["FUNCTIONS_WORKER_RUNTIME"]);
        Assert.Equal("UseDevelopmentStorage=true", values[StorageNames.Connection]);
        Assert.Equal(WebhookOptions.DefaultMaxBodyBytes, app.Get<IOptions<WebhookOptions>>().Value.MaxBodyBytes);
        Assert.Equal(new StorageOptions().AppointmentsTable, app.Get<IOptions<StorageOptions>>().Value.AppointmentsTable);
        Assert.Single(app.Get<IOptions<WebhookOptions>>().Value.SecretKeys); // the empty second secret is not a key
    }

    [Theory]
    [InlineData("praxis-a")]
    [InlineData("praxis-b")]
    public async Task The_sample_declares_two_practices_each_served_with_its_own_secret(string id)
    {
        var values = SampleValues();
        await using var app = TestApp.Create(values.ToDictionary(p => p.Key.Replace("__", ":", StringComparison.Ordinal), p => (string?)p.Value));
        var tenants = app.Get<ITenantDirectory>();

        var tenant = await tenants.FindAsync(id, CancellationToken.None);

        Assert.NotNull(tenant);
        Assert.Equal(id, tenant.Partition);
        Assert.False(string.IsNullOrEmpty(tenant.CompanyId));
        var key = Assert.Single(tenant.SecretKeys);
        Assert.DoesNotContain(tenants.Default.SecretKeys, k => k.AsSpan().SequenceEqual(key));
    }

    [Fact]
    public void Every_sample_setting_is_in_the_configuration_page()
    {
        var page = File.ReadAllText(Path.Combine(Azurite.RepoRoot(), "docs", "configuration.md"));
        var table = page[page.IndexOf("## Settings", StringComparison.Ordinal)..page.IndexOf("## Fixed names", StringComparison.Ordinal)];
        foreach (var name in SampleValues().Keys)
        {
            var documented = name.StartsWith("CalcomWebhook__Secrets__", StringComparison.Ordinal) && name != "CalcomWebhook__Secrets__0"
                ? table.Contains("`CalcomWebhook__Secrets__1`", StringComparison.Ordinal)
                : table.Contains($"`{name}`", StringComparison.Ordinal);
            Assert.True(documented, $"{name} is in local.settings.sample.json but not in the settings table of docs/configuration.md");
        }
    }
}
