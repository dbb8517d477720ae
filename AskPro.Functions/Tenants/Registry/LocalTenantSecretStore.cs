using System.Security.Cryptography;
using System.Text;
using AskPro.Functions.Storage;
using Azure;
using Azure.Data.Tables;

namespace AskPro.Functions.Tenants.Registry;

/// <summary>
/// Tenant secrets for local runs: the table <c>TenantSecrets</c> (PartitionKey <c>secret</c>, RowKey = name), each value
/// encrypted with AES-GCM under <c>TenantRegistry__LocalSecretsKey</c>, a fresh nonce per value and the name as
/// associated data (a value copied to another name does not decrypt). The table never holds a value in plain text.
/// Errors name the secret and what went wrong, never its value.
/// </summary>
public sealed class LocalTenantSecretStore : ITenantSecretStore
{
    public const string Partition = "secret";
    public const string ValueColumn = "Value";
    /// <summary>A short fingerprint of the key a value was encrypted with, so a wrong key is named as such.</summary>
    public const string KeyIdColumn = "KeyId";

    private const int NonceBytes = 12;
    private const int TagBytes = 16;

    private readonly TableClient _table;
    private readonly byte[] _key;
    private readonly string _keyId;
    private readonly CreateOnce _created;

    public LocalTenantSecretStore(StorageClients storage, byte[] key)
        : this(storage.Tables.GetTableClient(StorageNames.TenantSecretsTable), key)
    {
    }

    internal LocalTenantSecretStore(TableClient table, byte[] key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key.Length != TenantRegistryOptions.LocalKeyBytes)
        {
            throw new ArgumentException($"The local secrets key must be {TenantRegistryOptions.LocalKeyBytes} bytes.", nameof(key));
        }

        _table = table;
        _key = key.ToArray();
        _keyId = KeyIdOf(_key);
        _created = new CreateOnce(ct => table.CreateIfNotExistsAsync(ct));
    }

    public async Task SetAsync(string name, string value, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(value);
        Named(name);
        await _created.EnsureAsync(ct);
        var entity = new TableEntity(Partition, name)
        {
            [ValueColumn] = Encrypt(name, value),
            [KeyIdColumn] = _keyId,
        };
        await _table.UpsertEntityAsync(entity, TableUpdateMode.Replace, ct);
    }

    /// <exception cref="TenantSecretUnreadableException">The value was encrypted with another key, or has been altered.</exception>
    public async Task<string?> GetAsync(string name, CancellationToken ct)
    {
        Named(name);
        await _created.EnsureAsync(ct);
        var response = await _table.GetEntityIfExistsAsync<TableEntity>(Partition, name, cancellationToken: ct);
        if (!response.HasValue)
        {
            return null;
        }

        var row = response.Value!;
        if (row.GetString(KeyIdColumn) is { } keyId && keyId != _keyId)
        {
            throw new TenantSecretUnreadableException(name,
                $"it was encrypted with another TenantRegistry__LocalSecretsKey (key id {keyId}, this app's is {_keyId}): use that key, or set the secret again");
        }

        return row.GetBinary(ValueColumn) is { } sealedValue
            ? Decrypt(name, sealedValue)
            : throw new TenantSecretUnreadableException(name, $"its row has no binary {ValueColumn} column");
    }

    public async Task DeleteAsync(string name, CancellationToken ct)
    {
        Named(name);
        await _created.EnsureAsync(ct);
        try
        {
            await _table.DeleteEntityAsync(Partition, name, ETag.All, ct);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            // Already gone.
        }
    }

    /// <summary>nonce | ciphertext | tag.</summary>
    internal byte[] Encrypt(string name, string value)
    {
        var plain = Encoding.UTF8.GetBytes(value);
        var output = new byte[NonceBytes + plain.Length + TagBytes];
        var nonce = output.AsSpan(0, NonceBytes);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(_key, TagBytes);
        aes.Encrypt(nonce, plain, output.AsSpan(NonceBytes, plain.Length), output.AsSpan(NonceBytes + plain.Length), Encoding.UTF8.GetBytes(name));
        CryptographicOperations.ZeroMemory(plain);
        return output;
    }

    internal string Decrypt(string name, byte[] sealedValue)
    {
        if (sealedValue.Length < NonceBytes + TagBytes)
        {
            throw new TenantSecretUnreadableException(name, "its stored value is too short to be an encrypted value");
        }

        var length = sealedValue.Length - NonceBytes - TagBytes;
        var plain = new byte[length];
        using var aes = new AesGcm(_key, TagBytes);
        try
        {
            aes.Decrypt(sealedValue.AsSpan(0, NonceBytes), sealedValue.AsSpan(NonceBytes, length), sealedValue.AsSpan(NonceBytes + length), plain, Encoding.UTF8.GetBytes(name));
        }
        catch (AuthenticationTagMismatchException)
        {
            // No inner exception and no bytes in the message: nothing of the value leaves this method.
            throw new TenantSecretUnreadableException(name,
                "it does not decrypt with TenantRegistry__LocalSecretsKey (another key, or the row was altered or copied from another name)");
        }

        return Encoding.UTF8.GetString(plain);
    }

    private static string KeyIdOf(byte[] key) => Convert.ToHexStringLower(SHA256.HashData(key).AsSpan(0, 4));

    private static void Named(string name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > 127 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c == '-'))
        {
            throw new ArgumentException("A secret name is 1–127 letters, digits and dashes (Key Vault's rule, kept locally too).", nameof(name));
        }
    }
}

/// <summary>A stored secret that cannot be read back: the message names the secret and the reason, never the value.</summary>
public sealed class TenantSecretUnreadableException(string name, string reason)
    : Exception($"Tenant secret '{name}' cannot be read: {reason}.")
{
    public string SecretName { get; } = name;
}
