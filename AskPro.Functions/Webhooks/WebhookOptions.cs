using System.Text;
using Microsoft.Extensions.Options;

namespace AskPro.Functions.Webhooks;

/// <summary>Settings section <c>CalcomWebhook</c> (app settings <c>CalcomWebhook__…</c>).</summary>
public sealed class WebhookOptions
{
    public const string Section = "CalcomWebhook";
    public const int DefaultMaxBodyBytes = 1024 * 1024;

    private byte[][]? _keys;

    /// <summary>
    /// Cal.com webhook secrets (<c>CalcomWebhook__Secrets__0</c>, <c>__1</c>, …). A delivery signed with any of them
    /// is accepted: the URL may be registered more than once, and rotation needs the old and the new secret for a while.
    /// </summary>
    public List<string> Secrets { get; } = [];

    /// <summary>Largest body accepted (<c>CalcomWebhook__MaxBodyBytes</c>); larger ones get 413 unread.</summary>
    public int MaxBodyBytes { get; set; } = DefaultMaxBodyBytes;

    public IReadOnlyList<byte[]> SecretKeys =>
        _keys ??= Secrets.Where(s => !string.IsNullOrWhiteSpace(s)).Select(s => Encoding.UTF8.GetBytes(s)).ToArray();
}

internal sealed class WebhookOptionsValidator : IValidateOptions<WebhookOptions>
{
    public ValidateOptionsResult Validate(string? name, WebhookOptions options)
    {
        var failures = new List<string>();
        if (!options.Secrets.Exists(s => !string.IsNullOrWhiteSpace(s)))
        {
            failures.Add("CalcomWebhook__Secrets__0 is not set: configure at least one Cal.com webhook secret "
                + "(the app refuses unsigned deliveries, so it cannot run without one).");
        }

        // In Azure the secrets are Key Vault references. One that cannot be resolved (secret missing, no access) reaches
        // the app as its own text, which names no secret: using it as an HMAC key would accept forged deliveries.
        for (var i = 0; i < options.Secrets.Count; i++)
        {
            if (options.Secrets[i].TrimStart().StartsWith("@Microsoft.KeyVault(", StringComparison.OrdinalIgnoreCase))
            {
                failures.Add($"CalcomWebhook__Secrets__{i} is an unresolved Key Vault reference: create the secret in the vault "
                    + "and let the app's identity read it (Key Vault Secrets User), then restart the app.");
            }
        }

        if (options.MaxBodyBytes is < 1024 or > 16 * 1024 * 1024)
        {
            failures.Add("CalcomWebhook__MaxBodyBytes must be between 1024 and 16777216.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
