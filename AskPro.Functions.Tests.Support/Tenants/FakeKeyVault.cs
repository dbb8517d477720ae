using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Security.KeyVault.Secrets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace AskPro.Functions.Tests.Tenants;

/// <summary>
/// A fake Key Vault secrets endpoint on a real loopback HTTPS socket (Kestrel, a self-signed certificate made here):
/// the bearer challenge (401 with <c>WWW-Authenticate</c> until a request carries <see cref="Token"/>), set, get
/// (latest version), delete, 404 <c>SecretNotFound</c> and 403 <c>SecretDisabled</c>. <see cref="ClientOptions"/> lets
/// the real <see cref="SecretClient"/> talk to it, its transport trusting exactly this certificate.
/// </summary>
public sealed class FakeKeyVault : IAsyncDisposable
{
    public const string Token = "fake-vault-token";

    private readonly WebApplication _app;
    private readonly X509Certificate2 _certificate;
    private readonly ConcurrentDictionary<string, (string Value, bool Enabled, int Version)> _secrets = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentQueue<string> _requests = new();

    private FakeKeyVault(WebApplication app, X509Certificate2 certificate, Uri vaultUri)
    {
        _app = app;
        _certificate = certificate;
        VaultUri = vaultUri;
    }

    public Uri VaultUri { get; }

    /// <summary>"METHOD path authorized|anonymous" of every request, in order.</summary>
    public IReadOnlyCollection<string> Requests => _requests;

    public static async Task<FakeKeyVault> StartAsync()
    {
        var certificate = SelfSigned();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.UseHttps(certificate)));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        FakeKeyVault? fake = null;
        app.Run(c => fake!.HandleAsync(c));
        await app.StartAsync();
        var address = app.Urls.First().Replace("[::1]", "127.0.0.1", StringComparison.Ordinal);
        fake = new FakeKeyVault(app, certificate, new Uri(address.EndsWith('/') ? address : address + "/"));
        return fake;
    }

    /// <summary>A credential answering every token request with <see cref="Token"/>.</summary>
    public TokenCredential Credential { get; } = new FakeCredential();

    /// <summary>
    /// Options for the SDK's own client: the transport trusts exactly this vault's certificate, and challenge-resource
    /// verification is off (a loopback host is no vault domain).
    /// </summary>
    public SecretClientOptions ClientOptions()
    {
        var thumbprint = _certificate.Thumbprint;
#pragma warning disable CA2000 // The transport owns the handler for the client's lifetime (the test's).
        var handler = new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (_, cert, _, _) => cert is not null && cert.Thumbprint == thumbprint,
        };
#pragma warning restore CA2000
        var options = new SecretClientOptions
        {
            Transport = new HttpClientTransport(handler),
            DisableChallengeResourceVerification = true,
        };
        options.Retry.MaxRetries = 0;
        return options;
    }

    /// <summary>Disables a secret: Key Vault then answers 403 <c>SecretDisabled</c>.</summary>
    public void Disable(string name) => _secrets.AddOrUpdate(name, _ => throw new InvalidOperationException("no such secret"), (_, s) => s with { Enabled = false });

    public bool Holds(string name) => _secrets.ContainsKey(name);

    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync();
        _certificate.Dispose();
    }

    private async Task HandleAsync(HttpContext c)
    {
        var authorized = c.Request.Headers.Authorization.ToString() == "Bearer " + Token;
        _requests.Enqueue($"{c.Request.Method} {c.Request.Path} {(authorized ? "authorized" : "anonymous")}");
        if (!authorized)
        {
            c.Response.StatusCode = 401;
            c.Response.Headers.WWWAuthenticate = "Bearer authorization=\"https://login.microsoftonline.com/00000000-0000-0000-0000-000000000001\", resource=\"https://vault.azure.net\"";
            return;
        }

        var segments = c.Request.Path.Value!.Trim('/').Split('/');
        if (segments is not ["secrets", var name, ..])
        {
            await Error(c, 400, "BadParameter", "Only /secrets is served here.");
            return;
        }

        switch (c.Request.Method)
        {
            case "PUT":
                var body = await JsonNode.ParseAsync(c.Request.Body);
                var value = body?["value"]?.GetValue<string>() ?? "";
                var stored = _secrets.AddOrUpdate(name, _ => (value, true, 1), (_, s) => (value, true, s.Version + 1));
                await Bundle(c, name, stored);
                return;
            case "GET":
                if (!_secrets.TryGetValue(name, out var secret))
                {
                    await Error(c, 404, "SecretNotFound", $"A secret with (name/id) {name} was not found in this key vault.");
                }
                else if (!secret.Enabled)
                {
                    await Error(c, 403, "Forbidden", "Operation get is not allowed on a disabled secret.", "SecretDisabled");
                }
                else
                {
                    await Bundle(c, name, secret);
                }

                return;
            case "DELETE":
                if (!_secrets.TryRemove(name, out var deleted))
                {
                    await Error(c, 404, "SecretNotFound", $"A secret with (name/id) {name} was not found in this key vault.");
                }
                else
                {
                    await Bundle(c, name, deleted);
                }

                return;
            default:
                await Error(c, 405, "BadParameter", "Method not served here.");
                return;
        }
    }

    private async Task Bundle(HttpContext c, string name, (string Value, bool Enabled, int Version) secret)
    {
        var id = new Uri(VaultUri, $"secrets/{name}/{secret.Version.ToString(CultureInfo.InvariantCulture)}");
        c.Response.ContentType = "application/json";
        await c.Response.WriteAsync(JsonSerializer.Serialize(new
        {
            value = secret.Value,
            id = id.AbsoluteUri,
            attributes = new { enabled = secret.Enabled, created = 1767225600, updated = 1767225600, recoveryLevel = "Recoverable+Purgeable" },
        }));
    }

    private static async Task Error(HttpContext c, int status, string code, string message, string? inner = null)
    {
        c.Response.StatusCode = status;
        c.Response.ContentType = "application/json";
        object error = inner is null ? new { code, message } : new { code, message, innererror = new { code = inner } };
        await c.Response.WriteAsync(JsonSerializer.Serialize(new { error }));
    }

    private static X509Certificate2 SelfSigned()
    {
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        san.AddDnsName("localhost");
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        using var created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        // Through PKCS#12 so Kestrel gets a certificate whose private key it can use on every platform.
        return X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pfx), null);
    }

    private sealed class FakeCredential : TokenCredential
    {
        public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            new(Token, DateTimeOffset.UtcNow.AddHours(1));

        public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            new(GetToken(requestContext, cancellationToken));
    }
}
