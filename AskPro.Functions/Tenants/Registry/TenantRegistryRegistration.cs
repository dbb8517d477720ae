using AskPro.Functions.Storage;
using AskPro.Functions.Telemetry;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AskPro.Functions.Tenants.Registry;

public static class TenantRegistryRegistration
{
    public const string Feature = "tenant_registry";

    /// <summary>
    /// The tenant registry (settings <c>TenantRegistry__…</c>), after <c>AddTenants</c>. When enabled with a usable secret
    /// store, the registered <see cref="ITenantDirectory"/> is wrapped in <see cref="RegistryTenantDirectory"/> (the
    /// configured directory stays inside it) and refreshed in the background. Enabled without a usable store (or with a
    /// bad refresh interval): the registry is off, loudly (error log and <c>askpro.feature.off</c> at start), and the app
    /// runs on its configured tenants. <see cref="TenantRegistry"/> and <see cref="ITenantSecretStore"/> are registered
    /// whenever a store is usable, enabled or not, for the operations that manage tenants.
    /// </summary>
    public static IServiceCollection AddTenantRegistry(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        if (services.Any(d => d.ServiceType == typeof(TenantRegistryState)))
        {
            return services; // Already added: the directory is wrapped once.
        }

        var (options, bindProblem) = Read(configuration.GetSection(TenantRegistryOptions.Section));
        services.AddOptions<TenantRegistryOptions>().Configure(o =>
        {
            o.Enabled = options.Enabled;
            o.KeyVaultUri = options.KeyVaultUri;
            o.LocalSecretsKey = options.LocalSecretsKey;
            o.RefreshInterval = options.RefreshInterval;
        });
        services.TryAddSingleton<TenantRegistryMetrics>();
        services.TryAddSingleton<TenantRegistry>();

        var choice = options.ChooseSecretStore();
        switch (choice.Kind)
        {
            case SecretStoreKind.Local:
                var key = choice.LocalKey!;
                services.TryAddSingleton<ITenantSecretStore>(sp => new LocalTenantSecretStore(sp.GetRequiredService<StorageClients>(), key));
                break;
            case SecretStoreKind.KeyVault:
                var vault = choice.VaultUri!;
                services.TryAddSingleton<ITenantSecretStore>(sp => new KeyVaultTenantSecretStore(KeyVaultTenantSecretStore.CreateClient(
                    vault, KeyVaultTenantSecretStore.CredentialFor(sp.GetRequiredService<IOptions<StorageOptions>>().Value.ClientId))));
                break;
        }

        var problem = bindProblem ?? choice.Problem ?? options.RefreshIntervalProblem();
        var on = options.Enabled && problem is null;
        services.AddSingleton(new TenantRegistryState(options.Enabled, on, options.Enabled ? problem : null));
        services.AddHostedService<TenantRegistryStartCheck>();
        if (!on)
        {
            return services;
        }

        var inner = services.LastOrDefault(d => d.ServiceType == typeof(ITenantDirectory) && !d.IsKeyedService)
            ?? throw new InvalidOperationException("AddTenantRegistry wraps the configured tenant directory: call it after AddTenants.");
        services.RemoveAll<ITenantDirectory>();
        services.AddSingleton(sp => new RegistryTenantDirectory(
            Resolve(sp, inner), sp.GetRequiredService<TenantRegistry>(), sp.GetRequiredService<ITenantSecretStore>(), sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<TenantRegistryMetrics>(), sp.GetRequiredService<ILogger<RegistryTenantDirectory>>()));
        services.AddSingleton<ITenantDirectory>(sp => sp.GetRequiredService<RegistryTenantDirectory>());
        services.AddHostedService<TenantRegistryRefresher>();
        return services;
    }

    private static (TenantRegistryOptions Options, string? Problem) Read(IConfigurationSection section)
    {
        var options = new TenantRegistryOptions();
        try
        {
            section.Bind(options);
            return (options, null);
        }
        catch (InvalidOperationException)
        {
            // A value that is not of its setting's type (Enabled=yes, RefreshInterval=30): off, said at start.
            return (new TenantRegistryOptions { Enabled = !string.Equals(section["Enabled"], "false", StringComparison.OrdinalIgnoreCase) && section["Enabled"] is { Length: > 0 } },
                "a TenantRegistry__ setting has a value of the wrong type (Enabled: true/false, RefreshInterval: hh:mm:ss)");
        }
    }

    private static ITenantDirectory Resolve(IServiceProvider sp, ServiceDescriptor inner) =>
        (ITenantDirectory)(inner.ImplementationInstance
            ?? inner.ImplementationFactory?.Invoke(sp)
            ?? ActivatorUtilities.CreateInstance(sp, inner.ImplementationType!));
}

/// <summary>What the settings decided at start: enabled, actually on, and why not (never a value).</summary>
public sealed record TenantRegistryState(bool Enabled, bool On, string? Problem);

/// <summary>Says at start that the registry is off although enabled, and why: an error line and <c>askpro.feature.off</c>.</summary>
internal sealed partial class TenantRegistryStartCheck(TenantRegistryState state, AskProMetrics metrics, ILogger<TenantRegistryStartCheck> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (state.Enabled && !state.On)
        {
            Log.RegistryOff(logger, state.Problem ?? "unknown");
            metrics.FeatureSwitchedOff(TenantRegistryRegistration.Feature, "unusable_settings");
        }
        else if (state.On)
        {
            Log.RegistryOn(logger);
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static partial class Log
    {
        [LoggerMessage(EventId = 8020, Level = LogLevel.Error,
            Message = "The tenant registry is enabled but off: {Problem}. Only configured tenants are served until this is fixed and the app restarted")]
        public static partial void RegistryOff(ILogger logger, string problem);

        [LoggerMessage(EventId = 8021, Level = LogLevel.Information, Message = "The tenant registry is on: registered tenants are served next to the configured ones")]
        public static partial void RegistryOn(ILogger logger);
    }
}
