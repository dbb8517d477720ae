using System.Text.Json;
using System.Text.RegularExpressions;
using AskPro.Functions.Reconciliation;
using AskPro.Functions.Storage;
using AskPro.Functions.Tenants.Registry;
using AskPro.Functions.Tests.Infrastructure;
using AskPro.Functions.Webhooks;
using Microsoft.Extensions.Options;

namespace AskPro.Functions.Tests.Infra;

/// <summary>
/// infra/ and the code agree: the app boots on exactly the settings the Bicep deploys (run through the app's real
/// composition, no storage needed), and the resources it declares carry the names the code uses. Reads the committed
/// snapshot; infra/check.sh keeps that equal to main.bicep.
/// </summary>
public sealed partial class InfraAgreementTests
{
    private static readonly InfraSnapshot Infra = InfraSnapshot.Load();

    // The tenant registry's table and the reconciliation fan-out queue (docs/tenants.md#the-registry).
    private const string TenantsTable = StorageNames.TenantsTable;
    private const string ReconciliationQueue = StorageNames.ReconciliationQueue;
    private const string ReconciliationPoisonQueue = StorageNames.ReconciliationPoisonQueue;

    /// <summary>
    /// Every setting the app or the Functions host reads, and whether infra must set it. A name infra sets that is not
    /// here is a typo the app would silently ignore (falling back to a default).
    /// </summary>
    private static readonly Dictionary<string, Need> Readable = new(StringComparer.Ordinal)
    {
        // Storage, read by the host (queue trigger, Connection = AzureWebJobsStorage) and by StorageClients.
        [StorageNames.Connection] = Need.LocalOnly,
        [$"{StorageNames.Connection}__accountName"] = Need.Required,
        [$"{StorageNames.Connection}__blobServiceUri"] = Need.Optional,
        [$"{StorageNames.Connection}__queueServiceUri"] = Need.Optional,
        [$"{StorageNames.Connection}__tableServiceUri"] = Need.Optional,
        [$"{StorageNames.Connection}__credential"] = Need.Required,
        [$"{StorageNames.Connection}__clientId"] = Need.Required,
        // Webhook intake (WebhookOptions).
        [$"{WebhookOptions.Section}__Secrets__0"] = Need.Required,
        [$"{WebhookOptions.Section}__Secrets__1"] = Need.Optional,
        [$"{WebhookOptions.Section}__{nameof(WebhookOptions.MaxBodyBytes)}"] = Need.Optional,
        ["Appointments__TableName"] = Need.Optional,
        // Telemetry, read by the host and the worker's Application Insights SDK; the authentication string makes ingestion Entra-only.
        ["APPLICATIONINSIGHTS_CONNECTION_STRING"] = Need.Required,
        ["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"] = Need.Required,
        // Reconciliation: the timer's schedule (read by the host as %ReconciliationSchedule%, checked by the worker), the
        // API key as a Key Vault reference (empty: off).
        [ReconcileFunctions.ScheduleSetting] = Need.Required,
        [$"{CalcomApiOptions.Section}__{nameof(CalcomApiOptions.ApiKey)}"] = Need.Required,
        // The tenant registry: on in Azure, secrets from the tenant vault; the local encrypted secrets table is for local runs only.
        [$"{TenantRegistryOptions.Section}__{nameof(TenantRegistryOptions.Enabled)}"] = Need.Required,
        [$"{TenantRegistryOptions.Section}__{nameof(TenantRegistryOptions.KeyVaultUri)}"] = Need.Required,
        [$"{TenantRegistryOptions.Section}__{nameof(TenantRegistryOptions.RefreshInterval)}"] = Need.Optional,
        [$"{TenantRegistryOptions.Section}__{nameof(TenantRegistryOptions.LocalSecretsKey)}"] = Need.LocalOnly,
    };

    private enum Need
    {
        /// <summary>Infra must set it.</summary>
        Required,
        /// <summary>Has a default or is an alternative; infra may set it.</summary>
        Optional,
        /// <summary>A connection string for Azurite; infra must never set it (no keys in app settings).</summary>
        LocalOnly,
    }

    [Fact]
    public async Task The_app_starts_on_exactly_the_settings_infra_deploys()
    {
        var settings = Infra.AppSettings();
        await using var app = AppOn(settings);

        Assert.Null(StartupFailure(app));
        var storage = app.Get<StorageClients>();
        var account = settings[$"{StorageNames.Connection}__accountName"];
        Assert.Equal(new Uri($"https://{account}.queue.core.windows.net/{StorageNames.WebhookQueue}"), storage.WebhookQueue.Uri);
        Assert.Equal(new Uri($"https://{account}.blob.core.windows.net/{StorageNames.BodyContainer}"), storage.BodyContainer.Uri);
        Assert.Equal(settings["Appointments__TableName"], storage.Appointments.Name);
        var webhook = app.Get<IOptions<WebhookOptions>>().Value;
        Assert.Single(webhook.SecretKeys);
        Assert.Equal(int.Parse(settings["CalcomWebhook__MaxBodyBytes"], System.Globalization.CultureInfo.InvariantCulture), webhook.MaxBodyBytes);
    }

    [Theory]
    [InlineData("CalcomWebhook__Secrets__0")]
    [InlineData("AzureWebJobsStorage__accountName")]
    public async Task Without_this_infra_setting_the_app_refuses_to_start(string setting)
    {
        var settings = Infra.AppSettings().Where(s => s.Key != setting).ToDictionary();
        Assert.NotEqual(Infra.AppSettings().Count, settings.Count);

        await using var app = AppOn(settings);

        var failure = StartupFailure(app);
        Assert.NotNull(failure);
        Assert.Contains(setting.Split("__")[0], failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_required_setting_is_deployed_and_every_deployed_setting_is_read()
    {
        var deployed = Infra.AppSettings().Keys.ToHashSet(StringComparer.Ordinal);

        Assert.Subset(deployed, Readable.Where(r => r.Value == Need.Required).Select(r => r.Key).ToHashSet(StringComparer.Ordinal));
        Assert.Subset(Readable.Keys.ToHashSet(StringComparer.Ordinal), deployed);
        Assert.All(Readable.Where(r => r.Value == Need.LocalOnly), r => Assert.DoesNotContain(r.Key, deployed));
    }

    [Fact]
    public void Storage_and_telemetry_use_the_user_assigned_identity_and_no_key()
    {
        var settings = Infra.AppSettings();
        var identity = AppIdentity();

        Assert.Equal("managedidentity", settings["AzureWebJobsStorage__credential"]);
        Assert.Matches(@"^\[reference\('" + Regex.Escape(identity) + @"', '[0-9a-z-]+'\)\.clientId\]$", settings["AzureWebJobsStorage__clientId"]);
        Assert.Matches(@"^\[format\('ClientId=\{0\};Authorization=AAD', reference\('" + Regex.Escape(identity) + @"'",
            settings["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"]);
        Assert.DoesNotContain(settings.Values, v => v.Contains("AccountKey=", StringComparison.OrdinalIgnoreCase)
            || v.Contains("SharedAccessSignature", StringComparison.OrdinalIgnoreCase) || v.Contains("listKeys(", StringComparison.OrdinalIgnoreCase));

        var account = Infra.Single("Microsoft.Storage/storageAccounts").GetProperty("properties");
        Assert.False(account.GetProperty("allowSharedKeyAccess").GetBoolean());
        Assert.False(account.GetProperty("allowBlobPublicAccess").GetBoolean());
        Assert.True(Infra.Single("Microsoft.Insights/components").GetProperty("properties").GetProperty("DisableLocalAuth").GetBoolean());

        var site = Infra.Single("Microsoft.Web/sites");
        Assert.Equal("UserAssigned", site.GetProperty("identity").GetProperty("type").GetString());
        Assert.Equal(identity, site.GetProperty("properties").GetProperty("keyVaultReferenceIdentity").GetString());
        Assert.True(site.GetProperty("properties").GetProperty("httpsOnly").GetBoolean());
    }

    /// <summary>The identity the app's code and connections use (the other one only deploys the package).</summary>
    private static string AppIdentity() =>
        Assert.Single(Infra.Resources("Microsoft.ManagedIdentity/userAssignedIdentities"), r => !r.GetProperty("name").GetString()!.Contains("-deploy-", StringComparison.Ordinal))
            .GetProperty("id").GetString()!;

    [Fact]
    public void Storage_roles_are_scoped_to_each_queue_table_and_container_and_the_app_cannot_write_its_own_package()
    {
        var account = Infra.Single("Microsoft.Storage/storageAccounts").GetProperty("id").GetString()!;
        var app = AppIdentity();
        var deployContainer = Infra.Single("Microsoft.Web/sites").GetProperty("properties").GetProperty("functionAppConfig").GetProperty("deployment")
            .GetProperty("storage").GetProperty("value").GetString()!.Split('\'')[^2];
        var storageRoles = Infra.Resources("Microsoft.Authorization/roleAssignments")
            .Select(r => (Scope: r.GetProperty("id").GetString()!.Split("/providers/Microsoft.Authorization/")[0], Principal: r.GetProperty("properties").GetProperty("principalId").GetString()!))
            .Where(r => r.Scope.StartsWith(account, StringComparison.OrdinalIgnoreCase))
            .ToList();

        Assert.DoesNotContain(storageRoles, r => r.Scope.Equals(account, StringComparison.OrdinalIgnoreCase)); // nothing account-wide
        var appScopes = storageRoles.Where(r => r.Principal.Contains(app, StringComparison.Ordinal)).Select(r => r.Scope.Split('/')[^1]).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(new[] { StorageNames.BodyContainer, StorageNames.DeadLetterContainer, "azure-webjobs-hosts", "azure-webjobs-secrets",
            StorageNames.WebhookQueue, StorageNames.DeadLetterQueue, StorageNames.WebhookPoisonQueue, StorageNames.SeriesLookupQueue, StorageNames.SeriesLookupPoisonQueue,
            ReconciliationQueue, ReconciliationPoisonQueue, new StorageOptions().AppointmentsTable, TenantsTable }.Order(StringComparer.Ordinal), appScopes);
        Assert.DoesNotContain(deployContainer, appScopes);
        var deployer = Assert.Single(storageRoles, r => !r.Principal.Contains(app, StringComparison.Ordinal));
        Assert.EndsWith("/containers/" + deployContainer, deployer.Scope, StringComparison.Ordinal);
    }

    [Fact]
    public void Blob_and_Key_Vault_access_is_logged_but_table_requests_which_carry_uids_are_not()
    {
        var settings = Infra.Resources("Microsoft.Insights/diagnosticSettings")
            .ToDictionary(r => r.GetProperty("id").GetString()!.Split("/providers/Microsoft.Insights/")[0].Split('/')[^2..] is var p ? string.Join('/', p) : "",
                r => r.GetProperty("properties"));

        var vaults = settings.Where(s => s.Key.StartsWith("vaults/", StringComparison.Ordinal)).ToList();
        Assert.Equal(Infra.Resources("Microsoft.KeyVault/vaults").Count(), vaults.Count); // the service's vault and the tenant vault
        Assert.All(vaults, v => Assert.Contains("AuditEvent", Categories(v.Value)));
        Assert.Equal(["StorageDelete", "StorageWrite"], Categories(settings["blobServices/default"]).Order(StringComparer.Ordinal));
        Assert.Equal(["StorageWrite"], Categories(settings["queueServices/default"]));
        Assert.Empty(Categories(settings["tableServices/default"]));

        static List<string> Categories(JsonElement properties) => properties.TryGetProperty("logs", out var logs)
            ? [.. logs.EnumerateArray().Where(l => l.GetProperty("enabled").GetBoolean()).Select(l => l.GetProperty("category").GetString()!)]
            : [];
    }

    [Fact]
    public void The_webhook_secret_is_a_key_vault_reference_to_the_vault_infra_declares()
    {
        var vault = ServiceVault();
        var secrets = Infra.AppSettings().Where(s => s.Key.StartsWith("CalcomWebhook__Secrets__", StringComparison.Ordinal)).ToList();

        Assert.NotEmpty(secrets);
        Assert.All(secrets, s =>
        {
            var reference = KeyVaultReference().Match(s.Value);
            Assert.True(reference.Success, $"{s.Key} must be a Key Vault reference, not a value: {s.Value}");
            Assert.Equal(vault.GetProperty("name").GetString(), reference.Groups["vault"].Value);
        });
        Assert.Contains(secrets, s => s.Value.EndsWith(";SecretName=calcom-webhook-secret)", StringComparison.Ordinal));
        var properties = vault.GetProperty("properties");
        Assert.True(properties.GetProperty("enableRbacAuthorization").GetBoolean());
        Assert.True(properties.GetProperty("enablePurgeProtection").GetBoolean());
    }

    /// <summary>The vault of the service's own secrets (default tenant); the other one holds registered tenants' secrets.</summary>
    private static JsonElement ServiceVault() =>
        Assert.Single(Infra.Resources("Microsoft.KeyVault/vaults"), v => v.GetProperty("name").GetString()!.StartsWith("kv-askpro-", StringComparison.Ordinal));

    private static JsonElement TenantVault() =>
        Assert.Single(Infra.Resources("Microsoft.KeyVault/vaults"), v => v.GetProperty("name").GetString()!.StartsWith("kvt-askpro-", StringComparison.Ordinal));

    [Fact]
    public void The_app_reads_tenant_secrets_from_the_tenant_vault_and_cannot_write_them()
    {
        var settings = Infra.AppSettings();
        var tenantVault = TenantVault();
        var tenantVaultId = tenantVault.GetProperty("id").GetString()!;
        Assert.Equal("true", settings[$"{TenantRegistryOptions.Section}__{nameof(TenantRegistryOptions.Enabled)}"]);
        Assert.Equal($"[reference('{tenantVaultId}', '2024-11-01').vaultUri]", settings[$"{TenantRegistryOptions.Section}__{nameof(TenantRegistryOptions.KeyVaultUri)}"]);
        var properties = tenantVault.GetProperty("properties");
        Assert.True(properties.GetProperty("enableRbacAuthorization").GetBoolean());
        Assert.True(properties.GetProperty("enablePurgeProtection").GetBoolean());
        // Tenant secrets are read by the registry's Key Vault client, never through app settings.
        Assert.DoesNotContain(settings.Values, v => v.Contains($"VaultName={tenantVault.GetProperty("name").GetString()};", StringComparison.Ordinal));

        var app = AppIdentity();
        var appRoles = Infra.Resources("Microsoft.Authorization/roleAssignments")
            .Where(r => r.GetProperty("properties").GetProperty("principalId").GetString()!.Contains(app, StringComparison.Ordinal))
            .Select(r => (Scope: r.GetProperty("id").GetString()!.Split("/providers/Microsoft.Authorization/")[0],
                Role: r.GetProperty("properties").GetProperty("roleDefinitionId").GetString()!))
            .ToList();
        const string SecretsUser = "4633458b-17de-408a-b874-0445c86b69e6";
        const string TableDataContributor = "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3";
        var onTenantVault = Assert.Single(appRoles, r => r.Scope == tenantVaultId);
        Assert.Contains(SecretsUser, onTenantVault.Role, StringComparison.Ordinal);
        // The registry's table client creates the table on first use, which a reader cannot; its entries hold no secret.
        var onRegistry = Assert.Single(appRoles, r => r.Scope.EndsWith("/tables/" + TenantsTable, StringComparison.Ordinal));
        Assert.Contains(TableDataContributor, onRegistry.Role, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unresolved_key_vault_reference_stops_the_app_instead_of_becoming_a_signing_key()
    {
        // App Service hands an unresolvable reference to the app as its literal text, which anyone can compute.
        await using var app = AppOn(Infra.AppSettings(), resolveKeyVault: false);

        var failure = StartupFailure(app);
        Assert.NotNull(failure);
        Assert.Contains("Key Vault reference", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Queue_container_and_table_names_are_the_ones_the_code_uses()
    {
        Assert.Equal([StorageNames.WebhookQueue, StorageNames.DeadLetterQueue, StorageNames.WebhookPoisonQueue, StorageNames.SeriesLookupQueue, StorageNames.SeriesLookupPoisonQueue,
                ReconciliationQueue, ReconciliationPoisonQueue],
            Infra.ChildNames("Microsoft.Storage/storageAccounts/queueServices/queues").Order(StringComparer.Ordinal).OrderBy(n => n switch
            {
                StorageNames.WebhookQueue => 0,
                StorageNames.DeadLetterQueue => 1,
                StorageNames.WebhookPoisonQueue => 2,
                StorageNames.SeriesLookupQueue => 3,
                StorageNames.SeriesLookupPoisonQueue => 4,
                ReconciliationQueue => 5,
                _ => 6,
            }));
        Assert.Equal([new StorageOptions().AppointmentsTable, TenantsTable], Infra.ChildNames("Microsoft.Storage/storageAccounts/tableServices/tables").Order(StringComparer.Ordinal));
        Assert.Equal(new StorageOptions().AppointmentsTable, Infra.AppSettings()["Appointments__TableName"]);

        var deployment = Infra.Single("Microsoft.Web/sites").GetProperty("properties").GetProperty("functionAppConfig").GetProperty("deployment");
        var deploymentContainer = deployment.GetProperty("storage").GetProperty("value").GetString()!.Split('\'')[^2];
        // The host's own containers are declared too: the app's roles are container-scoped and cannot create them.
        Assert.Equal([StorageNames.BodyContainer, StorageNames.DeadLetterContainer, deploymentContainer, "azure-webjobs-hosts", "azure-webjobs-secrets"],
            Infra.ChildNames("Microsoft.Storage/storageAccounts/blobServices/containers")
                .OrderBy(n => n == StorageNames.BodyContainer ? 0 : n == StorageNames.DeadLetterContainer ? 1 : n == deploymentContainer ? 2 : 3));

        var lifecycle = Infra.Single("Microsoft.Storage/storageAccounts/managementPolicies").GetProperty("properties").GetProperty("policy");
        var prefixes = lifecycle.GetProperty("rules").EnumerateArray()
            .SelectMany(r => r.GetProperty("definition").GetProperty("filters").GetProperty("prefixMatch").EnumerateArray()).Select(p => p.GetString());
        Assert.Equal([$"{StorageNames.BodyContainer}/"], prefixes);

        Assert.Contains(Infra.Resources("Microsoft.Insights/scheduledQueryRules"), rule =>
            rule.GetProperty("properties").GetProperty("criteria").GetProperty("allOf")[0].GetProperty("query").GetString()!
                .Contains($"\"/{StorageNames.WebhookPoisonQueue}\"", StringComparison.Ordinal) && rule.GetProperty("properties").GetProperty("criteria")
                .GetProperty("allOf")[0].GetProperty("query").GetString()!.Contains($"\"/{StorageNames.DeadLetterQueue}\"", StringComparison.Ordinal)
                && rule.GetProperty("properties").GetProperty("criteria").GetProperty("allOf")[0].GetProperty("query").GetString()!
                .Contains($"\"/{StorageNames.SeriesLookupPoisonQueue}\"", StringComparison.Ordinal)
                && rule.GetProperty("properties").GetProperty("criteria").GetProperty("allOf")[0].GetProperty("query").GetString()!
                .Contains($"\"/{ReconciliationPoisonQueue}\"", StringComparison.Ordinal));
    }

    [Fact]
    public void A_refused_cal_com_key_alerts_once_per_tenant()
    {
        var rule = Assert.Single(Infra.Resources("Microsoft.Insights/scheduledQueryRules"), r =>
            r.GetProperty("properties").GetProperty("criteria").GetProperty("allOf")[0].GetProperty("query").GetString()!.Contains("\"6002\"", StringComparison.Ordinal));
        var criterion = rule.GetProperty("properties").GetProperty("criteria").GetProperty("allOf")[0];

        // Split by the TenantId column the query projects: each tenant is its own alert instance, fired and resolved on its own.
        var dimension = Assert.Single(criterion.GetProperty("dimensions").EnumerateArray());
        Assert.Equal("TenantId", dimension.GetProperty("name").GetString());
        Assert.Equal("Include", dimension.GetProperty("operator").GetString());
        Assert.Equal(["*"], dimension.GetProperty("values").EnumerateArray().Select(v => v.GetString()));
        Assert.Contains("extend TenantId = tostring(customDimensions.TenantId)", criterion.GetProperty("query").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public void The_webhook_url_output_is_the_http_function_route()
    {
        var url = Infra.Output("webhookUrl");

        Assert.StartsWith("[format('https://{0}/api/{1}', reference(", url, StringComparison.Ordinal);
        Assert.EndsWith($".defaultHostName, '{CalcomWebhookFunction.Route}')]", url, StringComparison.Ordinal);
        // "api" is the host's default prefix: host.json must not change it.
        using var host = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(Azurite.RepoRoot(), "host.json")));
        var routePrefix = host.RootElement.TryGetProperty("extensions", out var extensions) && extensions.TryGetProperty("http", out var http)
            && http.TryGetProperty("routePrefix", out var prefix) ? prefix.GetString() : "api";
        Assert.Equal("api", routePrefix);
    }

    /// <summary>
    /// The app over the deployed settings as Azure presents them: app settings are environment variables
    /// (<c>__</c> = <c>:</c>), Key Vault references and ARM expressions arrive resolved (stand-in values here).
    /// </summary>
    private static TestApp AppOn(IReadOnlyDictionary<string, string> settings, bool resolveKeyVault = true) =>
        TestApp.Create(settings.ToDictionary(
            s => s.Key.Replace("__", ":", StringComparison.Ordinal),
            s => (string?)(resolveKeyVault && KeyVaultReference().Match(s.Value) is { Success: true } reference
                ? $"value-of-{reference.Groups["secret"].Value}-at-least-32-characters"
                : InfraSnapshot.IsExpression(s.Value) ? Resolved(s.Key) : s.Value)));

    /// <summary>A stand-in for a value ARM computes at deployment, shaped like the real one where the app parses it.</summary>
    private static string Resolved(string setting) => setting switch
    {
        "APPLICATIONINSIGHTS_CONNECTION_STRING" => "InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=https://127.0.0.1:9/",
        "APPLICATIONINSIGHTS_AUTHENTICATION_STRING" => "ClientId=00000000-0000-0000-0000-000000000000;Authorization=AAD",
        "TenantRegistry__KeyVaultUri" => "https://kvt-askpro-resolved.vault.azure.net/",
        _ => "resolved-at-deployment",
    };

    /// <summary>What the host does before the first function runs: validate every option registered with ValidateOnStart.</summary>
    private static Exception? StartupFailure(TestApp app)
    {
        try
        {
            app.Get<IStartupValidator>().Validate();
            return null;
        }
        catch (Exception ex) when (ex is OptionsValidationException or AggregateException)
        {
            return ex;
        }
    }

    [GeneratedRegex(@"^@Microsoft\.KeyVault\(VaultName=(?<vault>[^;]+);SecretName=(?<secret>[^)]+)\)$")]
    private static partial Regex KeyVaultReference();
}
