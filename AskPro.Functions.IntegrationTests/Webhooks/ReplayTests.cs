using AskPro.Functions.Queueing;
using AskPro.Functions.Tests.Infrastructure;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using Microsoft.Extensions.DependencyInjection;

namespace AskPro.Functions.Tests.Webhooks;

/// <summary>
/// A captured signed body re-sent later is answered from the accepted marker: no second queue message, no blob
/// overwrite. The marker follows a successful enqueue only, so a re-send after a failed enqueue is still queued.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class ReplayTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private readonly QueueProbe _queue = new(azurite.ConnectionString);
    private readonly RequestCounter _requests = new();
    private readonly FaultPolicy _faults = new();
    private TestApp _app = null!;

    public async Task InitializeAsync()
    {
        _app = TestApp.Create(azurite.ConnectionString, services: s =>
        {
            s.AddSingleton<HttpPipelinePolicy>(_requests);
            s.AddSingleton<HttpPipelinePolicy>(_faults);
        });
        await _queue.ClearAsync();
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task An_exact_re_send_of_an_accepted_body_is_answered_with_one_read_and_queues_nothing(bool large)
    {
        var body = Unique(large);
        var first = await WebhookCall.PostSignedAsync(_app, body);
        Assert.Equal(202, first.StatusCode);
        _requests.Reset();

        var replay = await WebhookCall.PostSignedAsync(_app, body);

        Assert.Equal(first.ToString(), replay.ToString());
        Assert.Single(await MessagesOfAsync(body));
        var request = Assert.Single(_requests.Requests);
        Assert.StartsWith("blob HEAD", request, StringComparison.Ordinal);
        Assert.Contains(_app.Logs.Lines, l => l.Contains(": duplicate (202)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_re_send_after_a_failed_enqueue_is_queued()
    {
        var body = Unique(large: false);
        _faults.Fault = (service, message) => service == "queue" && message.Request.Method == RequestMethod.Post
            ? new RequestFailedException(503, "injected: queue unavailable", "ServerBusy", null) : null;
        var failed = await WebhookCall.PostSignedAsync(_app, body);
        Assert.Equal(503, failed.StatusCode);
        _faults.Fault = null;

        var retried = await WebhookCall.PostSignedAsync(_app, body);

        Assert.Equal(202, retried.StatusCode);
        Assert.Single(await MessagesOfAsync(body));
        Assert.DoesNotContain(_app.Logs.Lines, l => l.Contains(": duplicate (202)", StringComparison.Ordinal));
    }

    private async Task<List<WebhookEnvelope>> MessagesOfAsync(byte[] body)
    {
        var id = WebhookQueue.DeliveryIdOf(body);
        return [.. (await _queue.EnvelopesAsync()).Where(e => e.DeliveryId == id)];
    }

    /// <summary>A body no other test sends (the markers live as long as the shared emulator).</summary>
    private static byte[] Unique(bool large)
    {
        var text = System.Text.Encoding.UTF8.GetString(Examples.Calcom("booking_created_web.json"))
            .Replace("\"title\": \"", $"\"title\": \"{Guid.NewGuid():N} {(large ? new string('x', 60_000) : "")}", StringComparison.Ordinal);
        return System.Text.Encoding.UTF8.GetBytes(text);
    }
}
