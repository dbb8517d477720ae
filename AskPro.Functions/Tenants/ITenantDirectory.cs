namespace AskPro.Functions.Tenants;

/// <summary>
/// Where the service finds a tenant: configuration (<c>Tenants__{id}__…</c>) and, when enabled, the registry.
/// In the steady state answers come from memory: a delivery costs no storage or Key Vault request for it.
/// </summary>
public interface ITenantDirectory
{
    /// <summary>The tenant of the route without a tenant segment, configured by today's settings.</summary>
    Tenant Default { get; }

    /// <summary>The enabled tenant with this id, or null when it is unknown, invalid or disabled (all three: 404 <c>unknown_tenant</c>).</summary>
    ValueTask<Tenant?> FindAsync(string id, CancellationToken ct);

    /// <summary>
    /// True when a tenant with this id is declared, enabled or not: operators still look up and erase a disabled
    /// tenant's records (an erasure request does not wait for a practice to be re-enabled).
    /// </summary>
    ValueTask<bool> IsDeclaredAsync(string id, CancellationToken ct);

    /// <summary>Every enabled tenant, the default first: reconciliation fans out over these.</summary>
    ValueTask<IReadOnlyList<Tenant>> AllAsync(CancellationToken ct);
}
