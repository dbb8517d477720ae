using System.Text.Json;

namespace AskPro.Send;

/// <summary>
/// Where a run of tools/send.sh posts and with which secret: the default route and <c>CalcomWebhook__Secrets__0</c>,
/// or with <c>--tenant</c> the tenant's route and <c>Tenants__{id}__WebhookSecrets__0</c>. An explicit secret wins.
/// </summary>
public static class SendTarget
{
    public const string DefaultUrl = "http://localhost:7071/api/webhooks/calcom";

    /// <summary>
    /// The webhook URL: <paramref name="url"/> (default: the local one) is the default route; with a tenant its id is
    /// appended, unless the URL already ends with it.
    /// </summary>
    public static Uri Url(string? url, string? tenant)
    {
        var target = (url ?? DefaultUrl).TrimEnd('/');
        if (tenant is null || target.EndsWith("/" + tenant, StringComparison.Ordinal))
        {
            return new Uri(target);
        }

        return new Uri(target + "/" + Uri.EscapeDataString(tenant));
    }

    /// <summary>The setting holding the secret to sign with: the default tenant's first secret, or the named tenant's.</summary>
    public static string SecretSetting(string? tenant) => tenant is null ? "CalcomWebhook__Secrets__0" : $"Tenants__{tenant}__WebhookSecrets__0";

    /// <summary>The secret from local.settings.json, else local.settings.sample.json, of the repository at <paramref name="root"/>.</summary>
    public static string DefaultSecret(string root, string? tenant)
    {
        var setting = SecretSetting(tenant);
        foreach (var name in new[] { "local.settings.json", "local.settings.sample.json" })
        {
            var path = Path.Combine(root, name);
            if (File.Exists(path))
            {
                using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
                if (doc.RootElement.TryGetProperty("Values", out var values) && values.TryGetProperty(setting, out var s) && s.GetString() is { Length: > 0 } value)
                {
                    return value;
                }
            }
        }

        throw new ArgumentException(tenant is null
            ? $"no --secret given and no {setting} in local.settings.json or local.settings.sample.json"
            : $"no --secret given and no {setting} in local.settings.json or local.settings.sample.json (a registered tenant's secret is in the secret store: give it with --secret)");
    }
}
