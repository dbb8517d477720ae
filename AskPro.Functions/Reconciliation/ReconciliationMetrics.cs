using System.Diagnostics.Metrics;
using AskPro.Functions.Telemetry;

namespace AskPro.Functions.Reconciliation;

/// <summary>
/// Reconciliation's own instrument on the service's meter (<see cref="AskProMetrics.MeterName"/>, so it is exported
/// like the others): bookings a tenant's key can see that are outside its scope (docs/reconciliation.md#per-tenant).
/// Dimensions: the tenant and the reason kind, never a uid.
/// </summary>
public sealed class ReconciliationMetrics
{
    public const string OutOfScopeBookings = "askpro.reconciliation.out_of_scope";

    private readonly Counter<long> _outOfScope;

    public ReconciliationMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        // The factory owns (and disposes) the meter it hands out, the same one AskProMetrics records on.
        _outOfScope = meterFactory.Create(AskProMetrics.MeterName).CreateCounter<long>(OutOfScopeBookings, "{booking}", "Bookings a tenant's Cal.com key can see outside the tenant's scope (event type, team): never applied");
    }

    public void OutOfScope(string tenantId, string reason) =>
        _outOfScope.Add(1, new KeyValuePair<string, object?>("TenantId", tenantId), new KeyValuePair<string, object?>("Reason", reason));
}
