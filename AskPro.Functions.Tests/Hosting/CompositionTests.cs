using AskPro.Functions.Queueing;
using AskPro.Functions.Storage;
using AskPro.Functions.Tests.Infrastructure;
using AskPro.Functions.Webhooks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AskPro.Functions.Tests.Hosting;

/// <summary>The composition the host runs: misconfiguration stops the app at start, naming the app setting to fix.</summary>
public sealed class CompositionTests
{
    // Never contacted: building the graph and validating options does not touch storage.
    private const string Storage = "UseDevelopmentStorage=true";

    [Fact]
    public async Task Without_any_webhook_secret_start_up_fails_naming_CalcomWebhook__Secrets__0()
    {
        await using var app = TestApp.Create(Storage, s =>
        {
            s.Remove("CalcomWebhook:Secrets:0");
            s.Remove("CalcomWebhook:Secrets:1");
        });

        var failure = Assert.Throws<OptionsValidationException>(() => app.Get<IStartupValidator>().Validate());
        Assert.Contains("CalcomWebhook__Secrets__0", failure.Message, StringComparison.Ordinal);
        Assert.Throws<OptionsValidationException>(() => app.Get<IOptions<WebhookOptions>>().Value);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    public async Task Blank_webhook_secrets_count_as_none(string blank)
    {
        await using var app = TestApp.Create(Storage, s =>
        {
            s["CalcomWebhook:Secrets:0"] = blank;
            s.Remove("CalcomWebhook:Secrets:1");
        });

        var failure = Assert.Throws<OptionsValidationException>(() => app.Get<IStartupValidator>().Validate());
        Assert.Contains("CalcomWebhook__Secrets__0", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_AzureWebJobsStorage_start_up_fails_naming_AzureWebJobsStorage()
    {
        await using var app = TestApp.Create(Storage, s => s.Remove("AzureWebJobsStorage"));

        var failure = Assert.Throws<OptionsValidationException>(() => app.Get<IStartupValidator>().Validate());
        Assert.Contains("AzureWebJobsStorage", failure.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("CalcomWebhook", failure.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("100")]
    [InlineData("99999999")]
    public async Task A_body_limit_out_of_range_fails_at_start(string value)
    {
        await using var app = TestApp.Create(Storage, s => s["CalcomWebhook:MaxBodyBytes"] = value);

        var failure = Assert.Throws<OptionsValidationException>(() => app.Get<IStartupValidator>().Validate());
        Assert.Contains("CalcomWebhook__MaxBodyBytes", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_complete_configuration_validates_and_both_secrets_are_loaded()
    {
        await using var app = TestApp.Create(Storage);

        app.Get<IStartupValidator>().Validate();
        var options = app.Get<IOptions<WebhookOptions>>().Value;
        Assert.Equal([TestApp.Secret, TestApp.SecondSecret], options.Secrets);
        Assert.Equal(2, options.SecretKeys.Count);
        Assert.Equal(WebhookOptions.DefaultMaxBodyBytes, options.MaxBodyBytes);
    }

    [Fact]
    public async Task The_function_classes_resolve_from_the_composition()
    {
        await using var app = TestApp.Create(Storage);

        Assert.NotNull(app.Get<CalcomWebhookFunction>());
        Assert.NotNull(app.Get<ApplyCalcomEventFunction>());
        Assert.Same(app.Get<WebhookQueue>(), app.Get<WebhookQueue>());
        Assert.Equal(StorageNames.WebhookQueue, app.Get<StorageClients>().WebhookQueue.Name);
        Assert.Equal(StorageNames.BodyContainer, app.Get<StorageClients>().BodyContainer.Name);
    }

    private const string Unresolved = "@Microsoft.KeyVault(VaultName=kv-askpro;SecretName=calcom-webhook-secret-2)";

    [Fact]
    public async Task An_unresolved_additional_secret_is_left_out_and_named_in_the_log_while_the_app_starts()
    {
        await using var app = TestApp.Create(Storage, s => s["CalcomWebhook:Secrets:1"] = Unresolved);

        app.Get<IStartupValidator>().Validate();
        var options = app.Get<IOptions<WebhookOptions>>().Value;
        var key = Assert.Single(options.SecretKeys);
        Assert.Equal(TestApp.Secret, System.Text.Encoding.UTF8.GetString(key));
        // Once per validation (start-up, then first use of the options): the same line.
        var line = Assert.Single(app.Logs.Lines.Where(l => l.Contains("[9100]", StringComparison.Ordinal)).Distinct());
        Assert.StartsWith("Error", line, StringComparison.Ordinal);
        Assert.Contains("CalcomWebhook__Secrets__1 is not used: it is an unresolved Key Vault reference", line, StringComparison.Ordinal);
        Assert.DoesNotContain(TestApp.Secret, line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_no_usable_secret_start_up_fails_naming_each_bad_one()
    {
        await using var app = TestApp.Create(Storage, s =>
        {
            s["CalcomWebhook:Secrets:0"] = "short-secret";
            s["CalcomWebhook:Secrets:1"] = Unresolved;
        });

        var failure = Assert.Throws<OptionsValidationException>(() => app.Get<IStartupValidator>().Validate());
        Assert.Contains("CalcomWebhook__Secrets__0 is shorter than 32 characters", failure.Message, StringComparison.Ordinal);
        Assert.Contains("CalcomWebhook__Secrets__1 is an unresolved Key Vault reference", failure.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("short-secret", failure.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(31, false)]
    [InlineData(32, true)]
    public async Task A_secret_needs_at_least_32_characters(int length, bool usable)
    {
        await using var app = TestApp.Create(Storage, s =>
        {
            s["CalcomWebhook:Secrets:0"] = new string('k', length);
            s.Remove("CalcomWebhook:Secrets:1");
        });

        if (usable)
        {
            app.Get<IStartupValidator>().Validate();
        }
        else
        {
            Assert.Throws<OptionsValidationException>(() => app.Get<IStartupValidator>().Validate());
        }
    }

    [Theory]
    [InlineData("\n")]
    [InlineData("\r\n")]
    public async Task A_trailing_newline_from_the_vault_is_trimmed_so_Cal_coms_signature_matches(string newline)
    {
        await using var app = TestApp.Create(Storage, s => s["CalcomWebhook:Secrets:0"] = TestApp.Secret + newline);

        app.Get<IStartupValidator>().Validate();
        var body = Examples.Calcom("ping.compact.txt");
        var options = app.Get<IOptions<WebhookOptions>>().Value;
        Assert.Equal(SignatureResult.Valid, WebhookSignature.Verify(body, WebhookCall.Sign(body, TestApp.Secret), [options.SecretKeys[0]]));
    }

    [Fact]
    public async Task A_secret_with_a_line_break_inside_is_refused()
    {
        await using var app = TestApp.Create(Storage, s =>
        {
            s["CalcomWebhook:Secrets:0"] = TestApp.Secret + "\n" + TestApp.Secret;
            s.Remove("CalcomWebhook:Secrets:1");
        });

        var failure = Assert.Throws<OptionsValidationException>(() => app.Get<IStartupValidator>().Validate());
        Assert.Contains("CalcomWebhook__Secrets__0 contains control characters", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_managed_identity_connection_without_clientId_fails_at_start_instead_of_guessing_an_identity()
    {
        await using var app = TestApp.Create(new Dictionary<string, string?>
        {
            ["AzureWebJobsStorage:accountName"] = "staskpro",
            ["AzureWebJobsStorage:credential"] = "managedidentity",
            ["CalcomWebhook:Secrets:0"] = TestApp.Secret,
            ["ReconciliationSchedule"] = "0 */10 * * * *",
        });

        var failure = Assert.Throws<OptionsValidationException>(() => app.Get<IStartupValidator>().Validate());
        Assert.Contains("AzureWebJobsStorage__clientId is not set", failure.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("*/10 * * * *")]
    public async Task A_missing_or_five_field_reconciliation_schedule_fails_at_start_naming_ReconciliationSchedule(string? schedule)
    {
        await using var app = TestApp.Create(Storage, s => s["ReconciliationSchedule"] = schedule);

        var failure = Assert.Throws<OptionsValidationException>(() => app.Get<IStartupValidator>().Validate());
        Assert.Contains("ReconciliationSchedule", failure.Message, StringComparison.Ordinal);
    }
}
