using AskPro.Functions.Queueing;
using AskPro.Functions.Tests.Infrastructure;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using Microsoft.Extensions.DependencyInjection;

namespace AskPro.Functions.Tests.Webhooks;

/// <summary>
/// The acknowledgement's storage cost, counted at the SDK pipeline: one request (the queue write) for a body that fits a
/// message, two for a larger one (claim-check blob, then the queue write), none for an exact re-send this instance
/// remembers. A re-send after a failed enqueue is queued, since only a successful enqueue is remembered.
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
    [InlineData(false, new[] { "queue POST" })]
    [InlineData(true, new[] { "blob PUT", "queue POST" })]
    public async Task A_new_delivery_is_acknowledged_after_exactly_its_queue_write_and_for_a_large_body_its_claim_check(bool large, string[] expected)
    {
        await _app.Get<WebhookQueue>().EnsureCreatedAsync(CancellationToken.None);
        _requests.Reset();

        var response = await WebhookCall.PostSignedAsync(_app, Unique(large));

        Assert.Equal(202, response.StatusCode);
        Assert.Equal(expected, _requests.Requests.Select(r => string.Join(' ', r.Split(' ')[..2])));
        Assert.Equal(large ? WebhookEnvelope.BodyBlobName(response.Json.GetProperty("delivery_id").GetString()!) : null, Assert.Single(await _queue.EnvelopesAsync()).BodyBlob);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task An_exact_re_send_of_an_accepted_body_is_answered_from_memory_and_queues_nothing(bool large)
    {
        var body = Unique(large);
        var first = await WebhookCall.PostSignedAsync(_app, body);
        Assert.Equal(202, first.StatusCode);
        _requests.Reset();

        var replay = await WebhookCall.PostSignedAsync(_app, body);

        Assert.Equal(first.ToString(), replay.ToString());
        Assert.Single(await MessagesOfAsync(body));
        Assert.Empty(_requests.Requests);
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

    /// <summary>A body no other test sends (the shared emulator's queue may hold other tests' messages).</summary>
    private static byte[] Unique(bool large)
    {
        var text = System.Text.Encoding.UTF8.GetString(Examples.Calcom("booking_created_web.json"))
            .Replace("\"title\": \"", $"\"title\": \"{Guid.NewGuid():N} {(large ? new string('x', 60_000) : "")}", StringComparison.Ordinal);
        return System.Text.Encoding.UTF8.GetBytes(text);
    }
}
