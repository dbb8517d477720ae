using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AskPro.Functions.Tenants.Registry;

/// <summary>
/// Refreshes the registry directory every <c>TenantRegistry__RefreshInterval</c>, starting at once without holding up
/// the host's start. After a failed listing it tries again sooner (2 s, doubling up to the interval).
/// </summary>
public sealed partial class TenantRegistryRefresher(
    RegistryTenantDirectory directory, IOptions<TenantRegistryOptions> options, TimeProvider time, ILogger<TenantRegistryRefresher> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = options.Value.RefreshInterval;
        var retry = TimeSpan.FromSeconds(2);
        await Task.Yield();
        while (!stoppingToken.IsCancellationRequested)
        {
            bool listed;
            try
            {
                listed = await directory.RefreshAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // A failing refresh must never stop the host (a background service's exception does): logged, retried.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                Log.RefreshCrashed(logger, ex.GetType().Name);
                listed = false;
            }

            var wait = listed ? interval : Min(retry, interval);
            retry = listed ? TimeSpan.FromSeconds(2) : Min(retry * 2, interval);
            try
            {
                await Task.Delay(wait, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    private static partial class Log
    {
        [LoggerMessage(EventId = 8017, Level = LogLevel.Error, Message = "A tenant registry refresh failed unexpectedly ({ExceptionType}): what is held keeps serving; retrying")]
        public static partial void RefreshCrashed(ILogger logger, string exceptionType);
    }
}
