using System.Text.Json.Serialization;
using AskPro.Functions.Calcom;
using AskPro.Functions.Operating;
using AskPro.Functions.Storage;
using AskPro.Functions.Tenants;
using AskPro.Functions.Webhooks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Azure.Storage.Queues.Models;
using Microsoft.Azure.Functions.Worker;

namespace AskPro.Functions.Reconciliation;

/// <summary>
/// Where reconciliation runs: on a timer (app setting <see cref="ScheduleSetting"/>, an NCRONTAB expression), and on
/// demand over a given window (<c>POST /api/ops/reconcile?from=…&amp;to=…</c>, function key required). Both are thin:
/// the pass is <see cref="Reconciler"/>. The route is <c>ops/…</c>, not <c>admin/…</c>: the Functions host reserves
/// every route that starts with <c>admin</c> for its own API and refuses to index such a function.
/// </summary>
public sealed class ReconcileFunctions(Reconciler reconciler, ReconciliationFanOut fanOut, ITenantDirectory tenants, TimeProvider time)
{
    public const string ScheduleSetting = "ReconciliationSchedule";
    public const string Route = "ops/reconcile";
    /// <summary>The widest window one on-demand pass covers.</summary>
    public static readonly TimeSpan MaxWindow = TimeSpan.FromDays(31);

    /// <summary>Queues one pass per enabled tenant with an API key (docs/reconciliation.md#per-tenant); <see cref="RunTenantReconciliation"/> runs each.</summary>
    [Function(nameof(ReconcileOnSchedule))]
    public async Task ReconcileOnSchedule([TimerTrigger("%" + ScheduleSetting + "%")] TimerInfo timer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(timer);
        await fanOut.QueueAllAsync(cancellationToken);
    }

    /// <summary>One tenant's pass off <c>calcom-reconciliation</c>; returns once every synthetic event of the pass is queued.</summary>
    [Function(nameof(RunTenantReconciliation))]
    public async Task RunTenantReconciliation(
        [QueueTrigger(StorageNames.ReconciliationQueue, Connection = StorageNames.Connection)] QueueMessage message,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        await fanOut.ProcessAsync(message.Body, message.MessageId, cancellationToken);
    }

    [Function(nameof(ReconcileOnDemand))]
    public async Task<IActionResult> ReconcileOnDemand(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = Route)] HttpRequest request,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        // ?tenant=<id>: that tenant's pass (the default tenant's when absent); unknown or disabled: 404 as on the webhook route.
        var tenantId = request.Query["tenant"].ToString();
        var tenant = tenantId.Length == 0 ? tenants.Default : TenantIds.IsValid(tenantId) ? await tenants.FindAsync(tenantId, cancellationToken) : null;
        if (tenant is null)
        {
            return ApiResult.Error(StatusCodes.Status404NotFound, ErrorCodes.UnknownTenant, "No enabled tenant has this id.", null);
        }

        var errors = new List<string>();
        var from = Time(request, "from", errors);
        var to = Time(request, "to", errors) ?? (from is null ? null : time.GetUtcNow());
        if (errors.Count == 0 && from is null)
        {
            errors.Add("from is required (ISO 8601, e.g. 2026-01-20T00:00:00Z)");
        }

        if (from is { } f && to is { } t && (t < f || t - f > MaxWindow))
        {
            errors.Add($"to must not be before from, and the window at most {MaxWindow.TotalDays:F0} days");
        }

        if (errors.Count > 0)
        {
            return ApiResult.Error(StatusCodes.Status400BadRequest, "invalid_request", "The reconciliation window is not valid.", errors);
        }

        var summary = await reconciler.RunAsync(tenant, from, to, cancellationToken);
        var status = summary.Outcome switch
        {
            // cut: its budget ran out; coveredUpTo says where to continue with another request.
            "completed" or "cut" => StatusCodes.Status200OK,
            "busy" => StatusCodes.Status409Conflict,
            "off" or "unauthorized" or _ => StatusCodes.Status503ServiceUnavailable,
        };
        return new OperatorResult<PassSummary>(summary, ReconcileJsonContext.Default.PassSummary, status);
    }

    private static DateTimeOffset? Time(HttpRequest request, string name, List<string> errors)
    {
        var text = request.Query[name].ToString();
        if (text.Length == 0)
        {
            return null;
        }

        if (CalcomWebhookReader.TryParseTime(text, out var value))
        {
            return value;
        }

        errors.Add($"{name} must be an ISO 8601 date-time such as 2026-01-20T00:00:00Z");
        return null;
    }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(PassSummary))]
internal sealed partial class ReconcileJsonContext : JsonSerializerContext;
