using System.Text;
using System.Text.Json;
using AskPro.Functions.Tests.Infrastructure;
using AskPro.Functions.Webhooks;
using AskPro.Send;

namespace AskPro.Functions.Tests.Tenants;

/// <summary>
/// <c>tools/send.sh --tenant</c>: the tenant's route and, unless <c>--secret</c> is given, the tenant's configured secret
/// from local.settings.json; a delivery over a loopback socket carries a signature that verifies with that secret only.
/// </summary>
public sealed class OnboardingSendTests
{
    private const string DefaultSecret = "default-tenant-secret-0123456789abcdef0123";
    private const string TenantSecret = "praxis-a-secret-fedcba9876543210fedcba98765";

    [Fact]
    public void The_tenant_s_route_is_the_default_route_with_its_id_appended_once()
    {
        Assert.Equal("http://localhost:7071/api/webhooks/calcom", SendTarget.Url(null, null).AbsoluteUri);
        Assert.Equal("http://localhost:7071/api/webhooks/calcom/praxis-a", SendTarget.Url(null, "praxis-a").AbsoluteUri);
        Assert.Equal("https://app.example/api/webhooks/calcom/praxis-a", SendTarget.Url("https://app.example/api/webhooks/calcom/", "praxis-a").AbsoluteUri);
        Assert.Equal("https://app.example/api/webhooks/calcom/praxis-a", SendTarget.Url("https://app.example/api/webhooks/calcom/praxis-a", "praxis-a").AbsoluteUri);
    }

    [Fact]
    public async Task With_a_tenant_the_delivery_goes_to_its_route_signed_with_its_configured_secret_not_the_default_one()
    {
        var root = Directory.CreateTempSubdirectory("askpro-send-tenant-").FullName;
        await File.WriteAllTextAsync(Path.Combine(root, "local.settings.json"), JsonSerializer.Serialize(new
        {
            Values = new Dictionary<string, string>
            {
                ["CalcomWebhook__Secrets__0"] = DefaultSecret,
                ["Tenants__praxis-a__WebhookSecrets__0"] = TenantSecret,
            },
        }));
        await using var service = await PingTarget.StartAsync();
        using var http = new HttpClient();

        var secret = SendTarget.DefaultSecret(root, "praxis-a");
        var url = SendTarget.Url(new Uri(service.Url, "/api/webhooks/calcom").AbsoluteUri, "praxis-a");
        var delivery = await new WebhookSender(http, url, secret).SendAsync(new Webhook("ping", Examples.Calcom("ping.compact.txt")), CancellationToken.None);

        Assert.Equal(200, delivery.StatusCode);
        var received = Assert.Single(service.Deliveries);
        Assert.Equal("praxis-a", received.Tenant);
        Assert.Equal(SignatureResult.Valid, WebhookSignature.Verify(received.Body, received.Signature, [Encoding.UTF8.GetBytes(TenantSecret)]));
        Assert.NotEqual(SignatureResult.Valid, WebhookSignature.Verify(received.Body, received.Signature, [Encoding.UTF8.GetBytes(DefaultSecret)]));
        Assert.Equal(DefaultSecret, SendTarget.DefaultSecret(root, null));
        var missing = Assert.Throws<ArgumentException>(() => SendTarget.DefaultSecret(root, "praxis-b"));
        Assert.Contains("Tenants__praxis-b__WebhookSecrets__0", missing.Message, StringComparison.Ordinal);
    }
}
