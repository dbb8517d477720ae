using AskPro.Functions.Tests.Infrastructure;
using AskPro.Functions.Webhooks;
using Microsoft.AspNetCore.Http;

namespace AskPro.Functions.Tests.Webhooks;

/// <summary>
/// How the body is read: buffers grow with what arrives (not with what Content-Length promises), and a client that
/// aborts or sends a broken transfer gets a 4xx with the error body, never a 500 that would trip the failure alert.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class RequestBodyTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private readonly QueueProbe _queue = new(azurite.ConnectionString);
    private TestApp _app = null!;

    public async Task InitializeAsync()
    {
        _app = TestApp.Create(azurite.ConnectionString, s => s["CalcomWebhook:MaxBodyBytes"] = (16 * 1024 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture));
        await _queue.ClearAsync();
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    public static TheoryData<string> Breaks() => ["connection reset", "unexpected end of request content", "request aborted"];

    [Theory]
    [MemberData(nameof(Breaks))]
    public async Task A_body_that_breaks_off_gets_400_incomplete_body_and_nothing_is_stored(string how)
    {
        var body = Examples.Calcom("booking_created_web.json");
        using var aborted = new CancellationTokenSource();
        Exception failure = how switch
        {
            "connection reset" => new IOException("The client reset the request stream."),
            "unexpected end of request content" => new BadHttpRequestException("Unexpected end of request content.", StatusCodes.Status400BadRequest),
            _ => new OperationCanceledException(aborted.Token),
        };
        var stream = new BreakingStream(body.AsSpan(0, 100).ToArray(), failure, () => aborted.Cancel());

        var response = await WebhookCall.PostAsync(_app, stream, body.Length, new() { [WebhookSignature.HeaderName] = WebhookCall.Sign(body) }, aborted.Token);

        WebhookAssert.AssertError(response, 400, ErrorCodes.IncompleteBody);
        Assert.Empty(await _queue.PeekAllAsync());
        Assert.DoesNotContain(_app.Logs.Lines, l => l.StartsWith("Error", StringComparison.Ordinal));
        Assert.Contains(_app.Logs.Lines, l => l.Contains("incomplete_body (400)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Kestrels_own_body_limit_becomes_413_payload_too_large()
    {
        var stream = new BreakingStream(new byte[10], new BadHttpRequestException("Request body too large.", StatusCodes.Status413PayloadTooLarge), () => { });

        var response = await WebhookCall.PostAsync(_app, stream, null, new() { [WebhookSignature.HeaderName] = new string('a', 64) });

        WebhookAssert.AssertError(response, 413, ErrorCodes.PayloadTooLarge);
    }

    [Fact]
    public async Task A_declared_16_MiB_that_never_arrives_allocates_by_what_arrived()
    {
        var body = "{\"triggerEvent\":\"PING\"}"u8.ToArray();
        var declared = 16L * 1024 * 1024;
        // Warm up once, so JIT and first-use allocations are not counted.
        await WebhookCall.PostAsync(_app, new MemoryStream(body), declared, new() { [WebhookSignature.HeaderName] = new string('0', 64) });

        // A MemoryStream body completes every read synchronously, so the whole request runs on this thread.
        var before = GC.GetAllocatedBytesForCurrentThread();
        var response = await WebhookCall.PostAsync(_app, new MemoryStream(body), declared, new() { [WebhookSignature.HeaderName] = new string('0', 64) });
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(401, response.StatusCode);
        Assert.True(allocated < 256 * 1024, $"a {body.Length}-byte body declared as {declared} bytes allocated {allocated} bytes");
    }

    /// <summary>Hands out <paramref name="prefix"/>, then fails the next read the way a dropped or broken connection does.</summary>
    private sealed class BreakingStream(byte[] prefix, Exception failure, Action onBreak) : Stream
    {
        private int _position;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (_position >= prefix.Length)
            {
                onBreak();
                throw failure;
            }

            var n = Math.Min(buffer.Length, prefix.Length - _position);
            prefix.AsSpan(_position, n).CopyTo(buffer);
            _position += n;
            return n;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => new(Read(buffer.Span));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => Task.FromResult(Read(buffer.AsSpan(offset, count)));

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
