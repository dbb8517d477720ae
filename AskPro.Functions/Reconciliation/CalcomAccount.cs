using System.Security.Cryptography;
using System.Text;
using AskPro.Functions.Tenants;

namespace AskPro.Functions.Reconciliation;

/// <summary>
/// What one tenant reads Cal.com with: its API key and base URL (docs/reconciliation.md#per-tenant). The key travels
/// per request on the one <c>IHttpClientFactory</c> client; <see cref="KeyId"/> names the key's own rate-limit budget.
/// Never prints the key.
/// </summary>
public sealed record CalcomAccount
{
    public CalcomAccount(string tenantId, string apiKey, Uri baseUrl)
    {
        ArgumentException.ThrowIfNullOrEmpty(tenantId);
        ArgumentException.ThrowIfNullOrEmpty(apiKey);
        ArgumentNullException.ThrowIfNull(baseUrl);
        TenantId = tenantId;
        ApiKey = apiKey;
        BaseUrl = baseUrl;
        // A truncated SHA-256: names the key (its limiter, its resilience pipeline) without revealing it.
        KeyId = "key-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(apiKey)))[..16];
    }

    public string TenantId { get; }

    public string ApiKey { get; }

    public Uri BaseUrl { get; }

    /// <summary>Stands for the key wherever a name is needed (two tenants sharing one key share its budget, as Cal.com counts per key).</summary>
    public string KeyId { get; }

    /// <summary>The setting an operator fixes when Cal.com refuses the key.</summary>
    public string KeySetting => KeySettingOf(TenantId);

    /// <summary>The setting that holds <paramref name="tenantId"/>'s key: <c>Calcom__ApiKey</c> for the default tenant, else <c>Tenants__{id}__Calcom__ApiKey</c>.</summary>
    public static string KeySettingOf(string tenantId) =>
        tenantId == TenantIds.Default ? $"{CalcomApiOptions.Section}__ApiKey" : $"{TenantsOptions.Section}__{tenantId}__{CalcomApiOptions.Section}__ApiKey";

    /// <summary>The tenant's account: its key, and its base URL or the service's; null when the tenant has no key (reconciliation is off for it).</summary>
    public static CalcomAccount? Of(Tenant tenant, CalcomApiOptions options)
    {
        ArgumentNullException.ThrowIfNull(tenant);
        ArgumentNullException.ThrowIfNull(options);
        return tenant.ApiKey is { Length: > 0 } key ? new CalcomAccount(tenant.Id, key, tenant.ApiBaseUrl ?? options.ApiBaseUrl) : null;
    }

    /// <summary>True when this is the service's own key (<c>Calcom__ApiKey</c>): it keeps the client's default pipeline, so one limiter per key.</summary>
    public bool IsDefaultKey(CalcomApiOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return string.Equals(options.ApiKey?.Trim(), ApiKey, StringComparison.Ordinal);
    }

    public override string ToString() => $"CalcomAccount {TenantId} ({KeyId}) at {BaseUrl}";
}
