using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using AskPro.Functions.Calcom;
using Microsoft.Extensions.Options;

namespace AskPro.Functions.Security;

public enum AskProMetadataMode
{
    /// <summary>AskPro ids in metadata are trusted as they come (the behaviour before verification existed).</summary>
    Off,
    /// <summary>Verified; unproven ids are still used but the record is flagged <c>AskProMetadataUnproven</c> (roll-out step).</summary>
    Report,
    /// <summary>Verified; unproven ids are dropped (the booking is external) and the record is flagged.</summary>
    Enforce,
}

/// <summary>Settings section <c>AskProMetadata</c>.</summary>
public sealed class AskProMetadataOptions
{
    public const string Section = "AskProMetadata";

    /// <summary>Off until AskPro's booking code signs (SECURITY.md: roll-out); then Report, then Enforce.</summary>
    public AskProMetadataMode Mode { get; set; } = AskProMetadataMode.Off;

    /// <summary>Keys AskPro's booking code signs with (<c>AskProMetadata__Keys__0</c>, <c>__1</c> during rotation).</summary>
    public List<string> Keys { get; } = [];
}

internal sealed class AskProMetadataOptionsValidator : IValidateOptions<AskProMetadataOptions>
{
    public ValidateOptionsResult Validate(string? name, AskProMetadataOptions options)
    {
        if (options.Mode == AskProMetadataMode.Enforce && !options.Keys.Exists(k => k.Length >= 32))
        {
            return ValidateOptionsResult.Fail("AskProMetadata__Keys__0 is not set (at least 32 characters): AskProMetadata__Mode=Enforce needs the key AskPro's booking code signs metadata with.");
        }

        return options.Keys.Exists(k => k.Length is > 0 and < 32)
            ? ValidateOptionsResult.Fail("AskProMetadata__Keys__N must be at least 32 characters.")
            : ValidateOptionsResult.Success;
    }
}

/// <summary>
/// Anyone booking on a public Cal.com page can put <c>?metadata[askpro_appointment_id]=…&amp;metadata[company_id]=…</c>
/// into a booking; only AskPro's booking code can sign them. The proof is <c>metadata.askpro_signature</c> =
/// lowercase hex HMAC-SHA256, keyed with a shared key, over the UTF-8 text
/// <c>askpro-metadata-v1\n{askpro_appointment_id}\n{company_id}</c> (each exactly as the metadata carries it, a number
/// as its JSON text; an absent one as empty; <c>company_id</c> is <c>askpro_company_id</c> when that is present).
/// </summary>
public sealed class AskProMetadataProof(IOptions<AskProMetadataOptions> options)
{
    public const string SignatureField = "askpro_signature";

    private byte[][]? _keys;

    public static string Canonical(string? askProAppointmentId, string? companyId) => $"askpro-metadata-v1\n{askProAppointmentId}\n{companyId}";

    public static string Sign(string? askProAppointmentId, string? companyId, string key) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(key), Encoding.UTF8.GetBytes(Canonical(askProAppointmentId, companyId))));

    /// <summary>The event as the apply path may trust it: unchanged, flagged, or (enforced) without the AskPro ids.</summary>
    public BookingEvent Apply(BookingEvent e, ReadOnlySpan<byte> body)
    {
        ArgumentNullException.ThrowIfNull(e);
        var o = options.Value;
        if (o.Mode == AskProMetadataMode.Off || (e.AskProAppointmentId is null && e.CompanyId is null) || IsProven(e, body))
        {
            return e;
        }

        return o.Mode == AskProMetadataMode.Enforce
            ? e with { AskProAppointmentId = null, CompanyId = null, AskProMetadataUnproven = true }
            : e with { AskProMetadataUnproven = true };
    }

    private bool IsProven(BookingEvent e, ReadOnlySpan<byte> body)
    {
        var presented = SignatureOf(body);
        if (presented is not { Length: 64 })
        {
            return false;
        }

        Span<byte> given = stackalloc byte[32];
        if (Convert.FromHexString(presented, given, out _, out var written) != System.Buffers.OperationStatus.Done || written != 32)
        {
            return false;
        }

        var canonical = Encoding.UTF8.GetBytes(Canonical(e.AskProAppointmentId, e.CompanyId));
        Span<byte> expected = stackalloc byte[32];
        var match = false;
        foreach (var key in _keys ??= [.. options.Value.Keys.Where(k => k.Length >= 32).Select(k => Encoding.UTF8.GetBytes(k))])
        {
            HMACSHA256.HashData(key, canonical, expected);
            match |= CryptographicOperations.FixedTimeEquals(expected, given);
        }

        return match;
    }

    /// <summary><c>payload.metadata.askpro_signature</c> (or <c>metadata.…</c> of a flat body); the body was validated before.</summary>
    private static string? SignatureOf(ReadOnlySpan<byte> body)
    {
        var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = 64 });
        if (!JsonDocument.TryParseValue(ref reader, out var document))
        {
            return null;
        }

        using (document)
        {
            var root = document.RootElement;
            var holder = root.TryGetProperty("payload", out var payload) && payload.ValueKind == JsonValueKind.Object ? payload : root;
            return holder.TryGetProperty("metadata", out var metadata) && metadata.ValueKind == JsonValueKind.Object
                && metadata.TryGetProperty(SignatureField, out var signature) && signature.ValueKind == JsonValueKind.String
                ? signature.GetString()
                : null;
        }
    }
}
