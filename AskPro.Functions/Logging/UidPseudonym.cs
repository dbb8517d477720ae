using System.Security.Cryptography;
using System.Text;

namespace AskPro.Functions.Logging;

/// <summary>
/// What logs say instead of a Cal.com booking uid. A uid is a bearer token (anyone holding it can view, cancel or
/// reschedule the booking on Cal.com's public pages), so it never appears in a log line; its pseudonym is stable
/// (the same uid always gives the same text, so an operator who has the uid computes it and finds every line) and
/// does not lead back to the uid (Cal.com uids are 22 random base58 characters, far beyond guessing).
/// </summary>
public static class UidPseudonym
{
    public const string Prefix = "uid~";

    /// <summary><c>uid~</c> + the first 12 hex digits of SHA-256 over the uid's UTF-8 bytes.</summary>
    public static string Of(string uid)
    {
        ArgumentNullException.ThrowIfNull(uid);
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(uid), hash);
        return Prefix + Convert.ToHexStringLower(hash[..6]);
    }

    /// <summary>The pseudonym of an optional uid, or null.</summary>
    public static string? OfOptional(string? uid) => uid is null ? null : Of(uid);
}
