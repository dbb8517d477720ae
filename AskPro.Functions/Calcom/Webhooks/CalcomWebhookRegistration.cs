using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http.Resilience;
using AskPro.Functions.Reconciliation;
using Polly;

namespace AskPro.Functions.Calcom.Webhooks;

/// <summary>How patient the webhook client is (onboarding runs from a console: seconds, not minutes).</summary>
public sealed class CalcomWebhookClientOptions
{
    /// <summary>Retries of one request after a 5xx, 408, a timeout, a network failure or a short 429.</summary>
    public int MaxRetries { get; set; } = 3;

    /// <summary>First back-off, doubled per retry with jitter.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(20);
}

public static class CalcomWebhookRegistration
{
    /// <summary>
    /// The typed <see cref="CalcomWebhookClient"/> from <c>IHttpClientFactory</c> with a resilience handler: retries
    /// with exponential back-off and jitter for transient failures, for a 429 the wait Cal.com names (as the bookings
    /// client does, <see cref="CalcomApiRegistration"/>), a timeout per attempt. 4xx other than 408/429 are never
    /// retried. No base address: each call names its practice's API and key. The factory's request log is removed
    /// (answers hold webhook secrets; nothing of a request is worth a log line here).
    /// </summary>
    public static IServiceCollection AddCalcomWebhookClient(this IServiceCollection services, Action<CalcomWebhookClientOptions>? configure = null)
    {
        var options = services.AddOptions<CalcomWebhookClientOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        services.AddHttpClient<CalcomWebhookClient>(http => http.Timeout = Timeout.InfiniteTimeSpan)
            .RemoveAllLoggers()
            .AddResilienceHandler("calcom-webhooks", (pipeline, context) =>
            {
                var o = context.ServiceProvider.GetRequiredService<Microsoft.Extensions.Options.IOptions<CalcomWebhookClientOptions>>().Value;
                pipeline.AddRetry(new HttpRetryStrategyOptions
                {
                    MaxRetryAttempts = Math.Max(o.MaxRetries, 1),
                    ShouldHandle = args => ValueTask.FromResult(o.MaxRetries > 0 && HttpClientResiliencePredicates.IsTransient(args.Outcome)
                        && !(CalcomApiRegistration.ResetOf(args.Outcome.Result) > CalcomApiRegistration.MaxRateLimitWait)),
                    BackoffType = DelayBackoffType.Exponential,
                    UseJitter = true,
                    Delay = o.RetryDelay,
                    DelayGenerator = args => ValueTask.FromResult(CalcomApiRegistration.RateLimitWait(args.Outcome.Result)),
                });
                pipeline.AddTimeout(o.AttemptTimeout);
            });
        return services;
    }
}
