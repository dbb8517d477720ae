using System.IO.Compression;

namespace AskPro.Functions.Storage;

/// <summary>Compression of the JSON kept in binary table properties (event sets, staff calendars): 64 KiB each at most.</summary>
public static class Brotli
{
    public static byte[] Compress(ReadOnlySpan<byte> data)
    {
        using var output = new MemoryStream();
        using (var brotli = new BrotliStream(output, CompressionLevel.Fastest, leaveOpen: true))
        {
            brotli.Write(data);
        }

        return output.ToArray();
    }

    public static Stream Decompress(byte[] data) => new BrotliStream(new MemoryStream(data), CompressionMode.Decompress);
}
