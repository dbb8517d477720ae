using System.Globalization;
using System.Net;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Configuration;
using AskPro.Functions.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly;

namespace AskPro.Functions.Reconciliation;

public static class CalcomApiRegistration
{
    /// <summary>Header prefix of Cal.com's rate-limit reset (<c>X-RateLimit-Reset-Default</c>): seconds until the window or block ends.</summary>
    public const string RateLimitResetPrefix = "X-RateLimit-Reset";

    /// <summary>The resilience pipeline of the service's own key (<c>Calcom__ApiKey</c>).</summary>
    public const string DefaultPipelineKey = "default";

    /// <summary>
    /// The longest a 429 makes a request wait in-process before its retry. A longer block (Cal.com blocks a key for
    /// 60 s by default) is not waited out inside a function with a 2-minute timeout: the 429 goes to the caller, and a
    /// series look-up goes back to its queue for that long, a pass resumes at its checkpoint.
    /// </summary>
    public static readonly TimeSpan MaxRateLimitWait = TimeSpan.FromSeconds(20);

    /// <summary>
    /// The typed <see cref="CalcomApiClient"/> from <c>IHttpClientFactory</c> with the resilience the API needs:
    /// a sliding-window limiter under the key's 120 requests/minute, retries with exponential back-off and jitter for
    /// 5xx, 408, timeouts and network failures, and for 429 a wait of exactly the <c>X-RateLimit-Reset-*</c> seconds
    /// Cal.com names (it sends no <c>Retry-After</c>). 401/403 are never retried. The factory's own request log (full
    /// URLs, so booking uids) is replaced by <see cref="CalcomApiHttpLogger"/>.
    /// </summary>
    public static IServiceCollection AddCalcomApi(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<CalcomApiOptions>().Bind(configuration.GetSection(CalcomApiOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<CalcomApiOptions>, CalcomApiOptionsValidator>();
        services.TryAddSingleton<AskProMetrics>();
        services.AddMetrics();
        services.AddSingleton<CalcomApiHttpLogger>();

        services.AddHttpClient<CalcomApiClient>((sp, http) =>
            {
                http.BaseAddress = sp.GetRequiredService<IOptions<CalcomApiOptions>>().Value.ApiBaseUrl;
                // Each attempt has its own timeout in the pipeline; the client's would cut retries short.
                http.Timeout = Timeout.InfiniteTimeSpan;
            })
            .RemoveAllLoggers()
            // Inside the resilience handler (added below, so outside this logger): one line per attempt.
            .AddLogger<CalcomApiHttpLogger>(wrapHandlersPipeline: false)
            .AddResilienceHandler("calcom-api", (pipeline, context) =>
            {
                var o = context.ServiceProvider.GetRequiredService<IOptions<CalcomApiOptions>>().Value;
                pipeline.AddRetry(new HttpRetryStrategyOptions
                {
                    MaxRetryAttempts = Math.Max(o.MaxRetries, 1),
                    ShouldHandle = args => ValueTask.FromResult(o.MaxRetries > 0 && HttpClientResiliencePredicates.IsTransient(args.Outcome)
                        && !(ResetOf(args.Outcome.Result) > MaxRateLimitWait)),
                    BackoffType = DelayBackoffType.Exponential,
                    UseJitter = true,
                    Delay = o.RetryDelay,
                    DelayGenerator = args => ValueTask.FromResult(RateLimitWait(args.Outcome.Result)),
                });
                // Inside the retry: every attempt, first or retried, takes a permit.
                pipeline.AddRateLimiter(new SlidingWindowRateLimiter(new SlidingWindowRateLimiterOptions
                {
                    PermitLimit = o.RequestsPerMinute,
                    Window = TimeSpan.FromMinutes(1),
                    SegmentsPerWindow = 6,
                    // Bounded: past it a request fails at once as a local 429 instead of waiting behind the others for minutes.
                    QueueLimit = Math.Max(1, o.RequestsPerMinute / 5),
                    QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
                    AutoReplenishment = true,
                }));
                pipeline.AddTimeout(o.AttemptTimeout);
            })
            // One pipeline per API key (its id, never the key): each key has its own limiter under its own 120 per
            // minute, as Cal.com counts per key; the service's own key keeps the default one (docs/reconciliation.md#per-tenant).
            .SelectPipelineBy(_ => request => request.Options.TryGetValue(CalcomApiClient.KeyIdOption, out var keyId) ? keyId : DefaultPipelineKey);
        return services;
    }

    /// <summary>For a 429: the seconds Cal.com's <c>X-RateLimit-Reset-*</c> (or a <c>Retry-After</c>) names, at most <see cref="MaxRateLimitWait"/>; otherwise null (back-off).</summary>
    internal static TimeSpan? RateLimitWait(HttpResponseMessage? response) =>
        ResetOf(response) is { } reset ? (reset > MaxRateLimitWait ? MaxRateLimitWait : reset) : null;

    /// <summary>For a 429: how long Cal.com says the key is blocked (60 s when it does not say); null for any other answer.</summary>
    internal static TimeSpan? ResetOf(HttpResponseMessage? response)
    {
        if (response is not { StatusCode: HttpStatusCode.TooManyRequests })
        {
            return null;
        }

        TimeSpan? wait = null;
        foreach (var (name, values) in response.Headers)
        {
            if (name.StartsWith(RateLimitResetPrefix, StringComparison.OrdinalIgnoreCase))
            {
                foreach (var value in values)
                {
                    if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds >= 0 && seconds < 86_400)
                    {
                        var w = TimeSpan.FromSeconds(seconds);
                        wait = wait is { } max && max > w ? max : w;
                    }
                }
            }
        }

        return wait ?? response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(60);
    }
}
