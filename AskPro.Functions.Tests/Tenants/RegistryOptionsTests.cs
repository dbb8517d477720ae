using System.Security.Cryptography;
using AskPro.Functions.Tenants;
using AskPro.Functions.Tenants.Registry;
using Azure.Data.Tables;

namespace AskPro.Functions.Tests.Tenants;

/// <summary>The registry's settings decide the secret store (or say why there is none), and entries survive their column encoding.</summary>
public sealed class RegistryOptionsTests
{
    private static readonly string Key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    [Fact]
    public void A_vault_uri_wins_over_a_local_key()
    {
        var choice = new TenantRegistryOptions { KeyVaultUri = "https://askpro-tenants.vault.azure.net/", LocalSecretsKey = Key }.ChooseSecretStore();

        Assert.Equal(SecretStoreKind.KeyVault, choice.Kind);
        Assert.Equal(new Uri("https://askpro-tenants.vault.azure.net/"), choice.VaultUri);
        Assert.Null(choice.Problem);
    }

    [Fact]
    public void A_32_byte_key_chooses_the_local_store()
    {
        var choice = new TenantRegistryOptions { LocalSecretsKey = Key }.ChooseSecretStore();

        Assert.Equal(SecretStoreKind.Local, choice.Kind);
        Assert.Equal(Convert.FromBase64String(Key), choice.LocalKey);
        Assert.DoesNotContain(Key, choice.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, null, "neither TenantRegistry__KeyVaultUri")]
    [InlineData("http://askpro.vault.azure.net/", null, "TenantRegistry__KeyVaultUri is not an https URL")]
    [InlineData("askpro.vault.azure.net", null, "TenantRegistry__KeyVaultUri is not an https URL")]
    [InlineData(null, "c2hvcnQ=", "TenantRegistry__LocalSecretsKey is not 32 bytes")]
    [InlineData(null, "not base64 at all!", "TenantRegistry__LocalSecretsKey is not 32 bytes")]
    [InlineData(null, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "TenantRegistry__LocalSecretsKey is not 32 bytes")]
    public void Unusable_settings_choose_no_store_and_say_why_without_the_value(string? vault, string? key, string reason)
    {
        var choice = new TenantRegistryOptions { KeyVaultUri = vault, LocalSecretsKey = key }.ChooseSecretStore();

        Assert.Equal(SecretStoreKind.None, choice.Kind);
        Assert.Contains(reason, choice.Problem, StringComparison.Ordinal);
        Assert.DoesNotContain(key ?? "(no key)", choice.Problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0.5, false)]
    [InlineData(1, true)]
    [InlineData(30, true)]
    [InlineData(60, true)]
    [InlineData(61, false)]
    public void The_refresh_interval_keeps_changes_within_a_minute(double seconds, bool usable) =>
        Assert.Equal(usable, new TenantRegistryOptions { RefreshInterval = TimeSpan.FromSeconds(seconds) }.RefreshIntervalProblem() is null);

    [Fact]
    public void An_entry_survives_its_columns_and_holds_no_secret_value()
    {
        var entry = new TenantEntry
        {
            Id = "practice-a",
            CompanyId = "company-1",
            Enabled = false,
            EventTypeIds = [3, 1, 2],
            TeamId = 5_000_000_000,
            ApiBaseUrl = new Uri("https://cal.example.test/v2/"),
            WebhookSecrets = [new("tenant-practice-a-webhook-1", new DateTimeOffset(2026, 3, 2, 10, 0, 0, TimeSpan.Zero)), new("tenant-practice-a-webhook-2")],
            ApiKeySecret = "tenant-practice-a-calcom-api-key",
            CalcomWebhookId = "42",
            UpdatedAt = new DateTimeOffset(2026, 3, 2, 9, 0, 0, TimeSpan.Zero),
        };

        var entity = TenantEntryColumns.ToEntity(entry);
        var (read, problem) = TenantEntryColumns.FromEntity(entity);

        Assert.Null(problem);
        Assert.Equal("3,1,2", entity.GetString(TenantEntryColumns.EventTypeIds));
        Assert.Equal(entry.EventTypeIds, read!.EventTypeIds);
        Assert.Equal(entry.WebhookSecrets, read.WebhookSecrets);
        Assert.Equal(entry with { EventTypeIds = read.EventTypeIds, WebhookSecrets = read.WebhookSecrets }, read);
    }

    [Fact]
    public void A_minimal_row_reads_as_an_enabled_entry_without_scope()
    {
        var (read, problem) = TenantEntryColumns.FromEntity(new TableEntity(TenantRegistry.Partition, "practice-b"));

        Assert.Null(problem);
        Assert.True(read!.Enabled);
        Assert.Empty(read.EventTypeIds);
        Assert.Empty(read.WebhookSecrets);
        Assert.Null(read.TeamId);
    }

    [Theory]
    [InlineData("Default")]
    [InlineData("default")]
    [InlineData("calcom")]
    [InlineData("has space")]
    public void A_row_whose_key_no_tenant_may_take_is_not_an_entry(string rowKey) =>
        Assert.Null(TenantEntryColumns.FromEntity(new TableEntity(TenantRegistry.Partition, rowKey)).Entry);

    [Fact]
    public void Sealed_values_decrypt_under_their_name_only_and_never_repeat()
    {
        var table = new TableClient(new Uri("http://127.0.0.1:1/devstoreaccount1"), "TenantSecrets", new TableSharedKeyCredential("devstoreaccount1", Convert.ToBase64String(new byte[64])));
        var store = new LocalTenantSecretStore(table, RandomNumberGenerator.GetBytes(32));

        var first = store.Encrypt("tenant-a-webhook-1", "value-123456");
        var second = store.Encrypt("tenant-a-webhook-1", "value-123456");

        Assert.NotEqual(first, second);
        Assert.Equal("value-123456", store.Decrypt("tenant-a-webhook-1", first));
        Assert.Throws<TenantSecretUnreadableException>(() => store.Decrypt("tenant-b-webhook-1", first));
        first[^1] ^= 1;
        Assert.Throws<TenantSecretUnreadableException>(() => store.Decrypt("tenant-a-webhook-1", first));
        Assert.Throws<ArgumentException>(() => new LocalTenantSecretStore(table, new byte[16]));
    }
}
