using Azure;
using Azure.Core;
using Azure.Identity;
using Azure.Security.KeyVault.Secrets;

namespace AskPro.Functions.Tenants.Registry;

/// <summary>
/// Tenant secrets in Azure Key Vault (<c>TenantRegistry__KeyVaultUri</c>): a thin shell over <see cref="SecretClient"/>.
/// The SDK's request logging is off, as for the storage clients: values never reach a log.
/// </summary>
public sealed class KeyVaultTenantSecretStore(SecretClient client) : ITenantSecretStore
{
    public Task SetAsync(string name, string value, CancellationToken ct) => client.SetSecretAsync(name, value, ct);

    /// <summary>The current version's value; null when the secret does not exist or is disabled.</summary>
    public async Task<string?> GetAsync(string name, CancellationToken ct)
    {
        try
        {
            var response = await client.GetSecretAsync(name, cancellationToken: ct);
            return response.Value.Value;
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return null;
        }
        catch (RequestFailedException ex) when (ex.Status == 403 && ex.ErrorCode == "Forbidden" && ex.Message.Contains("SecretDisabled", StringComparison.Ordinal))
        {
            return null;
        }
    }

    /// <summary>Starts the deletion (soft delete: the name stays taken until purged, which is why rotation names count up).</summary>
    public async Task DeleteAsync(string name, CancellationToken ct)
    {
        try
        {
            await client.StartDeleteSecretAsync(name, ct);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            // Already gone.
        }
    }

    /// <summary>The client the app uses: short retries (a delivery may wait on a first read), no request or content logging.</summary>
    public static SecretClient CreateClient(Uri vaultUri, TokenCredential credential, SecretClientOptions? options = null) =>
        new(vaultUri, credential, Configure(options ?? new SecretClientOptions()));

    /// <summary>
    /// The same identity rule as the storage clients (Storage/StorageClients.cs): exactly the configured user-assigned
    /// identity in Azure (<c>AzureWebJobsStorage__clientId</c>), the developer's own sign-in elsewhere.
    /// </summary>
    public static TokenCredential CredentialFor(string? managedIdentityClientId) =>
        !string.IsNullOrWhiteSpace(managedIdentityClientId)
            ? new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(managedIdentityClientId))
            : new DefaultAzureCredential(new DefaultAzureCredentialOptions { ExcludeManagedIdentityCredential = true, ExcludeWorkloadIdentityCredential = true });

    internal static SecretClientOptions Configure(SecretClientOptions options)
    {
        options.Retry.Mode = RetryMode.Exponential;
        options.Retry.MaxRetries = 2;
        options.Retry.Delay = TimeSpan.FromMilliseconds(200);
        options.Retry.MaxDelay = TimeSpan.FromSeconds(1);
        options.Retry.NetworkTimeout = TimeSpan.FromSeconds(5);
        options.Diagnostics.IsLoggingEnabled = false;
        options.Diagnostics.IsLoggingContentEnabled = false;
        return options;
    }
}
