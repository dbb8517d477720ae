using System.Globalization;
using System.Security.Cryptography;
using AskPro.Functions.Calcom;
using AskPro.Functions.Calcom.Webhooks;
using AskPro.Functions.Reconciliation;
using AskPro.Functions.Tenants.Registry;

namespace AskPro.Functions.Tenants.Admin;

/// <summary>What <c>tools/tenant.sh add</c> asks for. <see cref="ApiKey"/> is a secret: it goes to the secret store only.</summary>
public sealed record NewTenant(string Id, string CompanyId)
{
    public string? ApiKey { get; init; }
    public IReadOnlyList<long> EventTypeIds { get; init; } = [];
    public long? TeamId { get; init; }
    public Uri? ApiBaseUrl { get; init; }

    /// <summary>Never prints the API key.</summary>
    public override string ToString() => $"new tenant {Id}";
}

/// <summary>A webhook secret generated here: its name in the store and its value (shown once, never logged).</summary>
public sealed record GeneratedSecret(string Name, string Value)
{
    /// <summary>Never prints the value.</summary>
    public override string ToString() => $"secret {Name}";
}

/// <summary>The webhooks registered for a tenant: one per scope, and the URL Cal.com now posts to.</summary>
public sealed record Registration(Uri SubscriberUrl, IReadOnlyList<(CalcomWebhookScope Scope, CalcomWebhookResult Result)> Webhooks);

/// <summary>What a rotation did: the new secret, and whether Cal.com was updated (then older secrets retire at <see cref="OlderRetireAt"/>).</summary>
public sealed record Rotation(TenantEntry Entry, GeneratedSecret Secret, bool CalcomUpdated, DateTimeOffset? OlderRetireAt);

/// <summary>An operation that cannot be done as asked (unknown tenant, id taken, nothing to finish): exit code 1, the message says why.</summary>
public sealed class TenantAdminException(string message, Exception? inner = null) : Exception(message, inner)
{
    public TenantAdminException() : this("tenant operation failed") { }
}

/// <summary>
/// The operations behind <c>tools/tenant.sh</c> (docs/onboarding.md#the-operations): an I/O shell over the registry
/// table, the secret store and the practice's Cal.com. Secrets are generated here, go to the store and come back to the
/// caller once (to print when Cal.com is not told by this tool); the registry holds their names only.
/// </summary>
public sealed class TenantAdmin(TenantRegistry registry, ITenantSecretStore secrets, CalcomWebhookClient calcom, TimeProvider time, Uri calcomApiBaseUrl)
{
    /// <summary>How long older secrets stay accepted after Cal.com got the new one: its queued deliveries and retries run about ten minutes.</summary>
    public static readonly TimeSpan RetireAfter = TimeSpan.FromMinutes(15);

    /// <summary>
    /// How long after a new secret is in the registry until every instance of the service accepts it: its refresh
    /// interval and a margin. A rotation waits this long before Cal.com gets the secret, since Cal.com does not re-send
    /// a delivery answered 401 (docs/tenants.md#rotating-a-secret). The CLI sets it from <c>TenantRegistry__RefreshInterval</c>.
    /// </summary>
    public TimeSpan ServedWithin { get; init; } = TenantRegistryOptions.DefaultRefreshInterval + TimeSpan.FromSeconds(5);

    /// <summary>
    /// The triggers a registered webhook subscribes to: the catalogue's applied rows Cal.com sends (seed-only rows such
    /// as BOOKING_CONFIRMED are not Cal.com triggers and would be refused).
    /// </summary>
    public static IReadOnlyList<string> Triggers { get; } =
        [.. TriggerCatalogue.All.Where(t => t.IsApplied && !t.Has(TriggerFlags.SeedOnly)).Select(t => t.Name)];

    /// <summary>The URL of a tenant's webhook on a service: <c>{serviceUrl}/api/webhooks/calcom/{id}</c>.</summary>
    public static Uri SubscriberUrl(Uri serviceUrl, string tenantId)
    {
        ArgumentNullException.ThrowIfNull(serviceUrl);
        return new Uri(serviceUrl.AbsoluteUri.TrimEnd('/') + "/api/webhooks/calcom/" + tenantId);
    }

    /// <summary>64 lowercase hex characters from 32 random bytes.</summary>
    public static string NewSecretValue() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));

    /// <summary>
    /// Creates the tenant: claims the id with a disabled entry (insert-only, so an existing tenant is never touched),
    /// stores the generated webhook secret (and the API key), then enables the entry naming them.
    /// </summary>
    public async Task<(TenantEntry Entry, GeneratedSecret Secret)> AddAsync(NewTenant tenant, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(tenant);
        if (!TenantIds.IsDeclarable(tenant.Id))
        {
            throw new TenantAdminException($"'{tenant.Id}' cannot be a tenant id: lowercase letters, digits and '-', 1–{TenantIds.MaxLength} characters, not '{TenantIds.Default}' or one of {string.Join(", ", TenantIds.Reserved.Order(StringComparer.Ordinal))}");
        }

        if (string.IsNullOrWhiteSpace(tenant.CompanyId))
        {
            throw new TenantAdminException("--company is required: the AskPro company id of the practice");
        }

        if (tenant.ApiKey is { } key && string.IsNullOrWhiteSpace(key))
        {
            throw new TenantAdminException("--api-key is empty");
        }

        var claim = new TenantEntry
        {
            Id = tenant.Id,
            CompanyId = tenant.CompanyId.Trim(),
            Enabled = false,
            EventTypeIds = tenant.EventTypeIds,
            TeamId = tenant.TeamId,
            ApiBaseUrl = tenant.ApiBaseUrl,
        };
        if (!await registry.CreateAsync(claim, ct))
        {
            throw new TenantAdminException($"tenant {tenant.Id} exists already (tools/tenant.sh list); nothing changed");
        }

        var secret = new GeneratedSecret(TenantSecretNames.Webhook(tenant.Id, 0), NewSecretValue());
        await secrets.SetAsync(secret.Name, secret.Value, ct);
        string? apiKeyName = null;
        if (tenant.ApiKey is not null)
        {
            apiKeyName = TenantSecretNames.ApiKey(tenant.Id);
            await secrets.SetAsync(apiKeyName, tenant.ApiKey.Trim(), ct);
        }

        var entry = await registry.ChangeAsync(tenant.Id, e => e with { Enabled = true, WebhookSecrets = [new TenantSecretRef(secret.Name)], ApiKeySecret = apiKeyName }, ct)
            ?? throw new TenantAdminException($"tenant {tenant.Id} vanished from the registry while it was being added");
        return (entry, secret);
    }

    /// <summary>Every registered tenant, by id.</summary>
    public async Task<IReadOnlyList<TenantEntry>> ListAsync(CancellationToken ct) =>
        [.. (await registry.ListAsync(ct)).OrderBy(e => e.Id, StringComparer.Ordinal)];

    /// <summary>
    /// Creates (or brings up to date) the tenant's webhook in its Cal.com, one per scope, signed with its newest secret,
    /// and remembers the webhook ids in the entry. <paramref name="apiKey"/>, when given, replaces the stored key first.
    /// </summary>
    public async Task<(TenantEntry Entry, Registration Registration, GeneratedSecret Secret)> RegisterAsync(string id, Uri serviceUrl, string? apiKey, CancellationToken ct)
    {
        var entry = await FindAsync(id, ct);
        if (apiKey is not null)
        {
            await secrets.SetAsync(TenantSecretNames.ApiKey(id), apiKey.Trim(), ct);
            entry = await registry.ChangeAsync(id, e => e with { ApiKeySecret = TenantSecretNames.ApiKey(id) }, ct) ?? entry;
        }

        var account = await AccountAsync(entry, ct)
            ?? throw new TenantAdminException($"tenant {id} has no Cal.com API key: give --api-key to register its webhook");
        var newest = Newest(entry) ?? throw new TenantAdminException($"tenant {id} has no webhook secret");
        var value = await secrets.GetAsync(newest.Name, ct)
            ?? throw new TenantAdminException($"the secret store has no {newest.Name} (tenant {id}'s newest webhook secret)");
        var url = SubscriberUrl(serviceUrl, id);
        var spec = new CalcomWebhookSpec(url, Triggers, value);
        var webhooks = new List<(CalcomWebhookScope, CalcomWebhookResult)>();
        foreach (var scope in CalcomWebhookScope.For(entry.EventTypeIds, entry.TeamId))
        {
            webhooks.Add((scope, await calcom.UpsertAsync(account, scope, spec, ct)));
        }

        var ids = string.Join(',', webhooks.Select(w => w.Item2.Webhook.Id));
        entry = await registry.ChangeAsync(id, e => e with { CalcomWebhookId = ids }, ct) ?? entry;
        return (entry, new Registration(url, webhooks), new GeneratedSecret(newest.Name, value));
    }

    /// <summary>
    /// Adds the next webhook secret, accepted alongside the current ones. With a registered webhook and an API key,
    /// Cal.com gets it by PATCH and the older secrets retire <see cref="RetireAfter"/> from now; otherwise they stay until
    /// <see cref="FinishRotationAsync"/> (after the operator has put the new secret into Cal.com).
    /// Secrets retired earlier are removed from the entry and the store.
    /// </summary>
    public async Task<Rotation> RotateAsync(string id, CancellationToken ct)
    {
        var entry = await FindAsync(id, ct);
        var now = time.GetUtcNow();
        var gone = entry.WebhookSecrets.Where(s => s.RetiresAt <= now).ToList();
        var next = entry.WebhookSecrets.Select(s => IndexOf(id, s.Name)).DefaultIfEmpty(-1).Max() + 1;
        var secret = new GeneratedSecret(TenantSecretNames.Webhook(id, next), NewSecretValue());
        await secrets.SetAsync(secret.Name, secret.Value, ct);
        entry = await registry.ChangeAsync(id, e => e with
        {
            WebhookSecrets = [.. e.WebhookSecrets.Where(s => !(s.RetiresAt <= now)), new TenantSecretRef(secret.Name)],
        }, ct) ?? throw new TenantAdminException($"tenant {id} vanished from the registry during the rotation");
        foreach (var old in gone)
        {
            await secrets.DeleteAsync(old.Name, ct);
        }

        if (entry.CalcomWebhookId is not { Length: > 0 } webhookIds || await AccountAsync(entry, ct) is not { } account)
        {
            return new Rotation(entry, secret, CalcomUpdated: false, OlderRetireAt: null);
        }

        var scopes = CalcomWebhookScope.For(entry.EventTypeIds, entry.TeamId);
        var ids = webhookIds.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (ids.Length != scopes.Count)
        {
            throw new TenantAdminException($"tenant {id} names {ids.Length} Cal.com webhook(s) for {scopes.Count} scope(s): register it again (tools/tenant.sh register {id} --url …); the new secret {secret.Name} is accepted alongside the old ones");
        }

        // Cal.com signs with the new secret from the PATCH on: only once the service accepts it.
        await Task.Delay(ServedWithin, time, ct);
        foreach (var (scope, webhookId) in scopes.Zip(ids))
        {
            await calcom.RotateSecretAsync(account, scope, webhookId, secret.Value, ct);
        }

        var (retired, retireAt) = await RetireOlderAsync(id, secret.Name, ct);
        return new Rotation(retired, secret, CalcomUpdated: true, retireAt);
    }

    /// <summary>Ends a rotation done by hand in Cal.com: every secret but the newest retires <see cref="RetireAfter"/> from now.</summary>
    public async Task<(TenantEntry Entry, DateTimeOffset RetireAt, int Retiring)> FinishRotationAsync(string id, CancellationToken ct)
    {
        var entry = await FindAsync(id, ct);
        var newest = Newest(entry) ?? throw new TenantAdminException($"tenant {id} has no webhook secret");
        var retiring = entry.WebhookSecrets.Count(s => s.Name != newest.Name && s.RetiresAt is null);
        if (retiring == 0)
        {
            throw new TenantAdminException($"tenant {id} has no rotation to finish: {newest.Name} is its only current secret");
        }

        var (changed, at) = await RetireOlderAsync(id, newest.Name, ct);
        return (changed, at, retiring);
    }

    /// <summary>Disables the tenant: its deliveries are answered 404 <c>unknown_tenant</c> and it is not reconciled. Secrets stay (enable is a later step).</summary>
    public async Task<TenantEntry> DisableAsync(string id, CancellationToken ct)
    {
        await FindAsync(id, ct);
        return await registry.ChangeAsync(id, e => e with { Enabled = false }, ct)
            ?? throw new TenantAdminException($"tenant {id} vanished from the registry");
    }

    private async Task<(TenantEntry, DateTimeOffset)> RetireOlderAsync(string id, string keep, CancellationToken ct)
    {
        var at = time.GetUtcNow() + RetireAfter;
        var entry = await registry.ChangeAsync(id, e => e with
        {
            WebhookSecrets = [.. e.WebhookSecrets.Select(s => s.Name == keep || s.RetiresAt is not null ? s : s with { RetiresAt = at })],
        }, ct) ?? throw new TenantAdminException($"tenant {id} vanished from the registry during the rotation");
        return (entry, at);
    }

    private async Task<TenantEntry> FindAsync(string id, CancellationToken ct) =>
        TenantIds.IsDeclarable(id) && await registry.GetAsync(id, ct) is { } entry
            ? entry
            : throw new TenantAdminException($"no registered tenant {id} (tools/tenant.sh list)");

    private async Task<CalcomAccount?> AccountAsync(TenantEntry entry, CancellationToken ct) =>
        entry.ApiKeySecret is { } name && await secrets.GetAsync(name, ct) is { Length: > 0 } key
            ? new CalcomAccount(entry.Id, key, entry.ApiBaseUrl ?? calcomApiBaseUrl)
            : null;

    private static TenantSecretRef? Newest(TenantEntry entry) =>
        entry.WebhookSecrets.OrderByDescending(s => IndexOf(entry.Id, s.Name)).FirstOrDefault();

    /// <summary>The n of <c>tenant-{id}-webhook-{n}</c> (-1 for a name of another shape).</summary>
    private static int IndexOf(string id, string name)
    {
        var prefix = TenantSecretNames.Webhook(id, 0)[..^1];
        return name.StartsWith(prefix, StringComparison.Ordinal) && int.TryParse(name.AsSpan(prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : -1;
    }
}
