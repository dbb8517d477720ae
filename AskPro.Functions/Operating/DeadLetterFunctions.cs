using System.Globalization;
using AskPro.Functions.Tenants;
using AskPro.Functions.Webhooks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace AskPro.Functions.Operating;

/// <summary>
/// <c>GET /api/deadletter?max=&amp;tenant=</c> and <c>POST /api/deadletter/replay?max=&amp;dryRun=&amp;tenant=</c> (function key):
/// thin adapters over <see cref="DeadLetterOperations"/>. <c>tenant</c> limits either to one tenant's dead letters; any
/// well-formed id is taken, enabled or not, because a disabled tenant's dead letters still need replaying or deleting
/// (docs/operating.md#which-tenant).
/// </summary>
public sealed class DeadLetterFunctions(DeadLetterOperations operations)
{
    [Function(nameof(DeadLetterList))]
    public async Task<IActionResult> DeadLetterList(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "deadletter")] HttpRequest request,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (Max(request, DeadLetterOperations.MaxList, DeadLetterOperations.MaxList) is not { } max)
        {
            return Invalid($"max must be a whole number from 1 to {DeadLetterOperations.MaxList}.");
        }

        if (!TryTenant(request, out var tenant))
        {
            return Invalid(TenantRule);
        }

        return new OperatorResult<DeadLetterListBody>(await operations.ListAsync(max, tenant, cancellationToken), OperatorJsonContext.Default.DeadLetterListBody);
    }

    [Function(nameof(DeadLetterReplay))]
    public async Task<IActionResult> DeadLetterReplay(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "deadletter/replay")] HttpRequest request,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (Max(request, 10, DeadLetterOperations.MaxReplay) is not { } max)
        {
            return Invalid($"max must be a whole number from 1 to {DeadLetterOperations.MaxReplay}.");
        }

        var dryRunText = request.Query["dryRun"].ToString();
        if (dryRunText.Length > 0 && !bool.TryParse(dryRunText, out _))
        {
            return Invalid("dryRun must be true or false.");
        }

        if (!TryTenant(request, out var tenant))
        {
            return Invalid(TenantRule);
        }

        var dryRun = dryRunText.Length > 0 && bool.Parse(dryRunText);
        return new OperatorResult<ReplayReport>(await operations.ReplayAsync(max, dryRun, tenant, cancellationToken), OperatorJsonContext.Default.ReplayReport);
    }

    private const string TenantRule = "tenant must be a tenant id (1 to 40 lowercase letters, digits and '-'; 'default' for the default tenant), or left out for every tenant.";

    /// <summary>The <c>tenant</c> query value (null when absent: every tenant); false when it is not a well-formed id.</summary>
    private static bool TryTenant(HttpRequest request, out string? tenant)
    {
        var values = request.Query["tenant"];
        tenant = values.Count == 0 ? null : values.ToString();
        return tenant is null || (values.Count == 1 && TenantIds.IsValid(tenant));
    }

    private static int? Max(HttpRequest request, int fallback, int limit)
    {
        var text = request.Query["max"].ToString();
        if (text.Length == 0)
        {
            return fallback;
        }

        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var max) && max >= 1 && max <= limit ? max : null;
    }

    private static ApiResult Invalid(string message) => ApiResult.Error(StatusCodes.Status400BadRequest, OperatorErrorCodes.InvalidQuery, message);
}
