using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AskPro.Functions.Reconciliation;

public static class ReconciliationRegistration
{
    /// <summary>
    /// The API client, the pass, its state and its two functions. Without <c>Calcom__ApiKey</c> a pass logs once that it
    /// is off; with one that cannot be used (an unresolved Key Vault reference) the app still starts, with reconciliation
    /// and series look-ups off (<see cref="CalcomApiOptions.IsEnabled"/>) and an error line and metric at start.
    /// </summary>
    public static IServiceCollection AddReconciliation(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddCalcomApi(configuration);
        services.AddOptions<ReconciliationOptions>().Bind(configuration.GetSection(ReconciliationOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ReconciliationOptions>, ReconciliationOptionsValidator>();
        services.AddOptions<ReconciliationScheduleOptions>().Configure(o => o.Schedule = configuration[ReconcileFunctions.ScheduleSetting]).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ReconciliationScheduleOptions>, ReconciliationScheduleValidator>();
        services.AddSingleton<ReconciliationState>();
        services.AddSingleton<Reconciler>();
        services.AddSingleton<ReconciliationMetrics>();
        services.AddSingleton<ReconciliationFanOut>();
        services.AddSingleton<SeriesFollowUp>();
        services.AddTransient<ReconcileFunctions>();
        services.AddTransient<SeriesLookupFunction>();
        services.AddSingleton<CalcomApiKeyCheck>();
        services.AddHostedService(sp => sp.GetRequiredService<CalcomApiKeyCheck>());
        return services;
    }
}

/// <summary>The timer's schedule is read by the Functions host, not the worker; the worker checks at start that it is there.</summary>
public sealed class ReconciliationScheduleOptions
{
    public string? Schedule { get; set; }
}

internal sealed class ReconciliationScheduleValidator : IValidateOptions<ReconciliationScheduleOptions>
{
    public ValidateOptionsResult Validate(string? name, ReconciliationScheduleOptions options) =>
        options.Schedule is { } s && s.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length == 6
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"{ReconcileFunctions.ScheduleSetting} must be a six-field NCRONTAB schedule such as \"0 */10 * * * *\" (every 10 minutes): the reconciliation timer cannot run without it.");
}
