using AskPro.Functions.Appointments;
using AskPro.Functions.Operating;
using AskPro.Functions.Queueing;
using AskPro.Functions.Reconciliation;
using AskPro.Functions.Security;
using AskPro.Functions.Storage;
using AskPro.Functions.Telemetry;
using AskPro.Functions.Tenants;
using AskPro.Functions.Tenants.Registry;
using AskPro.Functions.Webhooks;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace AskPro.Functions.Hosting;

public static class ServiceCollectionExtensions
{
    /// <summary>
    /// Everything the app runs on. Program.cs calls this, and so do the tests, which therefore exercise the object
    /// graph the host runs. Options are validated at start: a missing secret or storage setting stops the app.
    /// </summary>
    public static IServiceCollection AddAskProFunctions(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.TryAddSingleton(TimeProvider.System);

        services.AddOptions<WebhookOptions>().Bind(configuration.GetSection(WebhookOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<WebhookOptions>, WebhookOptionsValidator>();

        services.AddOptions<StorageOptions>().Configure(o => BindStorage(o, configuration)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<StorageOptions>, StorageOptionsValidator>();

        services.AddOptions<ApplyQueueOptions>().Bind(configuration.GetSection(ApplyQueueOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ApplyQueueOptions>, ApplyQueueOptionsValidator>();

        services.AddOptions<AskProMetadataOptions>().Bind(configuration.GetSection(AskProMetadataOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<AskProMetadataOptions>, AskProMetadataOptionsValidator>();
        services.AddSingleton<AskProMetadataProof>();

        services.AddTenants(configuration);
        // After AddTenants: when TenantRegistry__Enabled, the registry's directory wraps the configured one.
        services.AddTenantRegistry(configuration);

        services.AddSingleton<StorageClients>();
        services.AddSingleton<WebhookQueue>();
        services.AddSingleton(_ => new RecentDeliveries());
        services.AddSingleton<AppointmentTableStore>();
        services.AddSingleton<ApplyGate>();
        services.AddSingleton<CalcomEventProcessor>();
        services.AddMetrics();
        services.AddSingleton<AskProMetrics>();
        services.AddSingleton<DeadLetterOperations>();
        services.AddSingleton<Erasure>();
        services.AddAskProTelemetry(configuration);
        // After the metric bridge, so its start-up metric is exported.
        services.AddSingleton<AskProMetadataKeyCheck>();
        services.AddHostedService(sp => sp.GetRequiredService<AskProMetadataKeyCheck>());

        services.AddTransient<CalcomWebhookFunction>();
        services.AddTransient<ApplyCalcomEventFunction>();
        services.AddReconciliation(configuration);
        services.AddTransient<AppointmentLookupFunction>();
        services.AddTransient<DeadLetterFunctions>();
        services.AddTransient<ErasureFunction>();
        return services;
    }

    private static void BindStorage(StorageOptions o, IConfiguration configuration)
    {
        // The same setting names the Functions host reads for AzureWebJobsStorage.
        var section = configuration.GetSection(StorageNames.Connection);
        o.ConnectionString = section.Value;
        o.AccountName = section["accountName"];
        o.BlobServiceUri = AsUri(section["blobServiceUri"]);
        o.QueueServiceUri = AsUri(section["queueServiceUri"]);
        o.TableServiceUri = AsUri(section["tableServiceUri"]);
        o.ClientId = section["clientId"];
        o.Credential = section["credential"];
        if (configuration["Appointments:TableName"] is { Length: > 0 } table)
        {
            o.AppointmentsTable = table;
        }
    }

    private static Uri? AsUri(string? value) => Uri.TryCreate(value, UriKind.Absolute, out var uri) ? uri : null;
}
