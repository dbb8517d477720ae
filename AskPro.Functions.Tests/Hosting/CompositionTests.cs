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
}
