namespace AskPro.Functions.Tenants;

/// <summary>
/// A practice (AskPro company) the service serves: proven by the route a delivery came in on and the secret that
/// verified it, never by anything in the body (docs/tenants.md#what-a-tenant-is). Its rows live in its own partition.
/// </summary>
public sealed record Tenant
{
    /// <summary>Lowercase letters, digits and <c>-</c>, 1–40 characters (<see cref="TenantIds.IsValid"/>).</summary>
    public required string Id { get; init; }

    /// <summary>The AskPro company id; null for a default tenant configured without one (then a proven metadata claim stays the record's company, as before tenants).</summary>
    public string? CompanyId { get; init; }

    /// <summary>A disabled tenant is answered 404 <c>unknown_tenant</c>, like an unknown one, and is not reconciled.</summary>
    public bool Enabled { get; init; } = true;

    /// <summary>The HMAC keys of its usable webhook secrets (several during a rotation); values never leave this object.</summary>
    public IReadOnlyList<byte[]> SecretKeys { get; init; } = [];

    /// <summary>Its usable Cal.com API key, or null: then reconciliation and series look-ups are off for this tenant.</summary>
    public string? ApiKey { get; init; }

    /// <summary>Its own Cal.com API base URL, or null for the service's <c>Calcom__ApiBaseUrl</c>.</summary>
    public Uri? ApiBaseUrl { get; init; }

    /// <summary>Scope: Cal.com event type ids whose bookings belong to it (empty: not limited by event type).</summary>
    public IReadOnlyList<long> EventTypeIds { get; init; } = [];

    /// <summary>Scope: the Cal.com team whose bookings belong to it (null: not limited by team).</summary>
    public long? TeamId { get; init; }

    /// <summary>The partition of the appointments table holding every row of this tenant.</summary>
    public string Partition => TenantIds.PartitionOf(Id);

    public bool IsDefault => Id == TenantIds.Default;

    /// <summary>What the appointment store needs: the partition, the id and the company every record row names.</summary>
    public TenantRows Rows => new(Id, CompanyId);

    /// <summary>True when a scope is declared; a tenant without one owns every booking its key can see (the default tenant's behaviour before tenants).</summary>
    public bool HasScope => EventTypeIds.Count > 0 || TeamId is not null;

    /// <summary>Never prints secrets or the API key.</summary>
    public override string ToString() => $"Tenant {Id}";
}
