namespace AskPro.Functions.Tenants;

/// <summary>
/// What the appointment store needs of a tenant: where its rows live and what every record row names (the tenant, and
/// its company as the record's company). No secrets: a delivery accepted for a tenant that is disabled later is still
/// applied to its partition (nothing accepted is lost), from the id the envelope carries (docs/tenants.md#what-a-tenant-is).
/// </summary>
public sealed record TenantRows(string TenantId, string? CompanyId = null)
{
    /// <summary>The default tenant as before tenants: partition <c>calcom</c>, the record's company from proven metadata.</summary>
    public static readonly TenantRows Default = new(TenantIds.Default);

    public string Partition => TenantIds.PartitionOf(TenantId);

    public bool IsDefault => TenantId == TenantIds.Default;
}
