using AskPro.Functions.Tenants;
using System.Diagnostics.Metrics;

namespace AskPro.Functions.Telemetry;

/// <summary>
/// The service's own metrics (docs/operating.md#telemetry), on a <see cref="System.Diagnostics.Metrics.Meter"/> so they are
/// the same everywhere: exported to Application Insights as custom metrics by <see cref="ApplicationInsightsMetricBridge"/>,
/// visible locally with <c>dotnet-counters monitor --counters AskPro.Functions</c>, and read by tests with a
/// <see cref="MeterListener"/>. Dimensions are low-cardinality (outcome, trigger, reason kind), never ids.
/// </summary>
public sealed class AskProMetrics : IDisposable
{
    public const string MeterName = "AskPro.Functions";
    public const string Deliveries = "askpro.deliveries";
    public const string ApplyDuration = "askpro.apply.duration";
    public const string QueueAge = "askpro.queue.age";
    public const string DeadLetters = "askpro.deadletters";
    public const string ReconciliationDrift = "askpro.reconciliation.drift";
    public const string FeatureOff = "askpro.feature.off";
    public const string CalcomKeyRefused = "askpro.calcom.key_refused";

    private readonly Meter _meter;
    private readonly Counter<long> _deliveries;
    private readonly Histogram<double> _applyDuration;
    private readonly Histogram<double> _queueAge;
    private readonly Counter<long> _deadLetters;
    private readonly Histogram<long> _drift;
    private readonly Counter<long> _featureOff;
    private readonly Counter<long> _keyRefused;

    public AskProMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        _meter = meterFactory.Create(MeterName);
        _deliveries = _meter.CreateCounter<long>(Deliveries, "{delivery}", "Queued deliveries processed, by outcome (applied, duplicate, skipped, conflict, not_applied, deferred, dead_lettered) and trigger");
        _applyDuration = _meter.CreateHistogram<double>(ApplyDuration, "ms", "Time to apply one delivery to the appointment table");
        _queueAge = _meter.CreateHistogram<double>(QueueAge, "s", "Time from accepting a delivery (202) to applying it");
        _deadLetters = _meter.CreateCounter<long>(DeadLetters, "{message}", "Messages moved to the dead letter, by reason kind");
        _drift = _meter.CreateHistogram<long>(ReconciliationDrift, "{appointment}", "Appointments a reconciliation pass found different from Cal.com");
        _featureOff = _meter.CreateCounter<long>(FeatureOff, "{feature}", "Optional features switched off at start by a setting that cannot be used, by feature and reason");
        _keyRefused = _meter.CreateCounter<long>(CalcomKeyRefused, "{response}", "Cal.com API answers 401/403: the configured API key was refused");
    }

    public void Delivery(string outcome, string triggerEvent, string tenantId = TenantIds.Default) =>
        _deliveries.Add(1, new KeyValuePair<string, object?>("Outcome", outcome), new KeyValuePair<string, object?>("TriggerEvent", triggerEvent), new KeyValuePair<string, object?>("TenantId", tenantId));

    public void Applied(double durationMs, TimeSpan queueAge, string outcome, string tenantId = TenantIds.Default)
    {
        _applyDuration.Record(durationMs, new KeyValuePair<string, object?>("Outcome", outcome), new KeyValuePair<string, object?>("TenantId", tenantId));
        _queueAge.Record(Math.Max(0, queueAge.TotalSeconds));
    }

    public void DeadLettered(string reasonKind, string tenantId = TenantIds.Default) => _deadLetters.Add(1, new KeyValuePair<string, object?>("ReasonKind", reasonKind), new KeyValuePair<string, object?>("TenantId", tenantId));

    /// <summary>For the reconciliation pass (not built yet): how many appointments it had to correct.</summary>
    public void Drift(long appointments, string passKind, string tenantId = TenantIds.Default) => _drift.Record(appointments, new KeyValuePair<string, object?>("PassKind", passKind), new KeyValuePair<string, object?>("TenantId", tenantId));

    /// <summary>An optional feature could not start (the app runs without it): feature and reason are fixed names, never values.</summary>
    public void FeatureSwitchedOff(string feature, string reason) =>
        _featureOff.Add(1, new KeyValuePair<string, object?>("Feature", feature), new KeyValuePair<string, object?>("Reason", reason));

    /// <summary>Cal.com refused the API key (401 or 403): the alert in infra/ fires on the log line that goes with it.</summary>
    public void CalcomKeyWasRefused(int status, string tenantId = TenantIds.Default) => _keyRefused.Add(1, new KeyValuePair<string, object?>("Status", status), new KeyValuePair<string, object?>("TenantId", tenantId));

    public void Dispose() => _meter.Dispose();
}
