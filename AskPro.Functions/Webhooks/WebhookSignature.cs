using System.Security.Cryptography;

namespace AskPro.Functions.Webhooks;

public enum SignatureResult
{
    Valid,
    MissingSignature,
    /// <summary>Cal.com sends the literal <c>no-secret-provided</c> when the webhook has no secret.</summary>
    Unsigned,
    MalformedSignature,
    SignatureMismatch,
}

/// <summary>
/// Verifies <c>X-Cal-Signature-256</c>: HMAC-SHA256 over the exact raw body, keyed with the secret as UTF-8,
/// as hex (either case), optionally prefixed <c>sha256=</c> (the seed documents the prefix, Cal.com omits it).
/// Any of several secrets may match: the same URL can be registered more than once, and rotation needs old and new.
/// </summary>
public static class WebhookSignature
{
    public const string HeaderName = "X-Cal-Signature-256";
    public const string UnsignedMarker = "no-secret-provided";
    private const string Prefix = "sha256=";
    private const int HashBytes = 32;

    public static SignatureResult Verify(ReadOnlySpan<byte> body, string? header, IReadOnlyList<byte[]> secretKeys)
    {
        ArgumentNullException.ThrowIfNull(secretKeys);
        var value = header.AsSpan().Trim();
        if (value.IsEmpty)
        {
            return SignatureResult.MissingSignature;
        }

        if (value.Equals(UnsignedMarker, StringComparison.OrdinalIgnoreCase))
        {
            return SignatureResult.Unsigned;
        }

        if (value.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase))
        {
            value = value[Prefix.Length..];
        }

        Span<byte> presented = stackalloc byte[HashBytes];
        if (value.Length != HashBytes * 2 || Convert.FromHexString(value, presented, out _, out var written) != System.Buffers.OperationStatus.Done || written != HashBytes)
        {
            return SignatureResult.MalformedSignature;
        }

        Span<byte> expected = stackalloc byte[HashBytes];
        var anyMatch = false;
        foreach (var key in secretKeys)
        {
            HMACSHA256.HashData(key, body, expected);
            // Every secret is tried, so the time taken does not tell which one matched.
            anyMatch |= CryptographicOperations.FixedTimeEquals(expected, presented);
        }

        return anyMatch ? SignatureResult.Valid : SignatureResult.SignatureMismatch;
    }

    public static string Sign(ReadOnlySpan<byte> body, byte[] secretKey) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(secretKey, body));
}
