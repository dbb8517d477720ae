using Microsoft.Extensions.Options;

namespace AskPro.Functions.Reconciliation;

/// <summary>
/// Settings section <c>Calcom</c> (app settings <c>Calcom__…</c>): how to read bookings back from Cal.com's API v2.
/// Without a usable API key nothing calls the API: reconciliation and series look-ups are off, intake and apply run.
/// </summary>
public sealed class CalcomApiOptions
{
    public const string Section = "Calcom";

    /// <summary>The API key (<c>Calcom__ApiKey</c>, <c>cal_live_…</c>); a Key Vault reference in Azure. Empty: off.</summary>
    public string? ApiKey { get; set; }

    /// <summary><c>Calcom__ApiBaseUrl</c>; tests point it at a fake API on loopback.</summary>
    public Uri ApiBaseUrl { get; set; } = new("https://api.cal.com");

    /// <summary>
    /// Requests per minute this service allows itself (<c>Calcom__RequestsPerMinute</c>). Cal.com allows 120 per key
    /// and blocks the key for a minute once they are exceeded, so the default leaves room for anything else using it.
    /// </summary>
    public int RequestsPerMinute { get; set; } = 100;

    /// <summary>Timeout of one HTTP attempt (<c>Calcom__AttemptTimeout</c>).</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>Retries of one request after a 5xx, a timeout or a 429 (<c>Calcom__MaxRetries</c>).</summary>
    public int MaxRetries { get; set; } = 4;

    /// <summary>First back-off after a 5xx or a timeout, doubled per retry with jitter (<c>Calcom__RetryDelay</c>).</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// True when a key is set and usable. Reconciliation is optional: a key that cannot be used (an unresolved Key Vault
    /// reference: a vault hiccup, a disabled or deleted secret) switches it off, never the webhook intake.
    /// </summary>
    public bool IsEnabled => !string.IsNullOrWhiteSpace(ApiKey) && KeyProblem is null;

    /// <summary>Why the configured key cannot be used (never its value), or null when it is usable or not set.</summary>
    public string? KeyProblem => ApiKey is { } key && IsUnresolvedReference(key)
        ? "is an unresolved Key Vault reference: create or enable the secret in the vault and let the app's identity read it (Key Vault Secrets User), then restart the app"
        : null;

    /// <summary>App Service hands a reference it could not resolve to the app as its own text.</summary>
    public static bool IsUnresolvedReference(string value) =>
        value.AsSpan().TrimStart().StartsWith("@Microsoft.KeyVault(", StringComparison.OrdinalIgnoreCase);
}

internal sealed class CalcomApiOptionsValidator : IValidateOptions<CalcomApiOptions>
{
    public ValidateOptionsResult Validate(string? name, CalcomApiOptions options)
    {
        var failures = new List<string>();
        if (!options.ApiBaseUrl.IsAbsoluteUri || options.ApiBaseUrl.Scheme is not ("https" or "http"))
        {
            failures.Add("Calcom__ApiBaseUrl must be an absolute http(s) URL such as https://api.cal.com.");
        }

        // An unusable Calcom__ApiKey is not a failure here: it switches reconciliation off (CalcomApiKeyCheck says so).
        if (options.RequestsPerMinute is < 1 or > 120)
        {
            failures.Add("Calcom__RequestsPerMinute must be between 1 and 120 (Cal.com's limit per API key).");
        }

        if (options.MaxRetries is < 0 or > 10)
        {
            failures.Add("Calcom__MaxRetries must be between 0 and 10.");
        }

        if (options.AttemptTimeout <= TimeSpan.Zero || options.RetryDelay < TimeSpan.Zero)
        {
            failures.Add("Calcom__AttemptTimeout must be positive and Calcom__RetryDelay not negative.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
