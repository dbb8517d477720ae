using System.Diagnostics.Metrics;
using AskPro.Functions.Telemetry;

namespace AskPro.Functions.Tenants.Registry;

/// <summary>
/// The registry's metrics, on the service's meter (<see cref="AskProMetrics.MeterName"/>), so the Application Insights
/// bridge exports them with the others. Dimensions are fixed names, never ids.
/// </summary>
public sealed class TenantRegistryMetrics
{
    public const string RefreshFailures = "askpro.tenant_registry.refresh_failures";
    public const string MissReadsThrottled = "askpro.tenant_registry.miss_reads_throttled";

    private readonly Counter<long> _refreshFailures;
    private readonly Counter<long> _throttled;

    public TenantRegistryMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(AskProMetrics.MeterName);
        _refreshFailures = meter.CreateCounter<long>(RefreshFailures, "{refresh}", "Registry refreshes that could not list the table, by phase (start: nothing loaded yet; steady)");
        _throttled = meter.CreateCounter<long>(MissReadsThrottled, "{lookup}", "Look-ups of unknown tenant ids answered 404 without a registry read because the read budget was spent");
    }

    public void RefreshFailed(string phase) => _refreshFailures.Add(1, new KeyValuePair<string, object?>("Phase", phase));

    public void MissReadThrottled() => _throttled.Add(1);
}
