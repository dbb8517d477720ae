using System.Security.Cryptography;
using System.Text;
using AskPro.Functions.Tenants;
using AskPro.Functions.Tenants.Registry;
using AskPro.Functions.Tests.Infrastructure;
using AskPro.Functions.Webhooks;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Xunit.Abstractions;

namespace AskPro.Functions.Tests.Tenants;

/// <summary>
/// The registry directory in the app's object graph on Azurite (local secret store, fake clock, every storage request
/// counted): tenants added, rotated, disabled and removed at run time, the steady state free of requests, unknown ids
/// bounded, configuration winning, and broken entries or an unreachable registry never stopping the rest.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class RegistryDirectoryTests(AzuriteFixture azurite, ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 2, 9, 0, 0, TimeSpan.Zero);
    private static readonly string LocalKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
    private readonly FakeTimeProvider _time = new(T0);
    private readonly RequestCounter _counter = new();
    // The registry table is shared by every test on this emulator: ids of this test only.
    private readonly string _prefix = "t" + Guid.NewGuid().ToString("N")[..8] + "-";
    private TestApp _app = null!;

    public Task InitializeAsync()
    {
        _app = App(azurite.ConnectionString);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private TestApp App(string storage, Action<Dictionary<string, string?>>? edit = null)
    {
        var settings = TestApp.Settings(storage);
        settings["TenantRegistry:Enabled"] = "true";
        settings["TenantRegistry:LocalSecretsKey"] = LocalKey;
        edit?.Invoke(settings);
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        return TestApp.Create(settings, s =>
        {
            s.AddSingleton<TimeProvider>(_time);
            s.AddSingleton<HttpPipelinePolicy>(_counter);
            s.AddTenantRegistry(configuration);
        });
    }

    private ITenantDirectory Directory => _app.Get<ITenantDirectory>();
    private TenantRegistry Registry => _app.Get<TenantRegistry>();
    private ITenantSecretStore Secrets => _app.Get<ITenantSecretStore>();
    private RegistryTenantDirectory RegistryDirectory => _app.Get<RegistryTenantDirectory>();

    private static string NewSecret() => "whsec-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));

    /// <summary>Creates a tenant as the onboarding operation does: its secret first, then its entry.</summary>
    private async Task<(string Id, string Secret)> AddAsync(string name, Func<TenantEntry, TenantEntry>? edit = null)
    {
        var id = _prefix + name;
        var secret = NewSecret();
        LogAudit.Forbid(secret);
        await Secrets.SetAsync(TenantSecretNames.Webhook(id, 1), secret, CancellationToken.None);
        var entry = new TenantEntry { Id = id, CompanyId = "company-" + name, WebhookSecrets = [new TenantSecretRef(TenantSecretNames.Webhook(id, 1))] };
        Assert.True(await Registry.CreateAsync(edit is null ? entry : edit(entry), CancellationToken.None));
        return (id, secret);
    }

    private static bool Verifies(Tenant tenant, string secret)
    {
        var body = Encoding.UTF8.GetBytes("{\"triggerEvent\":\"PING\"}");
        return WebhookSignature.Verify(body, WebhookSignature.Sign(body, Encoding.UTF8.GetBytes(secret)), tenant.SecretKeys) == SignatureResult.Valid;
    }

    private int TenantReads => _counter.Requests.Count(r => r.StartsWith("table GET", StringComparison.Ordinal) && r.Contains("/Tenants(", StringComparison.Ordinal));

    [Fact]
    public void Enabled_with_a_usable_store_the_directory_is_the_registry_one_around_the_configured_one()
    {
        Assert.IsType<RegistryTenantDirectory>(Directory);
        Assert.Equal(TenantIds.Default, Directory.Default.Id);
    }

    [Fact]
    public async Task A_tenant_added_while_the_app_runs_is_found_at_once_and_then_from_memory()
    {
        Assert.True(await RegistryDirectory.RefreshAsync(CancellationToken.None));
        var (id, secret) = await AddAsync("added", e => e with { EventTypeIds = [42], TeamId = 7, ApiKeySecret = null });

        var found = await Directory.FindAsync(id, CancellationToken.None);

        Assert.NotNull(found);
        Assert.Equal("company-added", found.CompanyId);
        Assert.Equal([42L], found.EventTypeIds);
        Assert.Equal(7, found.TeamId);
        Assert.Null(found.ApiKey);
        Assert.True(Verifies(found, secret));
        Assert.False(Verifies(found, NewSecret()));
        Assert.Contains(await Directory.AllAsync(CancellationToken.None), t => t.Id == id);

        _counter.Reset();
        Assert.NotNull(await Directory.FindAsync(id, CancellationToken.None));
        Assert.Empty(_counter.Requests);
    }

    [Fact]
    public async Task Rotation_accepts_both_secrets_until_the_first_retires_then_only_the_new_one()
    {
        var (id, first) = await AddAsync("rotating");
        Assert.True(await RegistryDirectory.RefreshAsync(CancellationToken.None));
        Assert.True(Verifies((await Directory.FindAsync(id, CancellationToken.None))!, first));

        // The rotation: the new secret stored, the entry names both, the old one retiring in an hour.
        var second = NewSecret();
        LogAudit.Forbid(second);
        await Secrets.SetAsync(TenantSecretNames.Webhook(id, 2), second, CancellationToken.None);
        await Registry.ChangeAsync(id, e => e with
        {
            WebhookSecrets = [new TenantSecretRef(TenantSecretNames.Webhook(id, 1), T0.AddHours(1)), new TenantSecretRef(TenantSecretNames.Webhook(id, 2))],
        }, CancellationToken.None);
        Assert.True(await RegistryDirectory.RefreshAsync(CancellationToken.None));

        var during = (await Directory.FindAsync(id, CancellationToken.None))!;
        Assert.True(Verifies(during, first));
        Assert.True(Verifies(during, second));

        // Retired by time alone: no refresh, no request.
        _counter.Reset();
        _time.Advance(TimeSpan.FromHours(1));
        var after = (await Directory.FindAsync(id, CancellationToken.None))!;
        Assert.False(Verifies(after, first));
        Assert.True(Verifies(after, second));
        Assert.Empty(_counter.Requests);
    }

    [Fact]
    public async Task A_disabled_tenant_is_not_found_after_one_refresh_and_a_removed_one_neither()
    {
        var (disabled, _) = await AddAsync("disabled");
        var (removed, _) = await AddAsync("removed");
        Assert.True(await RegistryDirectory.RefreshAsync(CancellationToken.None));
        Assert.NotNull(await Directory.FindAsync(disabled, CancellationToken.None));
        Assert.NotNull(await Directory.FindAsync(removed, CancellationToken.None));

        await Registry.ChangeAsync(disabled, e => e with { Enabled = false }, CancellationToken.None);
        await new TableServiceClient(azurite.ConnectionString).GetTableClient("Tenants").DeleteEntityAsync(TenantRegistry.Partition, removed);
        Assert.True(await RegistryDirectory.RefreshAsync(CancellationToken.None));

        Assert.Null(await Directory.FindAsync(disabled, CancellationToken.None));
        Assert.Null(await Directory.FindAsync(removed, CancellationToken.None));
        Assert.DoesNotContain(await Directory.AllAsync(CancellationToken.None), t => t.Id == disabled || t.Id == removed);
    }

    [Fact]
    public async Task The_background_refresher_picks_up_a_change_within_one_interval()
    {
        var (id, _) = await AddAsync("background");
        var refresher = _app.Services.GetServices<Microsoft.Extensions.Hosting.IHostedService>().OfType<TenantRegistryRefresher>().Single();
        await refresher.StartAsync(CancellationToken.None);
        try
        {
            // The first pass runs at start; then the refresher sleeps one interval on the fake clock.
            await Until(async () => (await Directory.AllAsync(CancellationToken.None)).Any(t => t.Id == id));
            await Task.Delay(300);
            await Registry.ChangeAsync(id, e => e with { Enabled = false }, CancellationToken.None);
            Assert.NotNull(await Directory.FindAsync(id, CancellationToken.None));

            _time.Advance(TenantRegistryOptions.DefaultRefreshInterval);

            await Until(async () => await Directory.FindAsync(id, CancellationToken.None) is null);
        }
        finally
        {
            await refresher.StopAsync(CancellationToken.None);
        }
    }

    /// <summary>Real time, for the refresher's own task: the fake clock is not advanced here.</summary>
    private static async Task Until(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "not within 15 s");
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task In_the_steady_state_200_lookups_of_known_tenants_cost_no_storage_request()
    {
        var a = await AddAsync("steady-a");
        var b = await AddAsync("steady-b");
        Assert.True(await RegistryDirectory.RefreshAsync(CancellationToken.None));
        _counter.Reset();

        for (var i = 0; i < 200; i++)
        {
            Assert.NotNull(await Directory.FindAsync(i % 2 == 0 ? a.Id : b.Id, CancellationToken.None));
        }

        Assert.NotNull(await Directory.FindAsync(TenantIds.Default, CancellationToken.None));
        Assert.Equal(0, _counter.Table);
        Assert.Empty(_counter.Requests);

        // A refresh with nothing changed lists the table and reads no secret.
        Assert.True(await RegistryDirectory.RefreshAsync(CancellationToken.None));
        Assert.DoesNotContain(_counter.Requests, r => r.Contains("/TenantSecrets", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Lookups_of_random_unknown_ids_cost_a_bounded_number_of_reads()
    {
        const int seed = 1602;
        output.WriteLine($"seed {seed}");
        var random = new Random(seed);
        string RandomId() => _prefix + "x" + string.Concat(Enumerable.Range(0, 12).Select(_ => "abcdefghijklmnopqrstuvwxyz0123456789"[random.Next(36)]));
        _counter.Reset();

        for (var i = 0; i < 500; i++)
        {
            Assert.Null(await Directory.FindAsync(RandomId(), CancellationToken.None));
        }

        Assert.InRange(TenantReads, 1, RegistryTenantDirectory.MissReadBurst);

        // A second later the budget has refilled by the rate, no more.
        _counter.Reset();
        _time.Advance(TimeSpan.FromSeconds(1));
        for (var i = 0; i < 500; i++)
        {
            Assert.Null(await Directory.FindAsync(RandomId(), CancellationToken.None));
        }

        Assert.InRange(TenantReads, 1, RegistryTenantDirectory.MissReadsPerSecond);
    }

    [Fact]
    public async Task One_unknown_id_asked_again_and_again_costs_one_read_per_negative_cache_period()
    {
        var id = _prefix + "nobody";
        _counter.Reset();

        await Task.WhenAll(Enumerable.Range(0, 20).Select(async _ => await Directory.FindAsync(id, CancellationToken.None)));
        for (var i = 0; i < 50; i++)
        {
            Assert.Null(await Directory.FindAsync(id, CancellationToken.None));
        }

        Assert.Equal(1, TenantReads);
        _time.Advance(RegistryTenantDirectory.NegativeCacheTime);
        Assert.Null(await Directory.FindAsync(id, CancellationToken.None));
        Assert.Equal(2, TenantReads);
    }

    [Fact]
    public async Task Concurrent_first_lookups_of_a_new_tenant_share_one_read()
    {
        var (id, secret) = await AddAsync("popular");
        _counter.Reset();

        var found = await Task.WhenAll(Enumerable.Range(0, 20).Select(async _ => await Directory.FindAsync(id, CancellationToken.None)));

        Assert.All(found, t => Assert.True(t is not null && Verifies(t, secret)));
        Assert.Equal(1, TenantReads);
    }

    [Fact]
    public async Task A_configured_tenant_wins_over_a_registry_entry_of_the_same_id_with_one_warning()
    {
        var id = _prefix + "both";
        var configuredSecret = NewSecret();
        LogAudit.Forbid(configuredSecret);
        await using var app = App(azurite.ConnectionString, s =>
        {
            s[$"Tenants:{id}:WebhookSecrets:0"] = configuredSecret;
            s[$"Tenants:{id}:CompanyId"] = "configured-company";
        });
        var registrySecret = NewSecret();
        await app.Get<ITenantSecretStore>().SetAsync(TenantSecretNames.Webhook(id, 1), registrySecret, CancellationToken.None);
        await app.Get<TenantRegistry>().CreateAsync(new TenantEntry { Id = id, CompanyId = "registry-company", WebhookSecrets = [new(TenantSecretNames.Webhook(id, 1))] }, CancellationToken.None);

        await app.Get<RegistryTenantDirectory>().RefreshAsync(CancellationToken.None);
        await app.Get<RegistryTenantDirectory>().RefreshAsync(CancellationToken.None);
        var found = await app.Get<ITenantDirectory>().FindAsync(id, CancellationToken.None);

        Assert.Equal("configured-company", found!.CompanyId);
        Assert.True(Verifies(found, configuredSecret));
        Assert.False(Verifies(found, registrySecret));
        Assert.Single(app.Logs.Lines, l => l.Contains("[8015]", StringComparison.Ordinal) && l.Contains(id, StringComparison.Ordinal));
        Assert.Single(await app.Get<ITenantDirectory>().AllAsync(CancellationToken.None), t => t.Id == id);
    }

    [Fact]
    public async Task Broken_entries_and_unusable_secrets_leave_the_others_served_and_say_so()
    {
        var (good, goodSecret) = await AddAsync("good");
        var (shortSecret, _) = await AddAsync("short");
        await Secrets.SetAsync(TenantSecretNames.Webhook(shortSecret, 1), "too-short", CancellationToken.None);
        var (missing, _) = await AddAsync("missing", e => e with { WebhookSecrets = [new(TenantSecretNames.Webhook(e.Id, 1)), new("tenant-nowhere-webhook-9")] });
        var (wrongKey, _) = await AddAsync("wrong-key");
        await new LocalTenantSecretStore(new TableServiceClient(azurite.ConnectionString).GetTableClient("TenantSecrets"), RandomNumberGenerator.GetBytes(32))
            .SetAsync(TenantSecretNames.Webhook(wrongKey, 1), NewSecret(), CancellationToken.None);
        await new TableServiceClient(azurite.ConnectionString).GetTableClient("Tenants")
            .UpsertEntityAsync(new TableEntity(TenantRegistry.Partition, _prefix + "garbled") { ["EventTypeIds"] = "1,two" });

        Assert.True(await RegistryDirectory.RefreshAsync(CancellationToken.None));

        Assert.True(Verifies((await Directory.FindAsync(good, CancellationToken.None))!, goodSecret));
        Assert.Empty((await Directory.FindAsync(shortSecret, CancellationToken.None))!.SecretKeys);
        Assert.Single((await Directory.FindAsync(missing, CancellationToken.None))!.SecretKeys);
        Assert.Empty((await Directory.FindAsync(wrongKey, CancellationToken.None))!.SecretKeys);
        Assert.Null(await Directory.FindAsync(_prefix + "garbled", CancellationToken.None));
        var lines = _app.Logs.Lines;
        Assert.Contains(lines, l => l.Contains("[8013]", StringComparison.Ordinal) && l.Contains(shortSecret, StringComparison.Ordinal) && l.Contains("shorter than", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("[8013]", StringComparison.Ordinal) && l.Contains("tenant-nowhere-webhook-9", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("[8013]", StringComparison.Ordinal) && l.Contains(wrongKey, StringComparison.Ordinal) && l.Contains("another TenantRegistry__LocalSecretsKey", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("[8000]", StringComparison.Ordinal) && l.Contains(_prefix + "garbled", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("[8014]", StringComparison.Ordinal) && l.Contains(shortSecret, StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains(goodSecret, StringComparison.Ordinal) || l.Contains("too-short", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_unreachable_registry_leaves_configured_tenants_working_and_says_so()
    {
        var configuredSecret = NewSecret();
        LogAudit.Forbid(configuredSecret);
        // Nothing listens there.
        var dead = $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={Azurite.AccountKey};"
            + "BlobEndpoint=http://127.0.0.1:9/devstoreaccount1;QueueEndpoint=http://127.0.0.1:9/devstoreaccount1;TableEndpoint=http://127.0.0.1:9/devstoreaccount1;";
        await using var app = App(dead, s => s["Tenants:configured-one:WebhookSecrets:0"] = configuredSecret);
        var directory = app.Get<RegistryTenantDirectory>();

        Assert.False(await directory.RefreshAsync(CancellationToken.None));

        Assert.True(Verifies((await directory.FindAsync("configured-one", CancellationToken.None))!, configuredSecret));
        Assert.NotNull(await directory.FindAsync(TenantIds.Default, CancellationToken.None));
        Assert.Contains(app.Logs.Lines, l => l.Contains("[8010]", StringComparison.Ordinal) && l.Contains("start", StringComparison.Ordinal));
        Assert.Equal(["default", "configured-one"], (await directory.AllAsync(CancellationToken.None)).Select(t => t.Id));
    }

    [Fact]
    public async Task Enabled_without_a_usable_secret_store_the_registry_is_off_loudly_and_the_app_runs()
    {
        await using var app = App(azurite.ConnectionString, s => s["TenantRegistry:LocalSecretsKey"] = "c2hvcnQ=");
        await app.Services.GetServices<Microsoft.Extensions.Hosting.IHostedService>().OfType<TenantRegistryStartCheck>().Single().StartAsync(CancellationToken.None);

        Assert.IsType<ConfiguredTenants>(app.Get<ITenantDirectory>());
        Assert.Null(app.Services.GetService<RegistryTenantDirectory>());
        Assert.Contains(app.Logs.Lines, l => l.Contains("[8020]", StringComparison.Ordinal) && l.Contains("TenantRegistry__LocalSecretsKey is not 32 bytes", StringComparison.Ordinal));
        Assert.DoesNotContain(app.Logs.Lines, l => l.Contains("c2hvcnQ=", StringComparison.Ordinal));
        Assert.NotNull(await app.Get<ITenantDirectory>().FindAsync(TenantIds.Default, CancellationToken.None));
    }
}
