using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace AskPro.Functions.Tenants;

public static class TenantRegistration
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

    /// <summary>Builds the directory when the app starts, so a broken tenant is reported then, not at its first delivery.</summary>
    private sealed class TenantsAtStart(ITenantDirectory directory) : IHostedService
    {
        public async Task StartAsync(CancellationToken cancellationToken) => await directory.AllAsync(cancellationToken);

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
