using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AskPro.Functions.Webhooks;

/// <summary>Settings section <c>CalcomWebhook</c> (app settings <c>CalcomWebhook__…</c>).</summary>
public sealed class WebhookOptions
{
    public const string Section = "CalcomWebhook";
    public const int DefaultMaxBodyBytes = 1024 * 1024;

    /// <summary>Shorter secrets are refused: a webhook secret is the only authentication, and guessable ones exist.</summary>
    public const int MinSecretLength = 32;

    private byte[][]? _keys;

    /// <summary>
    /// Cal.com webhook secrets (<c>CalcomWebhook__Secrets__0</c>, <c>__1</c>, …). A delivery signed with any of them
    /// is accepted: the URL may be registered more than once, and rotation needs the old and the new secret for a while.
    /// </summary>
    public List<string> Secrets { get; } = [];

    /// <summary>Largest body accepted (<c>CalcomWebhook__MaxBodyBytes</c>); larger ones get 413 unread.</summary>
    public int MaxBodyBytes { get; set; } = DefaultMaxBodyBytes;

    /// <summary>The keys of every usable secret; rejected ones (see <see cref="Rejected"/>) are left out.</summary>
    public IReadOnlyList<byte[]> SecretKeys =>
        _keys ??= Secrets.Select(Usable).OfType<string>().Select(s => Encoding.UTF8.GetBytes(s)).ToArray();

    /// <summary>Configured secrets that cannot be used, by index, with the reason (never the value).</summary>
    public IReadOnlyList<(int Index, string Reason)> Rejected =>
        Secrets.Select((s, i) => (Index: i, Reason: Problem(s))).Where(r => r.Reason is not null).Select(r => (r.Index, r.Reason!)).ToList();

    /// <summary>
    /// A vault value set from a file often ends with a newline Cal.com's secret does not have: it is trimmed.
    /// Anything else about the value is kept exactly, since the HMAC key must match Cal.com's byte for byte.
    /// </summary>
    internal static string Normalise(string secret) => secret.TrimEnd('\r', '\n');

    internal static string? Usable(string secret) => string.IsNullOrWhiteSpace(secret) || Problem(secret) is not null ? null : Normalise(secret);

    internal static string? Problem(string secret)
    {
        if (string.IsNullOrWhiteSpace(secret))
        {
            return null; // not configured (e.g. an empty slot in local.settings.json)
        }

        var value = Normalise(secret);
        // In Azure the secrets are Key Vault references. One that cannot be resolved (secret missing or disabled, no
        // access) reaches the app as its own text, which names no secret: as an HMAC key it would accept forgeries.
        if (value.TrimStart().StartsWith("@Microsoft.KeyVault(", StringComparison.OrdinalIgnoreCase))
        {
            return "is an unresolved Key Vault reference: create or enable the secret in the vault and let the app's identity read it "
                + "(Key Vault Secrets User), then restart the app";
        }

        if (value.Length < MinSecretLength)
        {
            return $"is shorter than {MinSecretLength} characters: use a long random secret (openssl rand -hex 32) in Cal.com and here";
        }

        return value.Any(char.IsControl) ? "contains control characters (a line break inside the value?)" : null;
    }
}

/// <summary>
/// Start when at least one secret is usable, and say which are not: one bad <em>additional</em> secret (a disabled
/// rotation secret, say) must not stop every delivery, but with no usable secret at all the app cannot run.
/// </summary>
internal sealed partial class WebhookOptionsValidator(ILogger<WebhookOptionsValidator> logger) : IValidateOptions<WebhookOptions>
{
    public ValidateOptionsResult Validate(string? name, WebhookOptions options)
    {
        var failures = new List<string>();
        var rejected = options.Rejected;
        if (options.SecretKeys.Count == 0)
        {
            failures.Add(rejected.Count == 0
                ? "CalcomWebhook__Secrets__0 is not set: configure at least one Cal.com webhook secret "
                    + "(the app refuses unsigned deliveries, so it cannot run without one)."
                : "No usable Cal.com webhook secret: " + string.Join("; ", rejected.Select(r => $"CalcomWebhook__Secrets__{r.Index} {r.Reason}")) + ".");
        }
        else
        {
            foreach (var (index, reason) in rejected)
            {
                Log.SecretRejected(logger, $"CalcomWebhook__Secrets__{index}", reason, options.SecretKeys.Count);
            }
        }

        if (options.MaxBodyBytes is < 1024 or > 16 * 1024 * 1024)
        {
            failures.Add("CalcomWebhook__MaxBodyBytes must be between 1024 and 16777216.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 9100, Level = LogLevel.Error,
            Message = "{Setting} is not used: it {Reason}. The app runs on the other {UsableSecrets} secret(s); deliveries signed with this one get 401")]
        public static partial void SecretRejected(ILogger logger, string setting, string reason, int usableSecrets);
    }
}
