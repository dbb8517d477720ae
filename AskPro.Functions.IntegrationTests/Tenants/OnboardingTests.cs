using System.Text;
using System.Text.Json.Nodes;
using AskPro.Functions.Calcom;
using AskPro.Functions.Tenants;
using AskPro.Functions.Tenants.Admin;
using AskPro.Functions.Tests.Infrastructure;
using AskPro.Functions.Tests.Reconciliation;
using AskPro.Functions.Webhooks;
using Xunit.Abstractions;

namespace AskPro.Functions.Tests.Tenants;

/// <summary>
/// <c>tools/tenant.sh</c> end to end, its entry point run in process (the script only builds and execs it; in process the
/// test controls the settings file and the environment and reads the output without a second build competing for
/// the machine): the registry on Azurite, the fake Cal.com API's webhook routes and a ping target on loopback sockets.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class OnboardingTests(AzuriteFixture azurite, ITestOutputHelper output) : IAsyncLifetime
{
    private const string Key = FakeCalcomApi.ApiKey;
    private FakeCalcomApi _api = null!;
    private PingTarget _service = null!;
    private OnboardingHarness _cli = null!;

    public async Task InitializeAsync()
    {
        _api = await FakeCalcomApi.StartAsync();
        _service = await PingTarget.StartAsync();
        _cli = new OnboardingHarness(azurite.ConnectionString, _api.BaseUrl);
    }

    public async Task DisposeAsync()
    {
        await _service.DisposeAsync();
        await _api.DisposeAsync();
    }

    private async Task<CliRun> Run(params string[] args)
    {
        var run = await _cli.RunAsync(args);
        output.WriteLine($"tenant.sh {string.Join(' ', args)}\n{run}");
        return run;
    }

    [Fact]
    public async Task Add_with_register_creates_the_user_webhook_with_the_tenant_URL_the_applied_triggers_and_the_stored_secret_then_a_signed_ping_gets_200()
    {
        var id = OnboardingHarness.NewId("praxis");

        var run = await Run("add", id, "--company", "c-4711", "--api-key", Key, "--register", "--url", _service.Url.AbsoluteUri);

        Assert.True(run.ExitCode == 0, run.ToString());
        var webhook = Assert.Single(_api.Webhooks);
        Assert.Equal("/v2/webhooks", webhook.Scope);
        Assert.Equal(new Uri(_service.Url, $"/api/webhooks/calcom/{id}").AbsoluteUri, webhook.SubscriberUrl);
        Assert.True(webhook.Active);
        // Every applied trigger Cal.com sends, from the catalogue; the seed's own BOOKING_CONFIRMED is no Cal.com trigger.
        Assert.Equal(TriggerCatalogue.All.Where(t => t.IsApplied && t.Name != CalcomTriggers.BookingConfirmed).Select(t => t.Name).Order(), webhook.Triggers.Order());
        var entry = await _cli.Registry.GetAsync(id, default);
        Assert.NotNull(entry);
        Assert.True(entry.Enabled);
        Assert.Equal("c-4711", entry.CompanyId);
        Assert.Equal(webhook.Id, entry.CalcomWebhookId);
        Assert.Equal(TenantSecretNames.ApiKey(id), entry.ApiKeySecret);
        Assert.Equal(Key, await _cli.Secrets.GetAsync(TenantSecretNames.ApiKey(id), default));
        var secretRef = Assert.Single(entry.WebhookSecrets);
        Assert.Equal(TenantSecretNames.Webhook(id, 0), secretRef.Name);
        var secret = await _cli.Secrets.GetAsync(secretRef.Name, default);
        Assert.Matches("^[0-9a-f]{64}$", secret);
        Assert.Equal(secret, webhook.Secret);

        // The ping went through the subscriber URL, Cal.com's "Ping test" body signed with the secret Cal.com holds.
        var ping = Assert.Single(_service.Deliveries);
        Assert.Equal(id, ping.Tenant);
        Assert.Equal("PING", (string?)JsonNode.Parse(ping.Body)!["triggerEvent"]);
        Assert.Equal(SignatureResult.Valid, WebhookSignature.Verify(ping.Body, ping.Signature, [Encoding.UTF8.GetBytes(secret!)]));
        Assert.Contains("→ 200", run.Stdout, StringComparison.Ordinal);
        // Cal.com was given the secret: it is not printed, nor the key.
        Assert.DoesNotContain(secret!, run.All, StringComparison.Ordinal);
        Assert.DoesNotContain(Key, run.All, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Event_types_of_a_team_get_one_team_event_type_webhook_each_and_personal_event_types_their_own_scope()
    {
        var team = OnboardingHarness.NewId("team");
        var personal = OnboardingHarness.NewId("solo");

        var teamRun = await Run("add", team, "--company", "c-1", "--api-key", Key, "--team", "42", "--event-type", "101", "--event-type", "102", "--register", "--url", _service.Url.AbsoluteUri);
        var personalRun = await Run("add", personal, "--company", "c-2", "--api-key", Key, "--event-type", "201", "--register", "--url", _service.Url.AbsoluteUri);

        Assert.True(teamRun.ExitCode == 0, teamRun.ToString());
        Assert.True(personalRun.ExitCode == 0, personalRun.ToString());
        Assert.Equal(["/v2/teams/42/event-types/101/webhooks", "/v2/teams/42/event-types/102/webhooks", "/v2/event-types/201/webhooks"], _api.Webhooks.Select(w => w.Scope));
        var entry = await _cli.Registry.GetAsync(team, default);
        Assert.Equal(string.Join(',', _api.Webhooks.Take(2).Select(w => w.Id)), entry!.CalcomWebhookId);
        Assert.Equal([101L, 102L], entry.EventTypeIds);
        Assert.Equal(42L, entry.TeamId);
        Assert.Equal(2, _service.Deliveries.Count);
    }

    [Fact]
    public async Task A_subscriber_URL_Cal_com_already_has_is_found_across_pages_and_patched_instead_of_created()
    {
        var id = OnboardingHarness.NewId("again");
        var url = new Uri(_service.Url, $"/api/webhooks/calcom/{id}").AbsoluteUri;
        for (var i = 0; i < 260; i++)
        {
            _api.SeedWebhook("/v2/webhooks", $"https://elsewhere.example/{i}", ["BOOKING_CREATED"]);
        }

        var existing = _api.SeedWebhook("/v2/webhooks", url, ["BOOKING_CREATED"], active: false, secret: "an-old-secret-set-by-hand-in-the-ui");

        var run = await Run("add", id, "--company", "c-3", "--api-key", Key, "--register", "--url", _service.Url.AbsoluteUri);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(261, _api.Webhooks.Count);
        var patched = _api.Webhooks.Single(w => w.Id == existing.Id);
        Assert.True(patched.Active);
        Assert.Equal(TenantAdmin.Triggers.Order(), patched.Triggers.Order());
        Assert.Equal(await _cli.Secrets.GetAsync(TenantSecretNames.Webhook(id, 0), default), patched.Secret);
        Assert.Contains("updated (it existed)", run.Stdout, StringComparison.Ordinal);
        Assert.Contains(_api.Requests, r => r.Contains("skip=250", StringComparison.Ordinal));
        Assert.Equal(existing.Id, (await _cli.Registry.GetAsync(id, default))!.CalcomWebhookId);
    }

    [Fact]
    public async Task A_refused_key_exits_1_naming_the_status_and_Cal_com_s_code_without_the_key_and_register_retries_with_a_new_key()
    {
        var id = OnboardingHarness.NewId("refused");
        const string wrong = "cal_live_this-key-is-wrong-0123456789abcdef";

        var run = await Run("add", id, "--company", "c-5", "--api-key", wrong, "--register", "--url", _service.Url.AbsoluteUri);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("401", run.Stderr, StringComparison.Ordinal);
        Assert.Contains("UnauthorizedException", run.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(wrong, run.All, StringComparison.Ordinal);
        Assert.Empty(_api.Webhooks);
        Assert.Empty(_service.Deliveries);
        Assert.Null((await _cli.Registry.GetAsync(id, default))!.CalcomWebhookId);

        // The key read from standard input, as the docs advise: out of shell history and the process list.
        var retry = await _cli.RunAsync(Key + "\n", "register", id, "--url", _service.Url.AbsoluteUri, "--api-key", "-");
        output.WriteLine(retry.ToString());

        Assert.True(retry.ExitCode == 0, retry.ToString());
        Assert.Single(_api.Webhooks);
        Assert.DoesNotContain(Key, retry.All, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_ping_that_does_not_get_200_exits_1()
    {
        _service.Status = 404;

        var run = await Run("add", OnboardingHarness.NewId("noroute"), "--company", "c-6", "--api-key", Key, "--register", "--url", _service.Url.AbsoluteUri);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("→ 404", run.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rotation_without_Cal_com_prints_the_new_secret_once_keeps_both_until_finish_then_the_old_retires_in_15_minutes()
    {
        var id = OnboardingHarness.NewId("manual");
        var added = await Run("add", id, "--company", "c-7");
        Assert.True(added.ExitCode == 0, added.ToString());
        var first = await _cli.Secrets.GetAsync(TenantSecretNames.Webhook(id, 0), default);
        Assert.Contains($"webhook secret {TenantSecretNames.Webhook(id, 0)} (shown once", added.Stdout, StringComparison.Ordinal);
        Assert.Single(Occurrences(added.Stdout, first!));

        var rotated = await Run("rotate-secret", id);

        Assert.True(rotated.ExitCode == 0, rotated.ToString());
        var second = await _cli.Secrets.GetAsync(TenantSecretNames.Webhook(id, 1), default);
        Assert.NotEqual(first, second);
        Assert.Single(Occurrences(rotated.Stdout, second!));
        var entry = (await _cli.Registry.GetAsync(id, default))!;
        Assert.Equal([TenantSecretNames.Webhook(id, 0), TenantSecretNames.Webhook(id, 1)], entry.WebhookSecrets.Select(s => s.Name));
        Assert.All(entry.WebhookSecrets, s => Assert.Null(s.RetiresAt));

        var before = DateTimeOffset.UtcNow;
        var finished = await Run("rotate-secret", id, "--finish");

        Assert.True(finished.ExitCode == 0, finished.ToString());
        entry = (await _cli.Registry.GetAsync(id, default))!;
        var old = entry.WebhookSecrets.Single(s => s.Name == TenantSecretNames.Webhook(id, 0));
        Assert.InRange(old.RetiresAt!.Value, before + TenantAdmin.RetireAfter - TimeSpan.FromSeconds(1), DateTimeOffset.UtcNow + TenantAdmin.RetireAfter);
        Assert.Null(entry.WebhookSecrets.Single(s => s.Name == TenantSecretNames.Webhook(id, 1)).RetiresAt);

        var again = await Run("rotate-secret", id, "--finish");
        Assert.Equal(1, again.ExitCode);
    }

    [Fact]
    public async Task Rotation_with_a_registered_webhook_patches_Cal_com_with_the_new_secret_and_retires_the_old_without_printing_either()
    {
        var id = OnboardingHarness.NewId("auto");
        var added = await Run("add", id, "--company", "c-8", "--api-key", Key, "--register", "--url", _service.Url.AbsoluteUri);
        Assert.True(added.ExitCode == 0, added.ToString());

        var before = DateTimeOffset.UtcNow;
        var rotated = await Run("rotate-secret", id);

        Assert.True(rotated.ExitCode == 0, rotated.ToString());
        // Cal.com gets the new secret only after the service's refresh (2 s here) and a margin: it does not re-send a 401.
        Assert.True(DateTimeOffset.UtcNow - before >= TimeSpan.FromSeconds(7), $"rotated in {DateTimeOffset.UtcNow - before}");
        var second = await _cli.Secrets.GetAsync(TenantSecretNames.Webhook(id, 1), default);
        Assert.Equal(second, Assert.Single(_api.Webhooks).Secret);
        Assert.DoesNotContain(second!, rotated.All, StringComparison.Ordinal);
        var entry = (await _cli.Registry.GetAsync(id, default))!;
        Assert.True(entry.WebhookSecrets.Single(s => s.Name == TenantSecretNames.Webhook(id, 0)).RetiresAt >= before + TenantAdmin.RetireAfter - TimeSpan.FromSeconds(1));
        Assert.Null(entry.WebhookSecrets.Single(s => s.Name == TenantSecretNames.Webhook(id, 1)).RetiresAt);
    }

    [Fact]
    public async Task Disable_turns_the_entry_off_and_unknown_existing_or_invalid_ids_exit_non_zero_without_changes()
    {
        var id = OnboardingHarness.NewId("gone");
        Assert.Equal(0, (await Run("add", id, "--company", "c-9")).ExitCode);
        var before = (await _cli.Registry.GetAsync(id, default))!;

        Assert.Equal(1, (await Run("add", id, "--company", "another")).ExitCode);
        var after = (await _cli.Registry.GetAsync(id, default))!;
        Assert.Equal((before.UpdatedAt, before.CompanyId), (after.UpdatedAt, after.CompanyId));
        Assert.Equal(TenantSecretNames.Webhook(id, 0), Assert.Single(before.WebhookSecrets).Name);

        var disabled = await Run("disable", id);
        Assert.True(disabled.ExitCode == 0, disabled.ToString());
        Assert.False((await _cli.Registry.GetAsync(id, default))!.Enabled);

        var list = await Run("list");
        Assert.Equal(0, list.ExitCode);
        Assert.Contains($"{id}  disabled  company c-9", list.Stdout, StringComparison.Ordinal);

        Assert.Equal(1, (await Run("disable", OnboardingHarness.NewId("unknown"))).ExitCode);
        Assert.Equal(1, (await Run("rotate-secret", OnboardingHarness.NewId("unknown"))).ExitCode);
        Assert.Equal(2, (await Run("add", "Calcom", "--company", "c")).ExitCode);
        Assert.Equal(2, (await Run("add", "reconciliation", "--company", "c")).ExitCode);
        Assert.Equal(2, (await Run("add", OnboardingHarness.NewId("x"))).ExitCode);
        Assert.Equal(2, (await Run("add", OnboardingHarness.NewId("x"), "--company", "c", "--register")).ExitCode);
        Assert.Equal(2, (await Run("frobnicate")).ExitCode);
        Assert.Equal(2, (await Run("disable", id, "--finish")).ExitCode);
    }

    private static IEnumerable<int> Occurrences(string text, string value)
    {
        for (var i = text.IndexOf(value, StringComparison.Ordinal); i >= 0; i = text.IndexOf(value, i + 1, StringComparison.Ordinal))
        {
            yield return i;
        }
    }
}
