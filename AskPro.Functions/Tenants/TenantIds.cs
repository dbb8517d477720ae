namespace AskPro.Functions.Tenants;

/// <summary>Tenant ids and the partitions they map to (docs/tenants.md#what-a-tenant-is).</summary>
public static class TenantIds
{
    /// <summary>The tenant of <c>POST /api/webhooks/calcom</c> and today's settings (<c>CalcomWebhook__Secrets__n</c>, <c>Calcom__ApiKey</c>).</summary>
    public const string Default = "default";

    /// <summary>The default tenant keeps the partition every record had before tenants, so nothing migrates.</summary>
    public const string DefaultPartition = "calcom";

    public const int MaxLength = 40;

    /// <summary>
    /// Ids no declared tenant may take: they name partitions the service already uses in the appointments table
    /// (the default tenant's and reconciliation's own rows).
    /// </summary>
    public static readonly IReadOnlySet<string> Reserved = new HashSet<string>(StringComparer.Ordinal) { DefaultPartition, "reconciliation", "tenants" };

    /// <summary>Lowercase letters, digits and <c>-</c>, 1–40 characters.</summary>
    public static bool IsValid(string? id) =>
        id is { Length: > 0 and <= MaxLength } && id.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-');

    /// <summary>Valid and not reserved: what a declared (configured or registered) tenant may be called.</summary>
    public static bool IsDeclarable(string? id) => IsValid(id) && id != Default && !Reserved.Contains(id!);

    public static string PartitionOf(string id) => id == Default ? DefaultPartition : id;

    /// <summary>
    /// How messages, blob names and history entries name a tenant: the default tenant by absence (null), so everything
    /// written for it looks as it did before tenants; any other by its id.
    /// </summary>
    public static string? Named(string? id) => id is null || id == Default ? null : id;
}
