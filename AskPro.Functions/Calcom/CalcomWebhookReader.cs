using System.Text.Json;
using System.Text.Unicode;

namespace AskPro.Functions.Calcom;

public enum WebhookKind
{
    /// <summary>The body is not JSON at all.</summary>
    NotJson,
    /// <summary>JSON, but not a Cal.com webhook this service can read; <see cref="WebhookReadResult.Errors"/> says why.</summary>
    Invalid,
    Ping,
    /// <summary>A well-formed webhook for a trigger this service does not apply.</summary>
    Ignored,
    Booking,
}

public sealed record WebhookReadResult(WebhookKind Kind, string? TriggerEvent, BookingEvent? Event, IReadOnlyList<string> Errors)
{
    /// <summary>A payload version the body names itself (<see cref="Calcom.PayloadVersion"/>); the header is preferred.</summary>
    public string? PayloadVersion { get; init; }

    public static WebhookReadResult Failed(WebhookKind kind, string? trigger, List<string> errors) => new(kind, trigger, null, errors);
}

/// <summary>
/// Reads a Cal.com webhook body into a <see cref="BookingEvent"/>. Accepts the enveloped shape
/// (<c>{triggerEvent, createdAt, payload}</c>), the flat MEETING_* shape, Cal.com's <c>{label, value}</c> responses
/// and the seed's flat ones. Pure: the HTTP function uses it to validate, the queue function to apply.
/// <para>
/// The steps: bytes to JSON here; the trigger's row in <see cref="TriggerCatalogue"/> (ignored, acknowledged or
/// applied); the fields of an applied one in <see cref="BookingEventMapping"/>, through <see cref="JsonFields"/> (typed
/// reads, errors by JSON path) and <see cref="FormAnswers"/> (the booking form's answers).
/// </para>
/// </summary>
public static class CalcomWebhookReader
{
    /// <summary>Cal.com uids are 22 base58 characters (or a UUID); 64 leaves room without inviting abuse.</summary>
    public const int MaxUidLength = 64;

    /// <summary>
    /// Free text (notes, titles, reasons, names) is kept up to this many characters and cut with "…" beyond: a table
    /// property holds 32K characters, and an appointment record must never become unstorable because of one long note.
    /// </summary>
    public const int MaxTextLength = 2000;
    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 64 };

    public static WebhookReadResult Read(ReadOnlyMemory<byte> body)
    {
        // JSON text is UTF-8 (RFC 8259), and the parser does not check the bytes inside strings: a body that is not
        // valid UTF-8 would fail later when a field is read, or be queued altered (the envelope carries it as text).
        if (!Utf8.IsValid(body.Span))
        {
            return WebhookReadResult.Failed(WebhookKind.NotJson, null, ["body is not valid UTF-8"]);
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body, DocumentOptions);
        }
        catch (JsonException ex)
        {
            // The parser's message names a position, never the content.
            return WebhookReadResult.Failed(WebhookKind.NotJson, null, [$"body is not valid JSON: {ex.Message}"]);
        }

        using (document)
        {
            try
            {
                return Read(document.RootElement);
            }
            catch (InvalidOperationException)
            {
                // Every value is kind-checked before it is read, so this is JsonElement refusing an escaped lone
                // surrogate (\ud800) in a property name or string value: valid JSON syntax, but no text.
                return WebhookReadResult.Failed(WebhookKind.NotJson, null, ["body contains a string that is not valid Unicode (a lone surrogate escape)"]);
            }
        }
    }

    private static WebhookReadResult Read(JsonElement root)
    {
        var errors = new List<string>();
        if (root.ValueKind != JsonValueKind.Object)
        {
            errors.Add($"body must be a JSON object, not {JsonFields.Describe(root.ValueKind)}");
            return WebhookReadResult.Failed(WebhookKind.Invalid, null, errors);
        }

        var top = new JsonFields(root, "", errors);
        var trigger = top.String("triggerEvent");
        if (string.IsNullOrWhiteSpace(trigger))
        {
            if (errors.Count == 0)
            {
                errors.Add("triggerEvent is required");
            }

            return WebhookReadResult.Failed(WebhookKind.Invalid, null, errors);
        }

        // Triggers this service does not apply (Cal.com adds new ones over time: instant meetings, forms, recordings,
        // out-of-office, delegation credentials) are answered 2xx whatever their payload looks like: a 4xx is final for
        // Cal.com and would only show as a failure there.
        var row = TriggerCatalogue.Of(trigger);
        if (row.Handling == TriggerHandling.Ignored)
        {
            return new(WebhookKind.Ignored, trigger, null, []);
        }

        var createdAt = top.Time("createdAt");
        JsonFields? booking;
        if (root.TryGetProperty("payload", out var payload) && payload.ValueKind != JsonValueKind.Null)
        {
            if (payload.ValueKind != JsonValueKind.Object)
            {
                errors.Add($"payload must be an object, not {JsonFields.Describe(payload.ValueKind)}");
                return WebhookReadResult.Failed(WebhookKind.Invalid, trigger, errors);
            }

            booking = new JsonFields(payload, "payload.", errors);
        }
        else if (row.Has(TriggerFlags.MayBeFlat))
        {
            booking = top;
        }
        else if (!row.IsApplied)
        {
            booking = null;
        }
        else
        {
            errors.Add("payload is required");
            return WebhookReadResult.Failed(WebhookKind.Invalid, trigger, errors);
        }

        if (errors.Count > 0)
        {
            return WebhookReadResult.Failed(WebhookKind.Invalid, trigger, errors);
        }

        if (row.Handling == TriggerHandling.Acknowledged)
        {
            return new(WebhookKind.Ping, trigger, null, []);
        }

        var bookingEvent = BookingEventMapping.Map(row, createdAt, booking!.Value);
        return errors.Count > 0 || bookingEvent is null
            ? WebhookReadResult.Failed(WebhookKind.Invalid, trigger, errors)
            : new(WebhookKind.Booking, trigger, bookingEvent, []) { PayloadVersion = BodyPayloadVersion(top) };
    }

    /// <summary>A payload version named at the top level of the body itself.</summary>
    private static string? BodyPayloadVersion(JsonFields root) =>
        PayloadVersion.BodyFields.Select(field => PayloadVersion.Clean(root.OptionalText(field))).FirstOrDefault(v => v is not null);

    /// <summary>ISO 8601 with <c>Z</c> or an offset (Cal.com uses both); a time without one is taken as UTC.</summary>
    public static bool TryParseTime(string? text, out DateTimeOffset time) => JsonFields.TryParseTime(text, out time);
}
