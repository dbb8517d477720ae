using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using AskPro.Functions.Calcom;
using AskPro.Functions.Telemetry;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
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
    public const int MinKeyLength = 32;

    /// <summary>Off until AskPro's booking code signs (SECURITY.md: roll-out); then Report, then Enforce.</summary>
    public AskProMetadataMode Mode { get; set; } = AskProMetadataMode.Off;

    /// <summary>Keys AskPro's booking code signs with (<c>AskProMetadata__Keys__0</c>, <c>__1</c> during rotation).</summary>
    public List<string> Keys { get; } = [];

    /// <summary>The keys that can be used; the others (see <see cref="Rejected"/>) are left out.</summary>
    public IReadOnlyList<string> UsableKeys => [.. Keys.Where(k => !string.IsNullOrWhiteSpace(k) && Problem(k) is null)];

    /// <summary>Configured keys that cannot be used, by index, with the reason (never the value).</summary>
    public IReadOnlyList<(int Index, string Reason)> Rejected =>
        [.. Keys.Select((k, i) => (Index: i, Reason: string.IsNullOrWhiteSpace(k) ? null : Problem(k))).Where(r => r.Reason is not null).Select(r => (r.Index, r.Reason!))];

    /// <summary>True when at least one key is set at all (usable or not).</summary>
    public bool AnyKeySet => Keys.Exists(k => !string.IsNullOrWhiteSpace(k));

    private static string? Problem(string key)
    {
        // An unresolvable reference reaches the app as its own text, which anyone can read in the ARM template: as an
        // HMAC key it would let anyone sign.
        if (Reconciliation.CalcomApiOptions.IsUnresolvedReference(key))
        {
            return "is an unresolved Key Vault reference: create or enable the secret in the vault and let the app's identity read it, then restart the app";
        }

        return key.Length < MinKeyLength ? $"is shorter than {MinKeyLength} characters: use a long random key (openssl rand -hex 32) here and in AskPro's booking code" : null;
    }
}

/// <summary>
/// Verification is optional: a key that cannot be used is left out (and said so at start by
/// <see cref="AskProMetadataKeyCheck"/>) instead of stopping the webhook intake. Only <c>Enforce</c> with no key set at
/// all stops the app: that is a setting missing, not a secret that failed to load.
/// </summary>
internal sealed class AskProMetadataOptionsValidator : IValidateOptions<AskProMetadataOptions>
{
    public ValidateOptionsResult Validate(string? name, AskProMetadataOptions options) =>
        options.Mode == AskProMetadataMode.Enforce && !options.AnyKeySet
            ? ValidateOptionsResult.Fail($"AskProMetadata__Keys__0 is not set (at least {AskProMetadataOptions.MinKeyLength} characters): AskProMetadata__Mode=Enforce needs the key AskPro's booking code signs metadata with.")
            : ValidateOptionsResult.Success;
}

/// <summary>
/// At start, an error line per configured metadata key that cannot be used (event 6010), and when verification is on
/// but no usable key is left, an error line (6011) and the <see cref="AskProMetrics.FeatureOff"/> metric: from then on no
/// AskPro id counts as proven (Report flags every such record, Enforce treats every such booking as external), which
/// fails closed while deliveries keep being accepted and applied.
/// </summary>
public sealed partial class AskProMetadataKeyCheck(IOptions<AskProMetadataOptions> options, AskProMetrics metrics, ILogger<AskProMetadataKeyCheck> logger) : IHostedService
{
    public const string Feature = "askpro_metadata_proof";
    public const string NoUsableKey = "no_usable_key";

    /// <summary>True when verification is on without a usable key; logs each unusable key either way.</summary>
    public bool Report()
    {
        var o = options.Value;
        foreach (var (index, reason) in o.Rejected)
        {
            Log.KeyRejected(logger, $"AskProMetadata__Keys__{index}", reason, o.UsableKeys.Count);
        }

        if (o.Mode == AskProMetadataMode.Off || o.UsableKeys.Count > 0)
        {
            return false;
        }

        Log.NoUsableKey(logger, o.Mode);
        metrics.FeatureSwitchedOff(Feature, NoUsableKey);
        return true;
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        Report();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static partial class Log
    {
        [LoggerMessage(EventId = 6010, Level = LogLevel.Error, Message = "{Setting} is not used: it {Reason}. {UsableKeys} usable metadata key(s) left")]
        public static partial void KeyRejected(ILogger logger, string setting, string reason, int usableKeys);

        [LoggerMessage(EventId = 6011, Level = LogLevel.Error,
            Message = "AskPro metadata verification ({Mode}) has no usable key: no AskPro id counts as proven until a key works (Report flags every record with AskPro ids, Enforce treats those bookings as external)")]
        public static partial void NoUsableKey(ILogger logger, AskProMetadataMode mode);
    }
}

/// <summary>
/// Anyone booking on a public Cal.com page can put <c>?metadata[askpro_appointment_id]=…&amp;metadata[company_id]=…</c>
/// into a booking; only AskPro's booking code can sign them. The proof is <c>metadata.askpro_signature</c> =
/// lowercase hex HMAC-SHA256, keyed with a shared key, over the UTF-8 text of <see cref="Canonical"/>:
/// <c>askpro-metadata-v2\n{askpro_appointment_id}\n{company_id}\n{eventTypeId}\n{startTime}</c>. The ids are taken
/// exactly as the metadata carries them (a number as its JSON text; an absent one as empty; <c>company_id</c> is
/// <c>askpro_company_id</c> when that is present); <c>eventTypeId</c> is the booking's event type id in decimal (empty
/// when the body has none); <c>startTime</c> is the booking's start in UTC as <c>yyyy-MM-ddTHH:mm:ssZ</c>. Binding
/// the proof to the booking's event type and start means a proof copied onto another booking does not verify. A
/// reschedule's new booking carries the old metadata: its proof verifies against the start it moved from
/// (<c>rescheduleStartTime</c>, which Cal.com, not the booker, fills in).
/// </summary>
public sealed class AskProMetadataProof(IOptions<AskProMetadataOptions> options)
{
    public const string SignatureField = "askpro_signature";
    public const string Version = "askpro-metadata-v2";

    private byte[][]? _keys;

    public static string Canonical(string? askProAppointmentId, string? companyId, long? eventTypeId, DateTimeOffset? startTime) =>
        string.Join('\n', Version, askProAppointmentId, companyId, eventTypeId?.ToString(CultureInfo.InvariantCulture),
            startTime?.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));

    public static string Sign(string? askProAppointmentId, string? companyId, long? eventTypeId, DateTimeOffset? startTime, string key) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(key), Encoding.UTF8.GetBytes(Canonical(askProAppointmentId, companyId, eventTypeId, startTime))));

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

        var match = Matches(Canonical(e.AskProAppointmentId, e.CompanyId, e.EventTypeId, e.StartTime), given);
        if (e.RescheduleStartTime is { } from)
        {
            match |= Matches(Canonical(e.AskProAppointmentId, e.CompanyId, e.EventTypeId, from), given);
        }

        return match;
    }

    private bool Matches(string canonical, ReadOnlySpan<byte> given)
    {
        var text = Encoding.UTF8.GetBytes(canonical);
        Span<byte> expected = stackalloc byte[32];
        var match = false;
        foreach (var key in _keys ??= [.. options.Value.UsableKeys.Select(k => Encoding.UTF8.GetBytes(k))])
        {
            HMACSHA256.HashData(key, text, expected);
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
