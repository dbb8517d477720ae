using System.Collections.Concurrent;
using System.Diagnostics.Tracing;
using AskPro.Functions.Tenants.Registry;
using Azure.Core.Diagnostics;

namespace AskPro.Functions.Tests.Tenants;

/// <summary>
/// The Key Vault secret store through the real <see cref="Azure.Security.KeyVault.Secrets.SecretClient"/> against a
/// loopback HTTPS fake vault: the SDK's challenge, set, get, missing and disabled secrets, and no value in the SDK's
/// event source even at its most verbose.
/// </summary>
public sealed class RegistryKeyVaultTests : IAsyncLifetime
{
    private FakeKeyVault _vault = null!;

    public async Task InitializeAsync() => _vault = await FakeKeyVault.StartAsync();

    public async Task DisposeAsync() => await _vault.DisposeAsync();

    private KeyVaultTenantSecretStore Store() =>
        new(KeyVaultTenantSecretStore.CreateClient(_vault.VaultUri, _vault.Credential, _vault.ClientOptions()));

    [Fact]
    public async Task A_secret_set_is_read_back_and_a_missing_one_is_null()
    {
        var store = Store();
        var value = "vault-value-" + Guid.NewGuid().ToString("N");

        await store.SetAsync("tenant-a-webhook-1", value, CancellationToken.None);

        Assert.Equal(value, await store.GetAsync("tenant-a-webhook-1", CancellationToken.None));
        Assert.Null(await store.GetAsync("tenant-a-webhook-2", CancellationToken.None));
        // The SDK met the challenge first, then sent the token.
        Assert.Contains(_vault.Requests, r => r.EndsWith("anonymous", StringComparison.Ordinal));
        Assert.Contains("PUT /secrets/tenant-a-webhook-1 authorized", _vault.Requests);
    }

    [Fact]
    public async Task A_disabled_secret_is_null_and_a_deleted_one_is_gone()
    {
        var store = Store();
        await store.SetAsync("tenant-a-webhook-1", "v1-" + Guid.NewGuid().ToString("N"), CancellationToken.None);
        await store.SetAsync("tenant-a-calcom-api-key", "k1-" + Guid.NewGuid().ToString("N"), CancellationToken.None);

        _vault.Disable("tenant-a-webhook-1");
        await store.DeleteAsync("tenant-a-calcom-api-key", CancellationToken.None);
        await store.DeleteAsync("tenant-a-calcom-api-key", CancellationToken.None);

        Assert.Null(await store.GetAsync("tenant-a-webhook-1", CancellationToken.None));
        Assert.Null(await store.GetAsync("tenant-a-calcom-api-key", CancellationToken.None));
        Assert.False(_vault.Holds("tenant-a-calcom-api-key"));
    }

    [Fact]
    public async Task No_value_reaches_the_sdk_event_source_even_at_verbose()
    {
        var events = new ConcurrentQueue<string>();
        using var listener = new AzureEventSourceListener((e, message) => events.Enqueue(message + " " + string.Join(" ", e.Payload ?? [])), EventLevel.Verbose);
        var store = Store();
        var value = "never-logged-" + Guid.NewGuid().ToString("N");

        await store.SetAsync("tenant-a-webhook-1", value, CancellationToken.None);
        Assert.Equal(value, await store.GetAsync("tenant-a-webhook-1", CancellationToken.None));

        Assert.DoesNotContain(events, e => e.Contains(value, StringComparison.Ordinal));

        // The listener does see values when a client logs content: the check above could have failed.
        var options = _vault.ClientOptions();
        options.Diagnostics.IsLoggingContentEnabled = true;
        var leaky = new Azure.Security.KeyVault.Secrets.SecretClient(_vault.VaultUri, _vault.Credential, options);
        await leaky.GetSecretAsync("tenant-a-webhook-1");
        Assert.Contains(events, e => e.Contains(value, StringComparison.Ordinal));
    }
}
