namespace AskPro.Functions.Tenants;

/// <summary>
/// A registered tenant as the registry table <c>Tenants</c> holds it (PartitionKey <c>tenant</c>, RowKey = id):
/// everything but secret values, which live in <see cref="ITenantSecretStore"/> under the names listed here.
/// </summary>
public sealed record TenantEntry
{
    public required string Id { get; init; }
    public string? CompanyId { get; init; }
    public bool Enabled { get; init; } = true;
    public IReadOnlyList<long> EventTypeIds { get; init; } = [];
    public long? TeamId { get; init; }
    public Uri? ApiBaseUrl { get; init; }

    /// <summary>Its webhook secrets by name; one with <see cref="TenantSecretRef.RetiresAt"/> in the past is no longer accepted.</summary>
    public IReadOnlyList<TenantSecretRef> WebhookSecrets { get; init; } = [];

    /// <summary>The name of its Cal.com API key in the secret store, or null (no reconciliation).</summary>
    public string? ApiKeySecret { get; init; }

    /// <summary>The id of the webhook <c>tools/tenant.sh add --register</c> created in the practice's Cal.com (for rotation).</summary>
    public string? CalcomWebhookId { get; init; }

    /// <summary>Changes whenever the entry does (the table's ETag is not kept across the copy): caches reload secrets when it moves.</summary>
    public DateTimeOffset UpdatedAt { get; init; }
}

/// <summary>A webhook secret by name, accepted until <see cref="RetiresAt"/> (null: until rotated away).</summary>
public sealed record TenantSecretRef(string Name, DateTimeOffset? RetiresAt = null);
