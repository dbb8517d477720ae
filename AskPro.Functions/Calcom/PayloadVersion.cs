namespace AskPro.Functions.Calcom;

/// <summary>
/// Cal.com's webhook payload version (<c>2021-10-20</c>, <c>2026-07-27</c>, …): the <c>X-Cal-Webhook-Version</c>
/// header, else a version field in the body. Never required, never changes how a body is applied (both known versions
/// apply identically); it is kept on the envelope and in the record's history so an operator can tell them apart.
/// </summary>
public static class PayloadVersion
{
    public const string HeaderName = "X-Cal-Webhook-Version";

    /// <summary>Body fields read when the header is missing (no Cal.com sender is known to send one; accepted if it appears).</summary>
    internal static readonly string[] BodyFields = ["webhookVersion", "payloadVersion", "version"];

    private const int MaxLength = 32;

    /// <summary>The header's value if it is a plausible version, else the body's; null when neither is.</summary>
    public static string? Of(string? header, string? bodyValue) => Clean(header) ?? Clean(bodyValue);

    /// <summary>
    /// The header is not covered by the signature, so anything may arrive there: only a short token of letters, digits,
    /// <c>.</c>, <c>-</c> and <c>_</c> is kept (a date such as <c>2026-07-27</c>); anything else counts as absent.
    /// </summary>
    public static string? Clean(string? value)
    {
        var v = value?.Trim();
        return v is { Length: > 0 and <= MaxLength } && v.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_') ? v : null;
    }
}
