using System.Text.Json;
using AskPro.Functions.Operating;

namespace AskPro.LocalHost;

/// <summary>
/// <c>tools/erase.sh UID</c>: erases one booking's data (SECURITY.md "Erasing one customer's data"), either straight on
/// the storage account of local.settings.json (the same <see cref="Erasure"/> the endpoint runs, from the same
/// composition) or, with <c>--url</c>, through <c>POST /api/ops/erase</c> of a running app (local host, func or Azure).
/// </summary>
public static class EraseCommand
{
    public const int Erased = 0;
    public const int NotErased = 1;
    public const int Failed = 2;

    public const string Usage = """
        Usage: tools/erase.sh UID [options]
          Erases one Cal.com booking's data: its appointment rows, staff calendar ranges and the conflict flags they set,
          history, claim-check bodies and dead letters, and leaves a tombstone so that no later webhook, dead-letter
          replay or reconciliation pass brings it back. Prints the result as JSON (pseudonyms and ids only).

          UID                 the booking uid (any uid of the chain); '-' reads it from standard input, which keeps it
                              out of shell history and the process list
          --tenant ID         the tenant (practice) whose booking it is: only its partition, dead letters and bodies
                              are touched (default: the default tenant); an unknown or disabled tenant erases nothing
          --all-seats         also erase a seated booking whose seats belong to other customers (every seat goes)
          --url URL           call the erase endpoint of a running app instead of the storage account,
                              e.g. http://localhost:7071 or https://<app>.azurewebsites.net (default: storage directly)
          --key KEY           function key for --url (default: $ASKPRO_FUNCTION_KEY; the local host needs none)
          --settings PATH     local.settings.json whose AzureWebJobsStorage is used without --url
                              (default: ./local.settings.json; an environment variable that is set wins, as with func)
          --help              this text

        Exit codes: 0 erased (or already erased), 1 not erased (unknown uid or tenant, or a shared seated booking
        without --all-seats), 2 bad arguments or the erasure failed (run it again: it finishes what a failed run left).
        """;

    public static async Task<int> RunAsync(string[] args, TextReader stdin, TextWriter stdout, TextWriter stderr, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(stdin);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        string? uid = null, url = null, key = Environment.GetEnvironmentVariable("ASKPRO_FUNCTION_KEY"), settings = null, tenant = null;
        var allSeats = false;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--help" or "-h":
                    await stdout.WriteLineAsync(Usage);
                    return Erased;
                case "--all-seats":
                    allSeats = true;
                    break;
                case "--url" or "--key" or "--settings" or "--tenant" when i + 1 < args.Length:
                    var value = args[++i];
                    _ = args[i - 1] switch { "--url" => url = value, "--key" => key = value, "--tenant" => tenant = value, _ => settings = value };
                    break;
                case var a when a.StartsWith("--", StringComparison.Ordinal):
                    await stderr.WriteLineAsync($"unknown option or missing value: {a}\n\n{Usage}");
                    return Failed;
                default:
                    if (uid is not null)
                    {
                        await stderr.WriteLineAsync($"one uid at a time\n\n{Usage}");
                        return Failed;
                    }

                    uid = args[i];
                    break;
            }
        }

        if (uid == "-")
        {
            uid = (await stdin.ReadLineAsync(ct))?.Trim();
        }

        if (string.IsNullOrEmpty(uid))
        {
            await stderr.WriteLineAsync($"no uid given\n\n{Usage}");
            return Failed;
        }

        if (tenant is not null && !AskPro.Functions.Tenants.TenantIds.IsValid(tenant))
        {
            await stderr.WriteLineAsync($"--tenant takes a tenant id: 1 to {AskPro.Functions.Tenants.TenantIds.MaxLength} lowercase letters, digits and '-'\n\n{Usage}");
            return Failed;
        }

        try
        {
            return url is null ? await DirectAsync(uid, allSeats, tenant, settings, stdout, stderr, ct) : await OverHttpAsync(uid, allSeats, tenant, url, key, stdout, stderr, ct);
        }
        catch (Exception ex) when (ex is HttpRequestException or Azure.RequestFailedException or InvalidOperationException or TaskCanceledException
            or Microsoft.Extensions.Options.OptionsValidationException)
        {
            // The message names the setting or the status; never the uid (it is not part of any of them).
            await stderr.WriteLineAsync($"erasure failed ({ex.GetType().Name}): {ex.Message}");
            return Failed;
        }
    }

    private static async Task<int> DirectAsync(string uid, bool allSeats, string? tenantId, string? settings, TextWriter stdout, TextWriter stderr, CancellationToken ct)
    {
        if (uid.Length > AskPro.Functions.Calcom.CalcomWebhookReader.MaxUidLength || !uid.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
        {
            await stderr.WriteLineAsync($"a Cal.com booking uid is 1 to {AskPro.Functions.Calcom.CalcomWebhookReader.MaxUidLength} letters, digits, '-' or '_'");
            return Failed;
        }

        await using var app = LocalFunctionsHost.Build(settings is null ? [] : ["--settings", settings]);
        // The same directory the endpoint asks: a tenant of local.settings.json (Tenants__{id}__…) or the registry.
        var directory = app.Services.GetRequiredService<AskPro.Functions.Tenants.ITenantDirectory>();
        if (await OperatorTenant.ResolveAsync(directory, tenantId, ct) is not { } tenant)
        {
            await stderr.WriteLineAsync($"no enabled tenant has the id '{tenantId}' in these settings: nothing erased");
            return NotErased;
        }

        var report = await app.Services.GetRequiredService<Erasure>().EraseAsync(tenant.Rows, uid, allSeats, ct);
        await stdout.WriteLineAsync(JsonSerializer.Serialize(report, ReportJson));
        switch (report.Outcome)
        {
            case ErasureOutcome.Unknown:
                await stderr.WriteLineAsync("nothing holds that uid (no record, no tombstone, no dead letter): nothing erased");
                return NotErased;
            case ErasureOutcome.SharedSeats:
                await stderr.WriteLineAsync("a seated booking with seats of other customers: nothing erased; --all-seats erases every seat");
                return NotErased;
            default:
                return Erased;
        }
    }

    private static async Task<int> OverHttpAsync(string uid, bool allSeats, string? tenant, string url, string? key, TextWriter stdout, TextWriter stderr, CancellationToken ct)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var baseUri) || baseUri.Scheme is not ("http" or "https"))
        {
            await stderr.WriteLineAsync($"--url must be an http(s) URL such as http://localhost:7071, not {url}");
            return Failed;
        }

        using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(5) };
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(baseUri, "/api/" + ErasureFunction.Route))
        {
            Content = JsonContent.Create(new ErasureRequest(uid, allSeats) { Tenant = tenant }),
        };
        if (!string.IsNullOrEmpty(key))
        {
            request.Headers.Add("x-functions-key", key);
        }

        using var response = await http.SendAsync(request, ct);
        var text = await response.Content.ReadAsStringAsync(ct);
        await ((int)response.StatusCode is >= 200 and < 300 ? stdout : stderr).WriteLineAsync(text.Length > 0 ? text : $"HTTP {(int)response.StatusCode}");
        return (int)response.StatusCode switch
        {
            >= 200 and < 300 => Erased,
            404 or 409 => NotErased,
            _ => Failed,
        };
    }

    private static readonly JsonSerializerOptions ReportJson = new() { WriteIndented = true };
}
