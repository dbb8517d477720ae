using AskPro.Functions.Reconciliation;
using AskPro.Functions.Webhooks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AskPro.Functions.Tenants;

/// <summary>
/// Tenants declared in configuration (<c>Tenants__{id}__…</c>), for local runs, tests and small deployments
/// (docs/tenants.md#declaring-tenants-in-configuration). Values are bound as text and checked per tenant, so one
/// broken tenant (a bad URL, a short secret, an unresolved Key Vault reference) never stops the others or the app.
/// </summary>
public sealed class TenantsOptions
{
    public const string Section = "Tenants";

    public Dictionary<string, TenantSettings> Tenants { get; } = new(StringComparer.Ordinal);
}

/// <summary>One configured tenant, as text; <see cref="TenantSettingsCheck"/> turns it into a <see cref="Tenant"/>.</summary>
public sealed class TenantSettings
{
    /// <summary><c>Tenants__{id}__WebhookSecrets__0</c>, <c>__1</c>, …: any of them verifies (rotation).</summary>
    public List<string> WebhookSecrets { get; } = [];

    public TenantCalcomSettings Calcom { get; } = new();

    /// <summary><c>Tenants__{id}__EventTypeIds__0</c>, …: the tenant's scope by event type.</summary>
    public List<string> EventTypeIds { get; } = [];

    public string? TeamId { get; set; }

    public string? CompanyId { get; set; }

    /// <summary><c>Tenants__{id}__Enabled</c>: <c>false</c> answers its route 404 and stops its reconciliation.</summary>
    public string? Enabled { get; set; }
}

public sealed class TenantCalcomSettings
{
    public string? ApiKey { get; set; }

    public string? ApiBaseUrl { get; set; }
}

/// <summary>A configured tenant's settings checked: the tenant (null when it cannot be served) and what is wrong, by setting name (never a value).</summary>
public sealed record TenantCheck(string Id, Tenant? Tenant, IReadOnlyList<string> Problems);

/// <summary>Pure: checks one configured tenant by the same rules as the default tenant's settings.</summary>
public static class TenantSettingsCheck
{
    public static TenantCheck Check(string id, TenantSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var problems = new List<string>();
        var prefix = $"{TenantsOptions.Section}__{id}__";
        if (!TenantIds.IsDeclarable(id))
        {
            problems.Add($"{prefix}… is not a tenant: an id is 1–{TenantIds.MaxLength} lowercase letters, digits and '-', and not one of default, {string.Join(", ", TenantIds.Reserved.Order(StringComparer.Ordinal))}");
            return new TenantCheck(id, null, problems);
        }

        var keys = new List<byte[]>();
        for (var i = 0; i < settings.WebhookSecrets.Count; i++)
        {
            var secret = settings.WebhookSecrets[i];
            if (WebhookOptions.Problem(secret) is { } problem)
            {
                problems.Add($"{prefix}WebhookSecrets__{i} {problem}");
            }
            else if (WebhookOptions.Usable(secret) is { } usable)
            {
                keys.Add(System.Text.Encoding.UTF8.GetBytes(usable));
            }
        }

        if (keys.Count == 0)
        {
            problems.Add($"{prefix}WebhookSecrets__0 has no usable value: every delivery to this tenant's route gets 401");
        }

        string? apiKey = null;
        if (!string.IsNullOrWhiteSpace(settings.Calcom.ApiKey))
        {
            if (CalcomApiOptions.IsUnresolvedReference(settings.Calcom.ApiKey))
            {
                problems.Add($"{prefix}Calcom__ApiKey is an unresolved Key Vault reference: reconciliation is off for this tenant");
            }
            else
            {
                apiKey = settings.Calcom.ApiKey.Trim();
            }
        }

        Uri? baseUrl = null;
        if (!string.IsNullOrWhiteSpace(settings.Calcom.ApiBaseUrl))
        {
            if (Uri.TryCreate(settings.Calcom.ApiBaseUrl, UriKind.Absolute, out var parsed) && parsed.Scheme is "https" or "http")
            {
                baseUrl = parsed;
            }
            else
            {
                problems.Add($"{prefix}Calcom__ApiBaseUrl is not an absolute http(s) URL: reconciliation is off for this tenant");
                apiKey = null;
            }
        }

        var eventTypes = new List<long>();
        for (var i = 0; i < settings.EventTypeIds.Count; i++)
        {
            if (long.TryParse(settings.EventTypeIds[i], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var eventType))
            {
                eventTypes.Add(eventType);
            }
            else if (!string.IsNullOrWhiteSpace(settings.EventTypeIds[i]))
            {
                problems.Add($"{prefix}EventTypeIds__{i} is not a number: the tenant is not served until its scope is right");
                return new TenantCheck(id, null, problems);
            }
        }

        long? teamId = null;
        if (!string.IsNullOrWhiteSpace(settings.TeamId))
        {
            if (!long.TryParse(settings.TeamId, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var team))
            {
                problems.Add($"{prefix}TeamId is not a number: the tenant is not served until its scope is right");
                return new TenantCheck(id, null, problems);
            }

            teamId = team;
        }

        var enabled = true;
        if (!string.IsNullOrWhiteSpace(settings.Enabled) && !bool.TryParse(settings.Enabled, out enabled))
        {
            problems.Add($"{prefix}Enabled is neither true nor false: the tenant is treated as disabled");
            enabled = false;
        }

        return new TenantCheck(id, new Tenant
        {
            Id = id,
            CompanyId = string.IsNullOrWhiteSpace(settings.CompanyId) ? null : settings.CompanyId.Trim(),
            Enabled = enabled,
            SecretKeys = keys,
            ApiKey = apiKey,
            ApiBaseUrl = baseUrl,
            EventTypeIds = eventTypes,
            TeamId = teamId,
        }, problems);
    }
}

/// <summary>
/// The tenant directory of configuration alone: the default tenant from today's settings and every
/// <c>Tenants__{id}__…</c> tenant, checked once. Answers from memory.
/// </summary>
public sealed partial class ConfiguredTenants : ITenantDirectory
{
    private readonly Dictionary<string, Tenant> _tenants = new(StringComparer.Ordinal);
    private readonly IReadOnlyList<Tenant> _enabled;

    public ConfiguredTenants(IOptions<TenantsOptions> tenants, IOptions<WebhookOptions> webhook, IOptions<CalcomApiOptions> api, ILogger<ConfiguredTenants> logger)
    {
        ArgumentNullException.ThrowIfNull(tenants);
        ArgumentNullException.ThrowIfNull(webhook);
        ArgumentNullException.ThrowIfNull(api);
        Default = new Tenant
        {
            Id = TenantIds.Default,
            SecretKeys = webhook.Value.SecretKeys,
            ApiKey = api.Value.IsEnabled ? api.Value.ApiKey!.Trim() : null,
        };
        Checks = [.. tenants.Value.Tenants.OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => TenantSettingsCheck.Check(t.Key, t.Value))];
        foreach (var check in Checks)
        {
            foreach (var problem in check.Problems)
            {
                Log.TenantProblem(logger, check.Id, problem);
            }

            if (check.Tenant is { } tenant)
            {
                _tenants[tenant.Id] = tenant;
            }
        }

        _enabled = [Default, .. _tenants.Values.Where(t => t.Enabled).OrderBy(t => t.Id, StringComparer.Ordinal)];
        Log.Configured(logger, _tenants.Count, _tenants.Values.Count(t => !t.Enabled));
    }

    public Tenant Default { get; }

    /// <summary>What was found wrong with each configured tenant (for the start-up log and tests).</summary>
    public IReadOnlyList<TenantCheck> Checks { get; }

    /// <summary>The configured tenant with this id, enabled or not (the registry lets configuration win over its entries).</summary>
    public Tenant? Declared(string id) => id == TenantIds.Default ? Default : _tenants.GetValueOrDefault(id);

    public ValueTask<Tenant?> FindAsync(string id, CancellationToken ct) =>
        ValueTask.FromResult(Declared(id) is { Enabled: true } tenant ? tenant : null);

    public ValueTask<IReadOnlyList<Tenant>> AllAsync(CancellationToken ct) => ValueTask.FromResult(_enabled);

    private static partial class Log
    {
        [LoggerMessage(EventId = 8200, Level = LogLevel.Error, Message = "Tenant {TenantId}: {Problem}")]
        public static partial void TenantProblem(ILogger logger, string tenantId, string problem);

        [LoggerMessage(EventId = 8201, Level = LogLevel.Information, Message = "{Tenants} tenant(s) configured besides the default ({Disabled} disabled)")]
        public static partial void Configured(ILogger logger, int tenants, int disabled);
    }
}
