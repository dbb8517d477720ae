using AskPro.Functions.Telemetry;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AskPro.Functions.Reconciliation;

/// <summary>
/// Says at start, loudly (an error line and the <see cref="AskProMetrics.FeatureOff"/> metric), that reconciliation
/// and series look-ups are off because <c>Calcom__ApiKey</c> is set but cannot be used. The app starts anyway: the
/// webhook intake and the apply path do not need the key, and Cal.com does not keep what it could not deliver. A key
/// that is simply not set is a choice, logged by each pass (event 5006), not an error.
/// Registered after the metric bridge, so the bridge is listening when the metric is recorded.
/// </summary>
public sealed partial class CalcomApiKeyCheck(IOptions<CalcomApiOptions> options, AskProMetrics metrics, ILogger<CalcomApiKeyCheck> logger) : IHostedService
{
    public const string Feature = "reconciliation";
    public const string UnresolvedReference = "unresolved_key_vault_reference";

    /// <summary>True when the key is set but unusable; then logs and counts it.</summary>
    public bool Report()
    {
        if (options.Value.KeyProblem is not { } problem)
        {
            return false;
        }

        Log.Off(logger, $"{CalcomApiOptions.Section}__ApiKey", problem);
        metrics.FeatureSwitchedOff(Feature, UnresolvedReference);
        return true;
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        Report();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static partial class Log
    {
        [LoggerMessage(EventId = 6000, Level = LogLevel.Error,
            Message = "Reconciliation and series look-ups are off: {Setting} {Reason}. Webhooks are still accepted and applied; drift is not repaired until the key works")]
        public static partial void Off(ILogger logger, string setting, string reason);
    }
}
