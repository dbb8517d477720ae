namespace AskPro.Functions.Tenants;

/// <summary>
/// Where registered tenants' webhook secrets and API keys are kept, by name (<see cref="TenantSecretNames"/>): Key
/// Vault in Azure, an encrypted table locally. Never Table Storage in plain text. Values are never logged.
/// </summary>
public interface ITenantSecretStore
{
    Task SetAsync(string name, string value, CancellationToken ct);

    /// <summary>The value, or null when there is no such secret (or it is disabled).</summary>
    Task<string?> GetAsync(string name, CancellationToken ct);

    Task DeleteAsync(string name, CancellationToken ct);
}

/// <summary>Secret names: Key Vault allows letters, digits and dashes, which is all a tenant id holds.</summary>
public static class TenantSecretNames
{
    /// <summary><c>tenant-{id}-webhook-{n}</c>: n counts up with every rotation, so a name is never reused.</summary>
    public static string Webhook(string tenantId, int n) => $"tenant-{tenantId}-webhook-{n}";

    public static string ApiKey(string tenantId) => $"tenant-{tenantId}-calcom-api-key";
}
