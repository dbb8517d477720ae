using System.Security.Cryptography;
using System.Text;

namespace AskPro.Send;

/// <summary>
/// What Cal.com puts in <c>X-Cal-Signature-256</c>: HMAC-SHA256 over the exact body bytes, the secret as UTF-8 key,
/// lowercase hex without prefix. Written here on its own, not borrowed from the product's verifier, so that a
/// mistake in one cannot hide the same mistake in the other.
/// </summary>
public static class CalcomSignature
{
    public const string HeaderName = "X-Cal-Signature-256";

    public static string Sign(ReadOnlySpan<byte> body, string secret) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body));
}
