using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.ApplicationInsights;
using Microsoft.ApplicationInsights.Metrics;
using Microsoft.Extensions.Hosting;

namespace AskPro.Functions.Telemetry;

/// <summary>
/// Sends the <see cref="AskProMetrics"/> instruments to Application Insights as pre-aggregated custom metrics
/// (<c>customMetrics</c>, one row per metric, dimension set and minute): the 2.x SDK the Functions worker package is
/// built on does not read <see cref="Meter"/>s itself. Aggregation happens in the SDK, so volume stays flat.
/// </summary>
public sealed class ApplicationInsightsMetricBridge(TelemetryClient client) : IHostedService, IDisposable
{
    private readonly ConcurrentDictionary<(string Name, string Dimensions), Metric> _metrics = new();
    private MeterListener? _listener;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _listener = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == AskProMetrics.MeterName)
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        _listener.SetMeasurementEventCallback<long>((i, value, tags, _) => Track(i, value, tags));
        _listener.SetMeasurementEventCallback<double>((i, value, tags, _) => Track(i, value, tags));
        _listener.Start();
        return Task.CompletedTask;
    }

    private void Track(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var names = new string[tags.Length];
        var values = new string[tags.Length];
        for (var i = 0; i < tags.Length; i++)
        {
            names[i] = tags[i].Key;
            values[i] = tags[i].Value?.ToString() ?? "";
        }

        var metric = _metrics.GetOrAdd((instrument.Name, string.Join('|', names)), key => client.GetMetric(new MetricIdentifier("AskPro", key.Name, names)));
        // Any number of dimensions (metrics name their tenant besides their own one or two): the series of exactly these values.
        if (metric.TryGetDataSeries(out var series, true, values))
        {
            series.TrackValue(value);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _listener?.Dispose();
        client.Flush();
        return Task.CompletedTask;
    }

    public void Dispose() => _listener?.Dispose();
}
