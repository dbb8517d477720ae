using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AskPro.Functions.Tenants;

public static partial class TenantRegistration
{
    /// <summary>
    /// The default tenant and the tenants of configuration (<c>Tenants__{id}__…</c>), checked at start: each problem is an
    /// error line naming the setting (8200), and only that tenant (or that tenant's feature) is affected.
    /// </summary>
    public static IServiceCollection AddTenants(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<TenantsOptions>().Configure(o =>
        {
            foreach (var child in configuration.GetSection(TenantsOptions.Section).GetChildren())
            {
                var settings = new TenantSettings();
                child.Bind(settings);
                o.Tenants[child.Key] = settings;
            }
        });
        services.AddSingleton<ConfiguredTenants>();
        services.AddSingleton<ITenantDirectory>(sp => sp.GetRequiredService<ConfiguredTenants>());
        services.AddHostedService<TenantsAtStart>();
        return services;
    }

    /// <summary>Checks the configured tenants when the app starts, so a broken tenant is reported then, not at its first delivery.</summary>
    private sealed partial class TenantsAtStart(ConfiguredTenants configured, ILogger<TenantsAtStart> logger) : IHostedService
    {
        // Constructing the directory (for this service) checks and reports every configured tenant.
        public Task StartAsync(CancellationToken cancellationToken)
        {
            Log.Checked(logger, configured.Checks.Count, configured.Checks.Count(c => c.Problems.Count > 0));
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        private static partial class Log
        {
            [LoggerMessage(EventId = 8203, Level = LogLevel.Debug, Message = "{Tenants} configured tenant(s) checked at start, {WithProblems} with problems")]
            public static partial void Checked(ILogger logger, int tenants, int withProblems);
        }
    }
}
