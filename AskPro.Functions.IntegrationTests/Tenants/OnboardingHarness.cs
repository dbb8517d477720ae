using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json;
using AskPro.Functions.Storage;
using AskPro.Functions.Tenants.Registry;
using AskPro.Tenants;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace AskPro.Functions.Tests.Tenants;

/// <summary>What one run of tools/tenant.sh's entry point printed and returned.</summary>
public sealed record CliRun(int ExitCode, string Stdout, string Stderr)
{
    public string All => Stdout + Stderr;

    public override string ToString() => $"exit {ExitCode}\nstdout:\n{Stdout}\nstderr:\n{Stderr}";
}

/// <summary>
/// Runs <see cref="TenantCli"/> in process against a settings file of its own (Azurite, a fresh local secrets key, the
/// fake Cal.com API as <c>Calcom__ApiBaseUrl</c>) and reads back what it wrote through the registry and the secret store.
/// </summary>
public sealed class OnboardingHarness
{
    private readonly string _settings;

    public OnboardingHarness(string connectionString, Uri calcomApiBaseUrl)
    {
        var key = RandomNumberGenerator.GetBytes(TenantRegistryOptions.LocalKeyBytes);
        _settings = Path.Combine(Directory.CreateTempSubdirectory("askpro-onboarding-").FullName, "local.settings.json");
        File.WriteAllText(_settings, JsonSerializer.Serialize(new
        {
            IsEncrypted = false,
            Values = new Dictionary<string, string>
            {
                [StorageNames.Connection] = connectionString,
                ["TenantRegistry__LocalSecretsKey"] = Convert.ToBase64String(key),
                ["TenantRegistry__RefreshInterval"] = "00:00:02",
                ["Calcom__ApiBaseUrl"] = calcomApiBaseUrl.AbsoluteUri,
            },
        }));
        var storage = new StorageClients(Options.Create(new StorageOptions { ConnectionString = connectionString }), []);
        Registry = new TenantRegistry(storage, TimeProvider.System, NullLogger<TenantRegistry>.Instance);
        Secrets = new LocalTenantSecretStore(storage, key);
    }

    public TenantRegistry Registry { get; }

    public LocalTenantSecretStore Secrets { get; }

    /// <summary>A tenant id no other test of this Azurite uses.</summary>
    public static string NewId(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 13, 40)];

    public async Task<CliRun> RunAsync(string stdin, params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = await TenantCli.RunAsync([.. args, "--settings", _settings], new StringReader(stdin), stdout, stderr, _ => null);
        return new CliRun(code, stdout.ToString(), stderr.ToString());
    }

    public Task<CliRun> RunAsync(params string[] args) => RunAsync("", args);
}

/// <summary>
/// A stand-in for the service's tenant route on a loopback socket: records every delivery (tenant, body, signature
/// header) and answers with the status given (200 by default), so the ping's signature can be checked against the
/// secret Cal.com was given.
/// </summary>
public sealed class PingTarget : IAsyncDisposable
{
    private readonly WebApplication _app;

    private PingTarget(WebApplication app, Uri url)
    {
        _app = app;
        Url = url;
    }

    public sealed record Received(string Tenant, byte[] Body, string Signature);

    public Uri Url { get; }

    public ConcurrentQueue<Received> Deliveries { get; } = new();

    public int Status { get; set; } = 200;

    public static async Task<PingTarget> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        PingTarget? target = null;
        app.MapPost("/api/webhooks/calcom/{tenant}", async (HttpContext c, string tenant) =>
        {
            using var body = new MemoryStream();
            await c.Request.Body.CopyToAsync(body);
            target!.Deliveries.Enqueue(new Received(tenant, body.ToArray(), c.Request.Headers["X-Cal-Signature-256"].ToString()));
            c.Response.StatusCode = target.Status;
            await c.Response.WriteAsync(target.Status == 200 ? """{"status":"ok","trigger_event":"PING"}""" : """{"status":"error"}""");
        });
        await app.StartAsync();
        target = new PingTarget(app, new Uri(app.Urls.First()));
        return target;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
