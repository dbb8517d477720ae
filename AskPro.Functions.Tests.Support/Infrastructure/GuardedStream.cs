namespace AskPro.Functions.Tests.Infrastructure;

/// <summary>
/// A request body that hands out as many bytes as asked (like a fast network) and records how many it gave:
/// a read that starts once <c>allowed</c> bytes are out fails, so a test proves a body is not read past a limit.
/// </summary>
public sealed class GuardedStream(byte[] prefix, long length, long allowed) : Stream
{
    public long Delivered { get; private set; }

    public int Reads { get; private set; }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => Delivered; set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        Reads++;
        if (Delivered >= allowed && Delivered < length)
        {
            throw new IOException($"the body was read past {allowed} bytes");
        }

        var n = (int)Math.Min(buffer.Length, length - Delivered);
        for (var i = 0; i < n; i++)
        {
            var at = Delivered + i;
            buffer[i] = at < prefix.Length ? prefix[at] : (byte)' ';
        }

        Delivered += n;
        return n;
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => new(Read(buffer.Span));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => Task.FromResult(Read(buffer.AsSpan(offset, count)));

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
