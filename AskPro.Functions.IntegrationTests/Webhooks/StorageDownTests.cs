using System.Diagnostics;
using AskPro.Functions.Tests.Infrastructure;
using AskPro.Functions.Webhooks;

namespace AskPro.Functions.Tests.Webhooks;

/// <summary>Its own Azurite, started and then stopped: the app sees a storage account that refuses connections.</summary>
public sealed class StorageDownTests : IAsyncLifetime
{
    private Azurite _azurite = null!;

    public async Task InitializeAsync()
    {
        _azurite = await Azurite.StartAsync(allowExternal: false);
        await _azurite.StopAsync();
    }

    public async Task DisposeAsync() => await _azurite.DisposeAsync();

    [Fact]
    public async Task A_valid_delivery_gets_503_storage_unavailable_quickly_when_storage_is_down()
    {
        await using var app = TestApp.Create(_azurite.ConnectionString);
        var body = Examples.Calcom("booking_created_web.json");

        var clock = Stopwatch.StartNew();
        var response = await WebhookCall.PostSignedAsync(app, body);
        clock.Stop();

        WebhookAssert.AssertError(response, 503, ErrorCodes.StorageUnavailable);
        Assert.Equal("5", response.Headers.RetryAfter.ToString());
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"the 503 took {clock.Elapsed}");
        Assert.Contains(app.Logs.Lines, l => l.StartsWith("Error", StringComparison.Ordinal) && l.Contains("storage failed", StringComparison.Ordinal)
            && l.Contains(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(body)), StringComparison.Ordinal));
    }

    [Fact]
    public async Task Ping_and_ignored_triggers_still_answer_200_when_storage_is_down()
    {
        // They are never queued, so Cal.com's "Ping test" works even before storage does.
        await using var app = TestApp.Create(_azurite.ConnectionString);

        var ping = await WebhookCall.PostSignedAsync(app, Examples.Calcom("ping.compact.txt"));
        var ignored = await WebhookCall.PostSignedAsync(app, TestBodies.Read("form_submitted.json"));

        Assert.Equal(200, ping.StatusCode);
        Assert.Equal(200, ignored.StatusCode);
    }
}
