using System.Globalization;
using System.Text.Json;
using AskPro.Functions.Calcom.Webhooks;
using AskPro.Functions.Reconciliation;
using AskPro.Functions.Storage;
using AskPro.Functions.Tenants;
using AskPro.Functions.Tenants.Admin;
using AskPro.Functions.Tenants.Registry;
using AskPro.Send;
using Azure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AskPro.Tenants;

/// <summary>
/// <c>tools/tenant.sh</c>: the registry's operations from a console (docs/onboarding.md#the-command). Parses, builds
/// <see cref="TenantAdmin"/> over the storage account and secret store the settings name, runs one command and prints
/// what it did. Prints no API key, ever, and a webhook secret only when it was generated and Cal.com was not given it
/// by this command (labelled, once). Exit codes as tools/send.sh's.
/// </summary>
public static class TenantCli
{
    public const int Done = 0;
    public const int Failed = 1;
    public const int BadArguments = 2;
    public const int Unreachable = 3;

    public const string Usage = """
        Onboards and manages registered tenants (practices): their registry entry, webhook secrets, API key and Cal.com webhook.

        usage: tools/tenant.sh add <id> --company ID [--api-key KEY|-] [--event-type ID]... [--team ID] [--api-base-url URL]
                                        [--register --url SERVICE_URL]
               tools/tenant.sh register <id> --url SERVICE_URL [--api-key KEY|-]
               tools/tenant.sh list
               tools/tenant.sh rotate-secret <id> [--finish]
               tools/tenant.sh disable <id>

          add <id>          a new tenant: lowercase letters, digits and '-', 1-40 characters (not default, calcom,
                            reconciliation, tenants); a generated webhook secret (64 hex characters) is stored, never
                            the id of an existing tenant (then nothing changes)
          --company ID      the AskPro company id (required with add)
          --api-key KEY     the practice's Cal.com API key (cal_live_…), stored in the secret store only; '-' reads it from
                            standard input, which keeps it out of shell history and the process list (default: none, then
                            no reconciliation and no --register)
          --event-type ID   a Cal.com event type id of the practice (repeat for several): its scope, and with --register
                            one webhook per event type (default: none, the user's webhook)
          --team ID         the practice's Cal.com team id: scope, and team event-type webhooks with --event-type
          --api-base-url U  the practice's own Cal.com API (default: the service's Calcom__ApiBaseUrl)
          --register        create (or update) the webhook in the practice's Cal.com through API v2 with the subscriber
                            URL SERVICE_URL/api/webhooks/calcom/<id>, the applied triggers and the secret, then send a
                            signed PING through that URL and require 200 (default: off; then the secret is printed once)
          --url URL         the service's base URL, e.g. https://<app>.azurewebsites.net or http://localhost:7071
          register <id>     --register for an existing tenant (after a failed one, or to change the key with --api-key)
          list              every registered tenant: enabled, company, scope, key, webhook, secrets (names only)
          rotate-secret     a new webhook secret accepted alongside the old; with a registered webhook and a key Cal.com
                            gets it and the older secrets retire in 15 minutes; else it is printed once and the older
                            ones stay until --finish
          --finish          after putting the new secret into Cal.com by hand: older secrets retire in 15 minutes
          disable <id>      its deliveries are answered 404 unknown_tenant and it is not reconciled

        settings (a flag wins over an environment variable, which wins over local.settings.json's Values):
          --settings FILE   local.settings.json to read (default: the repository's)
          --connection CS   storage connection string (AzureWebJobsStorage; or AzureWebJobsStorage__accountName with
                            your own Azure sign-in)
          --vault URI       Key Vault for tenant secrets (TenantRegistry__KeyVaultUri); without it the local encrypted table
                            under TenantRegistry__LocalSecretsKey
          -h, --help        this text

        Prints what it did. Exit codes: 0 done; 1 not done (unknown or existing tenant, Cal.com refused, the ping did not
        get 200); 2 bad arguments, unusable settings or the tool did not build; 3 storage, the vault, Cal.com or the
        service could not be reached.
        """;

    public static async Task<int> RunAsync(string[] args, TextReader stdin, TextWriter stdout, TextWriter stderr, Func<string, string?> environment, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(stdin);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        ArgumentNullException.ThrowIfNull(environment);
        Command command;
        try
        {
            if (args.Any(a => a is "-h" or "--help"))
            {
                await stdout.WriteLineAsync(Usage);
                return Done;
            }

            command = Command.Parse(args);
            if (command.ApiKey == "-")
            {
                command = command with { ApiKey = (await stdin.ReadLineAsync(ct))?.Trim() is { Length: > 0 } key ? key : throw new ArgumentException("--api-key - read nothing from standard input") };
            }
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or OverflowException)
        {
            await stderr.WriteLineAsync(ex.Message);
            await stderr.WriteLineAsync("try tools/tenant.sh --help");
            return BadArguments;
        }

        ServiceProvider services;
        try
        {
            services = Compose(Settings.Read(command, environment), stderr);
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or JsonException or IOException or UriFormatException)
        {
            await stderr.WriteLineAsync(ex.Message);
            return BadArguments;
        }

        await using (services)
        {
            try
            {
                return await RunAsync(command, services, stdout, ct);
            }
            catch (TenantAdminException ex)
            {
                await stderr.WriteLineAsync(ex.Message);
                return Failed;
            }
            catch (CalcomApiException ex)
            {
                // The message names the request, status and Cal.com's error code and message; never the key or the answer.
                await stderr.WriteLineAsync($"Cal.com: {ex.Message}");
                return ex.Status == 0 ? Unreachable : Failed;
            }
            catch (RequestFailedException ex)
            {
                // Storage or the vault: the status and error code only (a message could quote a request).
                await stderr.WriteLineAsync(ex.Status == 0
                    ? $"storage or the vault could not be reached ({ex.GetType().Name}); is Azurite running (tools/run-local.sh) or the account reachable?"
                    : $"storage or the vault answered {ex.Status} ({ex.ErrorCode ?? "no error code"})");
                return ex.Status == 0 ? Unreachable : Failed;
            }
            catch (HttpRequestException ex)
            {
                await stderr.WriteLineAsync($"{ex.Message}");
                return Unreachable;
            }
            catch (TenantSecretUnreadableException ex)
            {
                await stderr.WriteLineAsync(ex.Message);
                return Failed;
            }
        }
    }

    private static async Task<int> RunAsync(Command c, ServiceProvider services, TextWriter stdout, CancellationToken ct)
    {
        var admin = services.GetRequiredService<TenantAdmin>();
        switch (c.Verb)
        {
            case "add":
            {
                var (entry, secret) = await admin.AddAsync(new NewTenant(c.Id!, c.Company ?? "")
                {
                    ApiKey = c.ApiKey,
                    EventTypeIds = c.EventTypes,
                    TeamId = c.Team,
                    ApiBaseUrl = c.ApiBaseUrl,
                }, ct);
                await stdout.WriteLineAsync($"tenant {entry.Id} added: company {entry.CompanyId}, scope {Scope(entry)}, {(entry.ApiKeySecret is null ? "no API key (no reconciliation)" : "API key stored as " + entry.ApiKeySecret)}, webhook secret stored as {secret.Name}");
                if (c.ServiceUrl is null)
                {
                    await stdout.WriteLineAsync($"webhook secret {secret.Name} (shown once; put it into the practice's Cal.com webhook): {secret.Value}");
                    return Done;
                }

                return await RegisterAndPingAsync(admin, services, c, stdout, ct);
            }

            case "register":
                return await RegisterAndPingAsync(admin, services, c, stdout, ct);

            case "list":
            {
                var entries = await admin.ListAsync(ct);
                foreach (var e in entries)
                {
                    var current = e.WebhookSecrets.Count(s => s.RetiresAt is null);
                    var retiring = e.WebhookSecrets.Where(s => s.RetiresAt is not null).Select(s => $"{s.Name} until {Utc(s.RetiresAt!.Value)}");
                    await stdout.WriteLineAsync($"{e.Id}  {(e.Enabled ? "enabled" : "disabled")}  company {e.CompanyId ?? "-"}  scope {Scope(e)}  API key {(e.ApiKeySecret is null ? "no" : "yes")}  "
                        + $"Cal.com webhook {(e.CalcomWebhookId is null ? "not registered" : "registered")}  secrets {current} current{(retiring.Any() ? ", retiring: " + string.Join(", ", retiring) : "")}");
                }

                await stdout.WriteLineAsync($"{entries.Count} registered tenant(s); configured ones (Tenants__…) are not listed");
                return Done;
            }

            case "rotate-secret" when c.Finish:
            {
                var (entry, at, retiring) = await admin.FinishRotationAsync(c.Id!, ct);
                await stdout.WriteLineAsync($"tenant {entry.Id}: {retiring} older secret(s) accepted until {Utc(at)}, then only {entry.WebhookSecrets[^1].Name}");
                return Done;
            }

            case "rotate-secret":
            {
                var rotation = await admin.RotateAsync(c.Id!, ct);
                if (rotation.CalcomUpdated)
                {
                    await stdout.WriteLineAsync($"tenant {rotation.Entry.Id}: new webhook secret {rotation.Secret.Name} stored and sent to Cal.com; older secrets accepted until {Utc(rotation.OlderRetireAt!.Value)}");
                }
                else
                {
                    await stdout.WriteLineAsync($"tenant {rotation.Entry.Id}: new webhook secret {rotation.Secret.Name} stored and accepted alongside the older ones (no registered Cal.com webhook or no API key)");
                    await stdout.WriteLineAsync($"webhook secret {rotation.Secret.Name} (shown once; put it into the practice's Cal.com webhook, then run tools/tenant.sh rotate-secret {rotation.Entry.Id} --finish): {rotation.Secret.Value}");
                }

                return Done;
            }

            case "disable":
            {
                var entry = await admin.DisableAsync(c.Id!, ct);
                await stdout.WriteLineAsync($"tenant {entry.Id} disabled: its deliveries are answered 404 unknown_tenant and it is not reconciled{(entry.CalcomWebhookId is null ? "" : "; its Cal.com webhook stays (deactivate it in Cal.com)")}");
                return Done;
            }

            default:
                throw new InvalidOperationException(c.Verb);
        }
    }

    private static async Task<int> RegisterAndPingAsync(TenantAdmin admin, ServiceProvider services, Command c, TextWriter stdout, CancellationToken ct)
    {
        var (entry, registration, secret) = await admin.RegisterAsync(c.Id!, c.ServiceUrl!, c.Verb == "register" ? c.ApiKey : null, ct);
        foreach (var (scope, result) in registration.Webhooks)
        {
            await stdout.WriteLineAsync($"Cal.com webhook {result.Webhook.Id} {(result.Created ? "created" : "updated (it existed)")} in the {scope} scope: {result.Webhook.Triggers.Count} triggers, {(result.Webhook.Active ? "active" : "inactive")}, signed with {secret.Name} → {registration.SubscriberUrl}");
        }

        if (entry.TeamId is not null && entry.EventTypeIds.Count == 0)
        {
            await stdout.WriteLineAsync("note: a user webhook does not fire for team event types; give the team's --event-type ids to cover them");
        }

        var examples = WebhookExamples.InRepository(AppContext.BaseDirectory);
        var ping = examples.Load(Path.Combine(WebhookExamples.RepoRoot(AppContext.BaseDirectory), "AskPro.Functions.Tests", "TestData", "calcom", "ping.compact.txt"));
        var http = services.GetRequiredService<IHttpClientFactory>().CreateClient(PingClient);
        var sender = new WebhookSender(http, registration.SubscriberUrl, secret.Value);
        var deadline = DateTime.UtcNow + PingPatience;
        Delivery delivery;
        while (true)
        {
            try
            {
                delivery = await sender.SendAsync(ping, ct);
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                await stdout.WriteLineAsync($"ping through {registration.SubscriberUrl} failed: the service could not be reached ({ex.GetType().Name})");
                return Unreachable;
            }

            // A running service reads registry changes within a minute (at once for an id it has not been asked about):
            // until then it may still hold the entry as it was a moment ago, disabled while add claimed the id.
            if (delivery.StatusCode != 404 || !delivery.Body.Contains("unknown_tenant", StringComparison.Ordinal) || DateTime.UtcNow > deadline)
            {
                break;
            }

            await stdout.WriteLineAsync($"ping through {registration.SubscriberUrl} → 404 unknown_tenant: the service has not read the new entry yet; trying again for up to {PingPatience.TotalSeconds:F0} s");
            await Task.Delay(TimeSpan.FromSeconds(2), ct);
        }

        await stdout.WriteLineAsync($"ping through {registration.SubscriberUrl} → {delivery.StatusCode} {delivery.ReasonPhrase} ({delivery.Elapsed.TotalMilliseconds:F0} ms) {delivery.Body}");
        return delivery.StatusCode == 200 ? Done : Failed;
    }

    private const string PingClient = "ping";

    /// <summary>How long the ping after registering waits for the service to serve the new tenant (it refreshes within a minute).</summary>
    private static readonly TimeSpan PingPatience = TimeSpan.FromSeconds(75);

    private static ServiceProvider Compose(Settings settings, TextWriter stderr)
    {
        var services = new ServiceCollection();
        services.AddLogging(b => b.ClearProviders().AddProvider(new WriterLoggerProvider(stderr)).SetMinimumLevel(LogLevel.Warning));
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(Options.Create(settings.Storage));
        services.AddSingleton<StorageClients>();
        services.AddSingleton<TenantRegistry>();
        services.AddSingleton<ITenantSecretStore>(sp => settings.SecretStore.Kind switch
        {
            SecretStoreKind.KeyVault => new KeyVaultTenantSecretStore(KeyVaultTenantSecretStore.CreateClient(settings.SecretStore.VaultUri!, KeyVaultTenantSecretStore.CredentialFor(null))),
            _ => new LocalTenantSecretStore(sp.GetRequiredService<StorageClients>(), settings.SecretStore.LocalKey!),
        });
        services.AddCalcomWebhookClient();
        services.AddHttpClient(PingClient, http => http.Timeout = TimeSpan.FromSeconds(30))
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false })
            .RemoveAllLoggers();
        services.AddSingleton(sp => new TenantAdmin(sp.GetRequiredService<TenantRegistry>(), sp.GetRequiredService<ITenantSecretStore>(),
            sp.GetRequiredService<CalcomWebhookClient>(), sp.GetRequiredService<TimeProvider>(), settings.CalcomApiBaseUrl)
        {
            ServedWithin = settings.RefreshInterval + TimeSpan.FromSeconds(5),
        });
        return services.BuildServiceProvider();
    }

    private static string Scope(TenantEntry e) =>
        (e.TeamId, e.EventTypeIds.Count) switch
        {
            (null, 0) => "none (every booking its key sees)",
            ({ } team, 0) => $"team {team}",
            (null, _) => $"event types {string.Join(',', e.EventTypeIds)}",
            ({ } team, _) => $"team {team} event types {string.Join(',', e.EventTypeIds)}",
        };

    private static string Utc(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);

    /// <summary>One parsed command line.</summary>
    internal sealed record Command(string Verb, string? Id)
    {
        public string? Company { get; init; }
        public string? ApiKey { get; init; }
        public IReadOnlyList<long> EventTypes { get; init; } = [];
        public long? Team { get; init; }
        public Uri? ApiBaseUrl { get; init; }
        public Uri? ServiceUrl { get; init; }
        public bool Register { get; init; }
        public bool Finish { get; init; }
        public string? SettingsFile { get; init; }
        public string? Connection { get; init; }
        public string? Vault { get; init; }

        /// <summary>Never prints the key.</summary>
        public override string ToString() => $"{Verb} {Id}";

        public static Command Parse(string[] args)
        {
            if (args.Length == 0)
            {
                throw new ArgumentException("name a command: add, register, list, rotate-secret or disable");
            }

            var verb = args[0];
            if (verb is not ("add" or "register" or "list" or "rotate-secret" or "disable"))
            {
                throw new ArgumentException($"unknown command {verb}");
            }

            var c = new Command(verb, null);
            var eventTypes = new List<long>();
            for (var i = 1; i < args.Length; i++)
            {
                string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
                switch (args[i])
                {
                    case "--company" when verb == "add": c = c with { Company = Value() }; break;
                    case "--api-key" when verb is "add" or "register": c = c with { ApiKey = Value() }; break;
                    case "--event-type" when verb == "add": eventTypes.Add(long.Parse(Value(), NumberStyles.None, CultureInfo.InvariantCulture)); break;
                    case "--team" when verb == "add": c = c with { Team = long.Parse(Value(), NumberStyles.None, CultureInfo.InvariantCulture) }; break;
                    case "--api-base-url" when verb == "add": c = c with { ApiBaseUrl = HttpUrl(Value(), "--api-base-url") }; break;
                    case "--register" when verb == "add": c = c with { Register = true }; break;
                    case "--url" when verb is "add" or "register": c = c with { ServiceUrl = HttpUrl(Value(), "--url") }; break;
                    case "--finish" when verb == "rotate-secret": c = c with { Finish = true }; break;
                    case "--settings": c = c with { SettingsFile = Value() }; break;
                    case "--connection": c = c with { Connection = Value() }; break;
                    case "--vault": c = c with { Vault = Value() }; break;
                    case var a when a.StartsWith('-') && a != "-": throw new ArgumentException($"unknown option {a} for {verb}");
                    default:
                        c = c.Id is null && verb != "list" ? c with { Id = args[i] } : throw new ArgumentException($"unexpected argument {args[i]}");
                        break;
                }
            }

            c = c with { EventTypes = eventTypes };
            if (verb != "list" && c.Id is null)
            {
                throw new ArgumentException($"{verb} needs a tenant id");
            }

            if (verb == "add" ? !TenantIds.IsDeclarable(c.Id) : verb != "list" && !TenantIds.IsValid(c.Id))
            {
                throw new ArgumentException($"'{c.Id}' cannot be a tenant id: lowercase letters, digits and '-', 1-{TenantIds.MaxLength} characters"
                    + (verb == "add" ? $", not {TenantIds.Default} or one of {string.Join(", ", TenantIds.Reserved.Order(StringComparer.Ordinal))}" : ""));
            }

            if (verb == "add" && string.IsNullOrWhiteSpace(c.Company))
            {
                throw new ArgumentException("add needs --company (the AskPro company id)");
            }

            if (verb == "add" && c.Register != (c.ServiceUrl is not null))
            {
                throw new ArgumentException("--register and --url go together: --register --url <service base URL>");
            }

            if (verb == "add" && c.Register && c.ApiKey is null)
            {
                throw new ArgumentException("--register needs --api-key (the practice's Cal.com API key)");
            }

            if (verb == "register" && c.ServiceUrl is null)
            {
                throw new ArgumentException("register needs --url <service base URL>");
            }

            return c;
        }

        private static Uri HttpUrl(string value, string option) =>
            Uri.TryCreate(value, UriKind.Absolute, out var url) && url.Scheme is "http" or "https"
                ? url
                : throw new ArgumentException($"{option} must be an absolute http(s) URL");
    }

    /// <summary>Where storage, the secret store and Cal.com are: flag, else environment, else local.settings.json.</summary>
    private sealed record Settings(StorageOptions Storage, SecretStoreChoice SecretStore, Uri CalcomApiBaseUrl)
    {
        /// <summary>The service's <c>TenantRegistry__RefreshInterval</c> (same settings): how long it may take to accept a new secret.</summary>
        public TimeSpan RefreshInterval { get; init; } = TenantRegistryOptions.DefaultRefreshInterval;

        public static Settings Read(Command c, Func<string, string?> environment)
        {
            var file = c.SettingsFile ?? Path.Combine(WebhookExamples.RepoRoot(AppContext.BaseDirectory), "local.settings.json");
            var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            if (File.Exists(file))
            {
                using var doc = JsonDocument.Parse(File.ReadAllBytes(file));
                if (doc.RootElement.TryGetProperty("Values", out var v) && v.ValueKind == JsonValueKind.Object)
                {
                    foreach (var p in v.EnumerateObject().Where(p => p.Value.ValueKind == JsonValueKind.String))
                    {
                        values[p.Name] = p.Value.GetString()!;
                    }
                }
            }
            else if (c.SettingsFile is not null)
            {
                throw new FileNotFoundException($"--settings {c.SettingsFile}: no such file");
            }

            string? Get(string name) => environment(name) is { Length: > 0 } e ? e : values.GetValueOrDefault(name);

            var storage = new StorageOptions
            {
                ConnectionString = c.Connection ?? Get(StorageNames.Connection),
                AccountName = Get(StorageNames.Connection + "__accountName"),
            };
            if (!storage.UsesConnectionString && string.IsNullOrWhiteSpace(storage.AccountName))
            {
                throw new ArgumentException($"no storage: give --connection, or set {StorageNames.Connection} (or {StorageNames.Connection}__accountName) in the environment or {file}");
            }

            var registry = new TenantRegistryOptions
            {
                KeyVaultUri = c.Vault ?? Get(TenantRegistryOptions.Section + "__" + nameof(TenantRegistryOptions.KeyVaultUri)),
                LocalSecretsKey = Get(TenantRegistryOptions.Section + "__" + nameof(TenantRegistryOptions.LocalSecretsKey)),
            };
            var store = registry.ChooseSecretStore();
            if (store.Problem is { } problem)
            {
                throw new ArgumentException($"no secret store for tenant secrets: {problem}");
            }

            var api = Get(CalcomApiOptions.Section + "__" + nameof(CalcomApiOptions.ApiBaseUrl));
            var refresh = TimeSpan.TryParse(Get(TenantRegistryOptions.Section + "__" + nameof(TenantRegistryOptions.RefreshInterval)), CultureInfo.InvariantCulture, out var interval)
                && interval >= TimeSpan.FromSeconds(1) && interval <= TimeSpan.FromMinutes(1) ? interval : TenantRegistryOptions.DefaultRefreshInterval;
            return new Settings(storage, store, api is null ? new CalcomApiOptions().ApiBaseUrl : new Uri(api, UriKind.Absolute)) { RefreshInterval = refresh };
        }
    }

    /// <summary>Warnings and errors of the parts (an unreadable registry row) to standard error, with no request or value in them.</summary>
    private sealed class WriterLoggerProvider(TextWriter writer) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new WriterLogger(writer);

        public void Dispose()
        {
        }

        private sealed class WriterLogger(TextWriter writer) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                if (IsEnabled(logLevel))
                {
                    lock (writer)
                    {
                        writer.WriteLine($"{logLevel.ToString().ToLowerInvariant()}: {formatter(state, exception)}");
                    }
                }
            }
        }
    }
}
