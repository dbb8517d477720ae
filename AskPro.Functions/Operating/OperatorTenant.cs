using AskPro.Functions.Tenants;
using AskPro.Functions.Webhooks;
using Microsoft.AspNetCore.Http;

namespace AskPro.Functions.Operating;

/// <summary>
/// Which tenant an operator request is about (docs/operating.md#which-tenant): none named is the default tenant, as
/// before tenants; a named one must be a tenant of the directory, enabled or disabled (an erasure request does not wait
/// for a practice to be re-enabled), or the answer is 404 <c>unknown_tenant</c> (a typo never silently finds nothing).
/// </summary>
public static class OperatorTenant
{
    /// <summary>The tenant, or null when <paramref name="id"/> names no declared tenant (a disabled one is found, without its secrets).</summary>
    public static async ValueTask<Tenant?> ResolveAsync(ITenantDirectory directory, string? id, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(directory);
        if (id is null || id == TenantIds.Default)
        {
            return directory.Default;
        }

        if (!TenantIds.IsValid(id))
        {
            return null;
        }

        return await directory.FindAsync(id, ct) ?? (await directory.IsDeclaredAsync(id, ct) ? new Tenant { Id = id, Enabled = false } : null);
    }

    /// <summary>404 in the webhook's error format; the id is echoed only when it is a well-formed tenant id (never free text).</summary>
    public static ApiResult Unknown(string? id) =>
        ApiResult.Error(StatusCodes.Status404NotFound, ErrorCodes.UnknownTenant,
            TenantIds.IsValid(id)
                ? $"No tenant has the id '{id}'. Leave tenant out for the default tenant."
                : $"A tenant id is 1 to {TenantIds.MaxLength} lowercase letters, digits and '-'. Leave tenant out for the default tenant.");
}
