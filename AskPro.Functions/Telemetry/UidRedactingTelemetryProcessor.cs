using Microsoft.ApplicationInsights.Channel;
using Microsoft.ApplicationInsights.DataContracts;
using Microsoft.ApplicationInsights.Extensibility;

namespace AskPro.Functions.Telemetry;

/// <summary>
/// The last stop before the channel of every item the worker sends to Application Insights (traces, dependencies,
/// exceptions, events, metrics, and requests should the worker ever send them): booking uids in any text field become
/// pseudonyms (<see cref="UidRedaction"/>). A uid is a bearer token, and text the worker does not write itself
/// carries them: the dependency collector names a table point read <c>GET …(PartitionKey='calcom',RowKey='uid_…')</c>
/// and an API read <c>GET /v2/bookings/…</c>, and the operation name every item inherits is such a name too.
/// It runs after every telemetry initializer, so it sees the fields as they will be sent.
/// </summary>
public sealed class UidRedactingTelemetryProcessor(ITelemetryProcessor next) : ITelemetryProcessor
{
    public void Process(ITelemetry item)
    {
        if (item is not null)
        {
            Redact(item);
        }

        next.Process(item!);
    }

    public static void Redact(ITelemetry item)
    {
        ArgumentNullException.ThrowIfNull(item);
        var operation = item.Context.Operation;
        operation.Name = UidRedaction.Redact(operation.Name);
        switch (item)
        {
            case TraceTelemetry trace:
                trace.Message = UidRedaction.Redact(trace.Message);
                break;
            case DependencyTelemetry dependency:
                dependency.Name = UidRedaction.Redact(dependency.Name);
                dependency.Data = UidRedaction.Redact(dependency.Data);
                dependency.Target = UidRedaction.Redact(dependency.Target);
                break;
            case RequestTelemetry request:
                request.Name = UidRedaction.Redact(request.Name);
                request.Url = UidRedaction.Redact(request.Url);
                break;
            case ExceptionTelemetry exception:
                exception.Message = UidRedaction.Redact(exception.Message);
                foreach (var detail in exception.ExceptionDetailsInfoList)
                {
                    detail.Message = UidRedaction.Redact(detail.Message);
                }

                break;
            case EventTelemetry e:
                e.Name = UidRedaction.Redact(e.Name);
                break;
            case AvailabilityTelemetry availability:
                availability.Message = UidRedaction.Redact(availability.Message);
                break;
        }

        if (item is ISupportProperties withProperties)
        {
            foreach (var key in withProperties.Properties.Keys.ToList())
            {
                withProperties.Properties[key] = UidRedaction.Redact(withProperties.Properties[key])!;
            }
        }

        foreach (var key in item.Context.GlobalProperties.Keys.ToList())
        {
            item.Context.GlobalProperties[key] = UidRedaction.Redact(item.Context.GlobalProperties[key])!;
        }
    }
}
