using System.Text.Json;
using AskPro.Functions.Hosting;
using AskPro.Functions.Operating;
using AskPro.Functions.Queueing;
using AskPro.Functions.Reconciliation;
using AskPro.Functions.Storage;
using AskPro.Functions.Webhooks;
using Azure.Storage.Queues.Models;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Abstractions;
using Microsoft.Azure.WebJobs;
using Microsoft.Azure.WebJobs.Host;
using Microsoft.Extensions.Options;

namespace AskPro.LocalHost;

/// <summary>
/// Runs the product's own function classes from its own composition (<c>AddAskProFunctions</c>)
/// the way the Functions host does, without Core Tools: the HTTP function on Kestrel under the host's route prefix, the
/// queue function driven by the WebJobs SDK queue listener with host.json's queue settings. Nothing of the product's
/// logic is repeated here; the smoke test builds exactly this application.
/// </summary>
public static class LocalFunctionsHost
{
    /// <summary>The configuration section the Functions host loads host.json into (the WebJobs SDK reads its options there).</summary>
    public const string HostJsonRoot = "AzureFunctionsJobHost";
    public const int DefaultPort = 7071;
    /// <summary>The flag that lets the host listen on other interfaces than loopback (or the setting <c>LocalHost__AllowRemote=true</c>).</summary>
    public const string AllowRemoteFlag = "--allow-remote";
    public const string AllowRemoteSetting = "LocalHost:AllowRemote";
    /// <summary>The flag that shows every log line (option dumps, per-request lines, structured fields) instead of the person's console.</summary>
    public const string VerboseFlag = "--verbose";

    /// <param name="args"><c>--port N</c> (default: local.settings.json <c>Host.LocalHttpPort</c>, else 7071), <c>--urls</c>,
    /// <c>--settings PATH</c> (default: local.settings.json in the current directory), <c>--hostjson PATH</c> (default: the one beside this program),
    /// <c>--allow-remote</c> (listen on the addresses asked for even when they are not loopback), <c>--verbose</c> (every log line).</param>
    /// <param name="replace">Registrations after the product's (tests only: to make a part fail on purpose).</param>
    /// <param name="console">Where the functions, the URL and the per-delivery lines go (default: standard output).</param>
    public static WebApplication Build(string[] args, Action<IServiceCollection>? replace = null, TextWriter? console = null)
    {
        ArgumentNullException.ThrowIfNull(args);
        var allowRemoteFlag = args.Contains(AllowRemoteFlag, StringComparer.Ordinal);
        var verbose = args.Contains(VerboseFlag, StringComparer.Ordinal);
        args = [.. args.Where(a => a != AllowRemoteFlag && a != VerboseFlag)];
        console ??= Console.Out;
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        builder.Host.ConfigureWebJobs(b => b.AddAzureStorageQueues());
        var settingsPath = builder.Configuration["settings"] ?? Path.Combine(Environment.CurrentDirectory, "local.settings.json");
        var (values, localPort) = LocalSettings.Read(settingsPath);
        builder.Configuration
            .AddInMemoryCollection(HostJson(builder.Configuration["hostjson"] ?? Path.Combine(AppContext.BaseDirectory, "host.json")))
            .AddInMemoryCollection(values)
            .AddEnvironmentVariables() // as with func: a variable that is already set wins over local.settings.json
            .AddCommandLine(args);
        var port = builder.Configuration["port"] ?? (localPort ?? DefaultPort).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var binding = Binding.Of(builder.Configuration["urls"] ?? $"http://localhost:{port}",
            allowRemoteFlag || string.Equals(builder.Configuration[AllowRemoteSetting], "true", StringComparison.OrdinalIgnoreCase));
        if (builder.Configuration.GetSection("Kestrel:Endpoints").GetChildren().Any())
        {
            // Kestrel's own endpoint settings would win over the addresses checked here.
            throw new InvalidOperationException("Kestrel__Endpoints is set: the local host chooses its addresses from --urls/ASPNETCORE_URLS only (loopback unless --allow-remote).");
        }

        builder.WebHost.UseUrls([.. binding.Urls]);
        if (binding.Warning is { } warning)
        {
            Console.Error.WriteLine(warning);
        }

        // The storage SDK's per-request lines (a 404 on every poll of a queue not created yet) are noise on a console;
        // storage failures that matter are logged by the product itself.
        builder.Logging.AddFilter("Azure.Core", LogLevel.Error);
        var person = new PersonConsole(console, TimeProvider.System);
        if (!verbose)
        {
            builder.Logging.ClearProviders().AddProvider(person);
        }

        builder.Services.AddAskProFunctions(builder.Configuration);
        builder.Services.AddSingleton<ITypeLocator>(new JobTypes());
        builder.Services.AddSingleton<IJobActivator, ServiceJobActivator>();
        replace?.Invoke(builder.Services);

        var app = builder.Build();
        if (binding.Warning is { } said)
        {
            app.Logger.LogWarning("{Warning}", said);
        }

        app.Lifetime.ApplicationStarted.Register(() => Banner(app, person, verbose));
        app.MapPost(WebhookPath(app.Configuration), (HttpContext http, CalcomWebhookFunction function) =>
            RunAsync(http, nameof(CalcomWebhookFunction.CalcomWebhook), () => function.CalcomWebhook(http.Request, http.RequestAborted))).WithName(nameof(CalcomWebhookFunction.CalcomWebhook));
        app.MapPost(RoutePath(app.Configuration, CalcomWebhookFunction.TenantRoute), (HttpContext http, string tenant, CalcomWebhookFunction function) =>
            RunAsync(http, nameof(CalcomWebhookFunction.CalcomTenantWebhook), () => function.CalcomTenantWebhook(http.Request, tenant, http.RequestAborted))).WithName(nameof(CalcomWebhookFunction.CalcomTenantWebhook));
        // The operator endpoints (function keys in Azure; func start does not check keys locally either).
        app.MapPost(RoutePath(app.Configuration, AppointmentLookupFunction.Route), (HttpContext http, AppointmentLookupFunction function) =>
            RunAsync(http, nameof(AppointmentLookupFunction.AppointmentLookup), () => function.AppointmentLookup(http.Request, http.RequestAborted))).WithName(nameof(AppointmentLookupFunction.AppointmentLookup));
        app.MapGet(RoutePath(app.Configuration, "deadletter"), (HttpContext http, DeadLetterFunctions function) =>
            RunAsync(http, nameof(DeadLetterFunctions.DeadLetterList), () => function.DeadLetterList(http.Request, http.RequestAborted))).WithName(nameof(DeadLetterFunctions.DeadLetterList));
        app.MapPost(RoutePath(app.Configuration, "deadletter/replay"), (HttpContext http, DeadLetterFunctions function) =>
            RunAsync(http, nameof(DeadLetterFunctions.DeadLetterReplay), () => function.DeadLetterReplay(http.Request, http.RequestAborted))).WithName(nameof(DeadLetterFunctions.DeadLetterReplay));
        app.MapPost(RoutePath(app.Configuration, ErasureFunction.Route), (HttpContext http, ErasureFunction function) =>
            RunAsync(http, nameof(ErasureFunction.EraseBooking), () => function.EraseBooking(http.Request, http.RequestAborted))).WithName(nameof(ErasureFunction.EraseBooking));
        app.MapPost(RoutePath(app.Configuration, ReconcileFunctions.Route), (HttpContext http, ReconcileFunctions function) =>
            RunAsync(http, nameof(ReconcileFunctions.ReconcileOnDemand), () => function.ReconcileOnDemand(http.Request, http.RequestAborted))).WithName(nameof(ReconcileFunctions.ReconcileOnDemand));
        return app;
    }

    /// <summary>The queue functions the WebJobs listener runs: name and queue.</summary>
    public static IReadOnlyList<(string Name, string Queue)> QueueFunctions { get; } =
        [.. typeof(QueueJob).GetMethods()
            .Select(m => (Function: m.GetCustomAttributes(typeof(FunctionNameAttribute), false).OfType<FunctionNameAttribute>().FirstOrDefault(),
                Trigger: m.GetParameters().SelectMany(p => p.GetCustomAttributes(typeof(QueueTriggerAttribute), false).OfType<QueueTriggerAttribute>()).FirstOrDefault()))
            .Where(x => x.Function is not null && x.Trigger is not null)
            .Select(x => (x.Function!.Name, x.Trigger!.QueueName))];

    /// <summary>What a person needs on screen once the host listens: the functions, where to send, where records land.</summary>
    private static void Banner(WebApplication app, PersonConsole console, bool verbose)
    {
        var address = (app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>()
            .Features.Get<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>()?.Addresses.FirstOrDefault() ?? "").TrimEnd('/');
        var lines = new List<string> { "", "Functions:", "" };
        // What is really mapped, so the list cannot drift from the routes.
        lines.AddRange(((IEndpointRouteBuilder)app).DataSources.SelectMany(d => d.Endpoints).OfType<RouteEndpoint>()
            .Select(e => $"        {e.Metadata.GetMetadata<IEndpointNameMetadata>()?.EndpointName}: " +
                $"[{string.Join(",", e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? [])}] {address}/{e.RoutePattern.RawText?.TrimStart('/')}"));
        lines.AddRange(QueueFunctions.Select(f => $"        {f.Name}: queueTrigger ({f.Queue})"));
        lines.Add("");
        lines.Add($"AskPro local host: POST {address}{WebhookPath(app.Configuration)} → queue {StorageNames.WebhookQueue} → table {TableName(app.Services)}. Ctrl-C stops it.");
        lines.Add(verbose
            ? "Every log line follows (--verbose)."
            : "One line per delivery and per applied event follows; warnings and errors as they come (--verbose shows every log line).");
        foreach (var line in lines)
        {
            console.WriteLine(line);
        }
    }

    /// <summary><c>/{routePrefix}/webhooks/calcom</c>, with host.json's <c>extensions.http.routePrefix</c> (default <c>api</c>) as the host applies it.</summary>
    public static string WebhookPath(IConfiguration configuration) => RoutePath(configuration, CalcomWebhookFunction.Route);

    /// <summary>A function's route under host.json's route prefix, as the host serves it.</summary>
    public static string RoutePath(IConfiguration configuration, string route)
    {
        var prefix = (configuration[$"{HostJsonRoot}:extensions:http:routePrefix"] ?? "api").Trim('/');
        return prefix.Length == 0 ? $"/{route}" : $"/{prefix}/{route}";
    }

    /// <summary>Runs one function method and writes its answer; an unexpected exception gets the product's uniform 500.</summary>
    private static async Task RunAsync(HttpContext http, string functionName, Func<Task<IActionResult>> function)
    {
        try
        {
            var result = await function();
            await result.ExecuteResultAsync(new ActionContext(http, http.GetRouteData(), new ActionDescriptor()));
        }
        catch (Exception ex) when (!http.Response.HasStarted)
        {
            var logger = http.RequestServices.GetRequiredService<ILogger<ExceptionMiddleware>>();
            await ExceptionMiddleware.HandleUnexpectedAsync(logger, functionName, http.TraceIdentifier, ex, http.Response);
        }
    }

    public static string TableName(IServiceProvider services) => services.GetRequiredService<IOptions<StorageOptions>>().Value.AppointmentsTable;

    /// <summary>
    /// host.json flattened under <see cref="HostJsonRoot"/>, as the Functions host loads it, and the key that tells the
    /// WebJobs SDK to read its options there. The tests' queue-listener harness configures itself with this too.
    /// </summary>
    public static Dictionary<string, string?> HostJson(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"host.json not found at {path}: it is copied into the build output from the repository's top level.", path);
        }

        var json = new ConfigurationBuilder().AddJsonFile(path, optional: false, reloadOnChange: false).Build();
        var settings = json.AsEnumerable().Where(kv => kv.Value is not null)
            .ToDictionary(kv => $"{HostJsonRoot}:{kv.Key}", kv => kv.Value, StringComparer.OrdinalIgnoreCase);
        settings["AzureWebJobsConfigurationSection"] = HostJsonRoot;
        return settings;
    }

    /// <summary>The queue functions as the WebJobs SDK indexes them: their triggers, and calls of the product's own functions.</summary>
    public sealed class QueueJob(ApplyCalcomEventFunction function, SeriesLookupFunction lookups, ReconcileFunctions reconcile)
    {
        [FunctionName(nameof(ApplyCalcomEventFunction.ApplyCalcomEvent))]
        public Task ApplyCalcomEvent(
            [QueueTrigger(StorageNames.WebhookQueue, Connection = StorageNames.Connection)] QueueMessage message,
            CancellationToken cancellationToken) => function.ApplyCalcomEvent(message, cancellationToken);

        [FunctionName(nameof(SeriesLookupFunction.RunSeriesLookup))]
        public Task RunSeriesLookup(
            [QueueTrigger(StorageNames.SeriesLookupQueue, Connection = StorageNames.Connection)] QueueMessage message,
            CancellationToken cancellationToken) => lookups.RunSeriesLookup(message, cancellationToken);

        [FunctionName(nameof(ReconcileFunctions.RunTenantReconciliation))]
        public Task RunTenantReconciliation(
            [QueueTrigger(StorageNames.ReconciliationQueue, Connection = StorageNames.Connection)] QueueMessage message,
            CancellationToken cancellationToken) => reconcile.RunTenantReconciliation(message, cancellationToken);
    }

    private sealed class JobTypes : ITypeLocator
    {
        public IReadOnlyList<Type> GetTypes() => [typeof(QueueJob)];
    }

    private sealed class ServiceJobActivator(IServiceProvider services) : IJobActivator
    {
        public T CreateInstance<T>() => ActivatorUtilities.CreateInstance<T>(services);
    }
}

/// <summary>
/// Where the local host listens. It serves the operator endpoints without function keys (lookups with
/// <c>?include=personal</c>, dead-letter replay, reconciliation), so it binds loopback unless it is told otherwise with
/// <see cref="LocalFunctionsHost.AllowRemoteFlag"/>: addresses asked for through <c>--urls</c>, <c>ASPNETCORE_URLS</c> or
/// <c>urls</c> that are not loopback (<c>0.0.0.0</c>, <c>*</c>, <c>+</c>, <c>[::]</c>, a host name, a LAN address) become
/// <c>localhost</c> on the same port, with a warning saying so; allowed, they are bound as asked, with a warning
/// that the endpoints are open to the network.
/// </summary>
public sealed record Binding(IReadOnlyList<string> Urls, string? Warning)
{
    public static Binding Of(string urls, bool allowRemote)
    {
        ArgumentNullException.ThrowIfNull(urls);
        var asked = urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var remote = asked.Where(u => !IsLoopback(u)).ToList();
        if (remote.Count == 0)
        {
            return new Binding(asked, null);
        }

        if (allowRemote)
        {
            return new Binding(asked, $"WARNING: the local host listens on {string.Join(", ", remote)}, not only on loopback ({LocalFunctionsHost.AllowRemoteFlag}): " +
                "anyone who can reach this machine can look up appointments with personal data (?include=personal), replay dead letters and start reconciliation. No function key is checked.");
        }

        var loopback = asked.Select(u => IsLoopback(u) ? u : OnLoopback(u)).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        return new Binding(loopback, $"WARNING: {string.Join(", ", remote)} is not a loopback address; the local host listens on {string.Join(", ", loopback)} instead, " +
            $"because its operator endpoints check no function key. Pass {LocalFunctionsHost.AllowRemoteFlag} (or set LocalHost__AllowRemote=true) to listen there anyway.");
    }

    /// <summary><c>localhost</c>, <c>127.x.y.z</c> or <c>[::1]</c>; anything else (wildcards, names, other addresses) is not.</summary>
    public static bool IsLoopback(string url)
    {
        var host = Host(url);
        return host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
            || (System.Net.IPAddress.TryParse(host.Trim('[', ']'), out var ip) && System.Net.IPAddress.IsLoopback(ip));
    }

    private static string Host(string url)
    {
        var rest = url.Contains("://", StringComparison.Ordinal) ? url[(url.IndexOf("://", StringComparison.Ordinal) + 3)..] : url;
        rest = rest.Split('/')[0];
        if (rest.StartsWith('['))
        {
            var end = rest.IndexOf(']', StringComparison.Ordinal);
            return end > 0 ? rest[..(end + 1)] : rest;
        }

        var colon = rest.LastIndexOf(':');
        return colon >= 0 ? rest[..colon] : rest;
    }

    private static string OnLoopback(string url)
    {
        var scheme = url.Contains("://", StringComparison.Ordinal) ? url[..url.IndexOf("://", StringComparison.Ordinal)] : "http";
        var rest = url.Contains("://", StringComparison.Ordinal) ? url[(url.IndexOf("://", StringComparison.Ordinal) + 3)..] : url;
        rest = rest.Split('/')[0];
        var host = Host(url);
        var port = rest.Length > host.Length && rest[host.Length] == ':' ? rest[(host.Length + 1)..] : (scheme == "https" ? "443" : "80");
        return $"{scheme}://127.0.0.1:{port}"; // not "localhost": Kestrel refuses port 0 there
    }
}

/// <summary>local.settings.json read as func reads it: <c>Values</c> become settings (<c>__</c> separates sections), <c>Host.LocalHttpPort</c> is the port.</summary>
public static class LocalSettings
{
    public static (Dictionary<string, string?> Values, int? Port) Read(string path)
    {
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        if (!File.Exists(path))
        {
            Console.Error.WriteLine($"no {path}: settings come from the environment only (tools/run-local.sh creates it from local.settings.sample.json)");
            return (values, null);
        }

        using var doc = JsonDocument.Parse(File.ReadAllBytes(path), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        var root = doc.RootElement;
        if (root.TryGetProperty("IsEncrypted", out var encrypted) && encrypted.ValueKind == JsonValueKind.True)
        {
            throw new InvalidOperationException($"{path} is encrypted (IsEncrypted: true); decrypt it with 'func settings decrypt' or recreate it from local.settings.sample.json.");
        }

        if (root.TryGetProperty("Values", out var settings) && settings.ValueKind == JsonValueKind.Object)
        {
            foreach (var setting in settings.EnumerateObject())
            {
                values[setting.Name.Replace("__", ":", StringComparison.Ordinal)] = setting.Value.ValueKind == JsonValueKind.String ? setting.Value.GetString() : setting.Value.GetRawText();
            }
        }

        if (root.TryGetProperty("ConnectionStrings", out var connections) && connections.ValueKind == JsonValueKind.Object)
        {
            foreach (var connection in connections.EnumerateObject())
            {
                values[$"ConnectionStrings:{connection.Name}"] = connection.Value.GetString();
            }
        }

        int? port = root.TryGetProperty("Host", out var host) && host.TryGetProperty("LocalHttpPort", out var p) && p.TryGetInt32(out var n) ? n : null;
        return (values, port);
    }
}
