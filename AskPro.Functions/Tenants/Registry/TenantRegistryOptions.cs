namespace AskPro.Functions.Tenants.Registry;

/// <summary>Settings section <c>TenantRegistry</c> (app settings <c>TenantRegistry__…</c>).</summary>
public sealed class TenantRegistryOptions
{
    public const string Section = "TenantRegistry";
    public static readonly TimeSpan DefaultRefreshInterval = TimeSpan.FromSeconds(30);
    public const int LocalKeyBytes = 32;

    /// <summary><c>TenantRegistry__Enabled</c>: serve the tenants of the registry table next to the configured ones.</summary>
    public bool Enabled { get; set; }

    /// <summary><c>TenantRegistry__KeyVaultUri</c>: the vault holding tenant secrets (Azure). Wins over a local key.</summary>
    public string? KeyVaultUri { get; set; }

    /// <summary>
    /// <c>TenantRegistry__LocalSecretsKey</c>: 32 random bytes, Base64 (<c>openssl rand -base64 32</c>), encrypting the
    /// table <c>TenantSecrets</c> where no vault is configured (local runs on Azurite).
    /// </summary>
    public string? LocalSecretsKey { get; set; }

    /// <summary><c>TenantRegistry__RefreshInterval</c> (e.g. <c>00:00:30</c>): how often the whole registry is re-read.</summary>
    public TimeSpan RefreshInterval { get; set; } = DefaultRefreshInterval;

    /// <summary>Which secret store the settings choose, or why none can be used (a reason never holds a value).</summary>
    public SecretStoreChoice ChooseSecretStore()
    {
        if (!string.IsNullOrWhiteSpace(KeyVaultUri))
        {
            return Uri.TryCreate(KeyVaultUri.Trim(), UriKind.Absolute, out var vault) && vault.Scheme == Uri.UriSchemeHttps
                ? new SecretStoreChoice(SecretStoreKind.KeyVault, vault, null, null)
                : new SecretStoreChoice(SecretStoreKind.None, null, null, "TenantRegistry__KeyVaultUri is not an https URL (https://{vault}.vault.azure.net/)");
        }

        if (string.IsNullOrWhiteSpace(LocalSecretsKey))
        {
            return new SecretStoreChoice(SecretStoreKind.None, null, null,
                "neither TenantRegistry__KeyVaultUri (Azure) nor TenantRegistry__LocalSecretsKey (local runs) is set");
        }

        var key = new byte[LocalKeyBytes + 1];
        return Convert.TryFromBase64String(LocalSecretsKey.Trim(), key, out var length) && length == LocalKeyBytes
            ? new SecretStoreChoice(SecretStoreKind.Local, null, key[..LocalKeyBytes], null)
            : new SecretStoreChoice(SecretStoreKind.None, null, null, $"TenantRegistry__LocalSecretsKey is not {LocalKeyBytes} bytes in Base64 (openssl rand -base64 32)");
    }

    /// <summary>Why the refresh interval cannot be used, or null.</summary>
    public string? RefreshIntervalProblem() =>
        RefreshInterval < TimeSpan.FromSeconds(1) || RefreshInterval > TimeSpan.FromMinutes(1)
            ? "TenantRegistry__RefreshInterval must be between 00:00:01 and 00:01:00 (changes must take effect within a minute)"
            : null;
}

public enum SecretStoreKind
{
    None,
    KeyVault,
    Local,
}

/// <summary>The secret store the settings choose: the vault URI or the local key, or the reason there is none.</summary>
public sealed record SecretStoreChoice(SecretStoreKind Kind, Uri? VaultUri, byte[]? LocalKey, string? Problem)
{
    /// <summary>Never prints the key.</summary>
    public override string ToString() => Problem is null ? $"{Kind} secret store" : $"no secret store: {Problem}";
}
