using System.Security.Cryptography;
using System.Text;
using AskPro.Functions.Tenants;
using AskPro.Functions.Tenants.Registry;
using AskPro.Functions.Tests.Infrastructure;
using Azure.Data.Tables;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace AskPro.Functions.Tests.Tenants;

/// <summary>The registry table and the local secret store on Azurite: what is written is read back, and no secret value is ever in a table.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class RegistryStorageTests(AzuriteFixture azurite)
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 2, 9, 0, 0, TimeSpan.Zero);
    private readonly FakeTimeProvider _time = new(T0);

    private TableClient NewTable(string prefix) =>
        new TableServiceClient(azurite.ConnectionString).GetTableClient(prefix + Guid.NewGuid().ToString("N")[..12]);

    private TenantRegistry NewRegistry(TableClient? table = null) => new(table ?? NewTable("reg"), _time, NullLogger.Instance);

    private static TenantEntry Entry(string id) => new()
    {
        Id = id,
        CompanyId = "company-17",
        EventTypeIds = [101, 202],
        TeamId = 77,
        ApiBaseUrl = new Uri("https://cal.example.test/api/"),
        WebhookSecrets = [new TenantSecretRef(TenantSecretNames.Webhook(id, 1), T0.AddDays(1)), new TenantSecretRef(TenantSecretNames.Webhook(id, 2))],
        ApiKeySecret = TenantSecretNames.ApiKey(id),
        CalcomWebhookId = "wh-9",
    };

    [Fact]
    public async Task An_entry_is_read_back_as_written_with_its_update_stamp()
    {
        var registry = NewRegistry();
        Assert.True(await registry.CreateAsync(Entry("practice-a"), CancellationToken.None));

        var read = await registry.GetAsync("practice-a", CancellationToken.None);

        Assert.NotNull(read);
        var expected = Entry("practice-a") with { UpdatedAt = T0 };
        Assert.Equal(expected with { EventTypeIds = read.EventTypeIds, WebhookSecrets = read.WebhookSecrets }, read);
        Assert.Equal(expected.EventTypeIds, read.EventTypeIds);
        Assert.Equal(expected.WebhookSecrets, read.WebhookSecrets);
        Assert.Null(await registry.GetAsync("practice-b", CancellationToken.None));
    }

    [Fact]
    public async Task Create_never_overwrites_an_existing_id()
    {
        var registry = NewRegistry();
        Assert.True(await registry.CreateAsync(Entry("practice-a"), CancellationToken.None));

        Assert.False(await registry.CreateAsync(Entry("practice-a") with { CompanyId = "someone-else" }, CancellationToken.None));

        Assert.Equal("company-17", (await registry.GetAsync("practice-a", CancellationToken.None))!.CompanyId);
    }

    [Fact]
    public async Task Ids_a_tenant_may_not_take_are_refused()
    {
        var registry = NewRegistry();
        foreach (var id in new[] { "default", "calcom", "Upper", "", new string('a', 41), "a/b" })
        {
            await Assert.ThrowsAsync<ArgumentException>(() => registry.CreateAsync(Entry("x") with { Id = id }, CancellationToken.None));
        }
    }

    [Fact]
    public async Task Update_replaces_an_existing_entry_moves_its_stamp_and_never_creates_one()
    {
        var registry = NewRegistry();
        await registry.CreateAsync(Entry("practice-a"), CancellationToken.None);
        var read = (await registry.GetAsync("practice-a", CancellationToken.None))!;

        // Same clock tick: the stamp still moves, so a cache sees the change.
        Assert.True(await registry.UpdateAsync(read with { Enabled = false, TeamId = null }, CancellationToken.None));
        var updated = (await registry.GetAsync("practice-a", CancellationToken.None))!;

        Assert.False(updated.Enabled);
        Assert.Null(updated.TeamId);
        Assert.True(updated.UpdatedAt > read.UpdatedAt);
        Assert.False(await registry.UpdateAsync(Entry("practice-b"), CancellationToken.None));
        Assert.Null(await registry.GetAsync("practice-b", CancellationToken.None));
    }

    [Fact]
    public async Task Concurrent_changes_are_both_kept()
    {
        var registry = NewRegistry();
        await registry.CreateAsync(Entry("practice-a") with { EventTypeIds = [] }, CancellationToken.None);

        await Task.WhenAll(Enumerable.Range(1, 6).Select(i =>
            registry.ChangeAsync("practice-a", e => e with { EventTypeIds = [.. e.EventTypeIds, i] }, CancellationToken.None)));

        var read = (await registry.GetAsync("practice-a", CancellationToken.None))!;
        Assert.Equal([1, 2, 3, 4, 5, 6], read.EventTypeIds.Order());
        Assert.Null(await registry.ChangeAsync("practice-b", e => e, CancellationToken.None));
    }

    [Fact]
    public async Task A_broken_row_is_left_out_of_the_list_and_the_others_are_listed()
    {
        var table = NewTable("reg");
        var registry = NewRegistry(table);
        await registry.CreateAsync(Entry("practice-a"), CancellationToken.None);
        await registry.CreateAsync(Entry("practice-c"), CancellationToken.None);
        await table.UpsertEntityAsync(new TableEntity(TenantRegistry.Partition, "practice-b") { ["EventTypeIds"] = "12,abc" });
        await table.UpsertEntityAsync(new TableEntity(TenantRegistry.Partition, "practice-d") { ["WebhookSecrets"] = "{not json" });
        await table.UpsertEntityAsync(new TableEntity(TenantRegistry.Partition, "practice-e") { ["Enabled"] = "yes" });

        var listed = await registry.ListAsync(CancellationToken.None);

        Assert.Equal(["practice-a", "practice-c"], listed.Select(e => e.Id));
        Assert.Null(await registry.GetAsync("practice-b", CancellationToken.None));
    }

    [Fact]
    public async Task The_local_store_reads_back_what_it_set_and_null_for_a_missing_name()
    {
        var store = new LocalTenantSecretStore(NewTable("sec"), RandomNumberGenerator.GetBytes(32));
        var value = "whsec_" + Convert.ToHexString(RandomNumberGenerator.GetBytes(24));

        await store.SetAsync("tenant-a-webhook-1", value, CancellationToken.None);

        Assert.Equal(value, await store.GetAsync("tenant-a-webhook-1", CancellationToken.None));
        Assert.Null(await store.GetAsync("tenant-a-webhook-2", CancellationToken.None));
        await store.DeleteAsync("tenant-a-webhook-1", CancellationToken.None);
        await store.DeleteAsync("tenant-a-webhook-1", CancellationToken.None);
        Assert.Null(await store.GetAsync("tenant-a-webhook-1", CancellationToken.None));
    }

    [Fact]
    public async Task The_local_store_keeps_no_value_in_plain_text_and_a_fresh_nonce_per_value()
    {
        var table = NewTable("sec");
        var store = new LocalTenantSecretStore(table, RandomNumberGenerator.GetBytes(32));
        var value = "plain-marker-" + Guid.NewGuid().ToString("N");

        await store.SetAsync("tenant-a-webhook-1", value, CancellationToken.None);
        await store.SetAsync("tenant-a-webhook-2", value, CancellationToken.None);

        var rows = await table.QueryAsync<TableEntity>().ToListAsync();
        Assert.Equal(2, rows.Count);
        foreach (var row in rows)
        {
            foreach (var column in row.Select(p => p.Value))
            {
                var text = column is byte[] bytes ? Encoding.UTF8.GetString(bytes) + Convert.ToBase64String(bytes) : Convert.ToString(column, System.Globalization.CultureInfo.InvariantCulture) ?? "";
                Assert.DoesNotContain(value, text, StringComparison.Ordinal);
                Assert.DoesNotContain(Convert.ToBase64String(Encoding.UTF8.GetBytes(value)), text, StringComparison.Ordinal);
            }
        }

        Assert.NotEqual(rows[0].GetBinary("Value"), rows[1].GetBinary("Value"));
    }

    [Fact]
    public async Task A_wrong_key_or_a_copied_row_is_a_clear_error_without_the_value()
    {
        var table = NewTable("sec");
        var key = RandomNumberGenerator.GetBytes(32);
        var value = "secret-marker-" + Guid.NewGuid().ToString("N");
        await new LocalTenantSecretStore(table, key).SetAsync("tenant-a-webhook-1", value, CancellationToken.None);

        var wrongKey = await Assert.ThrowsAsync<TenantSecretUnreadableException>(() =>
            new LocalTenantSecretStore(table, RandomNumberGenerator.GetBytes(32)).GetAsync("tenant-a-webhook-1", CancellationToken.None));
        Assert.Contains("another TenantRegistry__LocalSecretsKey", wrongKey.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(value, wrongKey.ToString(), StringComparison.Ordinal);

        // The same key, but the sealed value moved to another name: the name is bound in, so it does not decrypt.
        var row = (await table.GetEntityAsync<TableEntity>(LocalTenantSecretStore.Partition, "tenant-a-webhook-1")).Value;
        await table.UpsertEntityAsync(new TableEntity(LocalTenantSecretStore.Partition, "tenant-b-webhook-1") { ["Value"] = row["Value"], ["KeyId"] = row["KeyId"] });
        var copied = await Assert.ThrowsAsync<TenantSecretUnreadableException>(() =>
            new LocalTenantSecretStore(table, key).GetAsync("tenant-b-webhook-1", CancellationToken.None));
        Assert.Contains("does not decrypt", copied.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(value, copied.ToString(), StringComparison.Ordinal);
        Assert.Null(copied.InnerException);
    }
}
