using Microsoft.ApplicationInsights.WorkerService;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace AskPro.Functions.Telemetry;

/// <summary>
/// The worker's own telemetry, as the Functions isolated-worker guide describes it: the Application Insights worker
/// service SDK with <c>ConfigureFunctionsApplicationInsights</c>. Its logger provider turns every structured log
/// field and scope field into a <c>customDimensions</c> entry; the package tells the host that the worker sends its
/// logs itself (capability <c>WorkerApplicationInsightsLoggingEnabled</c>), so the host does not forward them a
/// second time, and it reads <c>APPLICATIONINSIGHTS_AUTHENTICATION_STRING</c> for Entra-only ingestion.
/// Only when <c>APPLICATIONINSIGHTS_CONNECTION_STRING</c> is set: locally the same fields are in the console logs.
/// What the worker sends (traces, dependencies, exceptions, metrics) passes <see cref="UidRedactingTelemetryProcessor"/>;
/// the host sends the invocations (<c>requests</c>) itself, which is why no function route carries a uid.
/// </summary>
public static class TelemetrySetup
{
    public const string ConnectionStringSetting = "APPLICATIONINSIGHTS_CONNECTION_STRING";
    /// <summary>The logger provider whose default "Warning and above" rule the SDK adds (and the guide says to remove).</summary>
    public const string ApplicationInsightsLoggerProvider = "Microsoft.Extensions.Logging.ApplicationInsights.ApplicationInsightsLoggerProvider";

    public static IServiceCollection AddAskProTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        // Any console these functions log to (func's worker output, the local host) shows the log scope's fields
        // (message id, delivery id, trigger, dequeue count), the same fields Application Insights gets as dimensions.
        services.Configure<SimpleConsoleFormatterOptions>(o => o.IncludeScopes = true);
        services.Configure<JsonConsoleFormatterOptions>(o => o.IncludeScopes = true);
        if (string.IsNullOrWhiteSpace(configuration[ConnectionStringSetting]))
        {
            return services;
        }

        services.AddApplicationInsightsTelemetryWorkerService(new ApplicationInsightsServiceOptions
        {
            ConnectionString = configuration[ConnectionStringSetting],
            // Booking webhooks are a few thousand a day: every line is kept, so a failure is never sampled away and
            // counts in KQL are exact. (The host's own sampling in host.json excludes requests and exceptions.)
            EnableAdaptiveSampling = false,
        });
        services.ConfigureFunctionsApplicationInsights();
        // Dependency tracking and the factory's request logs name URLs with booking uids (bearer tokens): every item
        // passes this processor last, on its way to the channel.
        services.AddApplicationInsightsTelemetryProcessor<UidRedactingTelemetryProcessor>();
        services.Configure<LoggerFilterOptions>(options =>
        {
            // The SDK adds a rule that drops everything below Warning for its provider: the delivery and apply lines
            // are Information, and they are the ones "what happened to delivery X" needs.
            var rule = options.Rules.FirstOrDefault(r => r.ProviderName == ApplicationInsightsLoggerProvider);
            if (rule is not null)
            {
                options.Rules.Remove(rule);
            }
        });
        services.AddHostedService<ApplicationInsightsMetricBridge>();
        return services;
    }
}
