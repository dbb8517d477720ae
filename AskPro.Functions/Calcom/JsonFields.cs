using System.Globalization;
using System.Text.Json;

namespace AskPro.Functions.Calcom;

/// <summary>
/// Typed reads of one JSON object's fields. A field that is absent or <c>null</c> reads as null; one of another kind
/// reads as null and adds an error naming its JSON path (<see cref="Path"/> + the field name, e.g.
/// <c>payload.attendees[0].email must be a string, not a number</c>), so every wrong field of a body is reported at once.
/// Free text is clipped to <see cref="CalcomWebhookReader.MaxTextLength"/>.
/// </summary>
/// <param name="Element">The object read.</param>
/// <param name="Path">Its JSON path with a trailing dot (<c>payload.</c>), or empty at the top level.</param>
/// <param name="Errors">Where wrongly typed fields are reported.</param>
internal readonly record struct JsonFields(JsonElement Element, string Path, List<string> Errors)
{
    public bool Has(string name) => Element.TryGetProperty(name, out _);

    /// <summary>The object in field <paramref name="name"/>, read under its own path.</summary>
    public JsonFields? Object(string name) => Object(name, Path + name + ".");

    /// <summary>The object in field <paramref name="name"/>, read under <paramref name="path"/> (Cal.com's alias fields keep one path).</summary>
    public JsonFields? Object(string name, string path) =>
        OfKind(name, JsonValueKind.Object, "an object") is { } v ? new JsonFields(v, path, Errors) : null;

    public JsonElement? Array(string name) => OfKind(name, JsonValueKind.Array, "an array");

    /// <summary>This list's items; a non-object item is reported and skipped.</summary>
    public IEnumerable<JsonFields> Objects(JsonElement array, string name)
    {
        var i = 0;
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Object)
            {
                Errors.Add($"{Path}{name}[{i}] must be an object, not {Describe(item.ValueKind)}");
            }
            else
            {
                yield return new JsonFields(item, $"{Path}{name}[{i}].", Errors);
            }

            i++;
        }
    }

    public string? String(string name)
    {
        if (!TryGet(name, out var v))
        {
            return null;
        }

        if (v.ValueKind != JsonValueKind.String)
        {
            Errors.Add($"{Path}{name} must be a string, not {Describe(v.ValueKind)}");
            return null;
        }

        return Clip(v.GetString());
    }

    /// <summary>A string with its blank value read as absent.</summary>
    public string? Text(string name) => NullIfEmpty(String(name));

    /// <summary>Metadata values are strings in Cal.com but a number in the seed: both read as text.</summary>
    public string? Scalar(string name)
    {
        if (!TryGet(name, out var v))
        {
            return null;
        }

        if (v.ValueKind is JsonValueKind.String or JsonValueKind.Number)
        {
            return Clip(v.ValueKind == JsonValueKind.String ? v.GetString() : v.GetRawText());
        }

        Errors.Add($"{Path}{name} must be a string or a number, not {Describe(v.ValueKind)}");
        return null;
    }

    /// <summary>Text of an optional field whose shape is not settled: a string (clipped); anything else counts as absent, unreported.</summary>
    public string? OptionalText(string name) =>
        Element.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? Clip(v.GetString()) : null;

    /// <summary>A booking uid: only what Cal.com uses (see <see cref="CalcomWebhookReader.MaxUidLength"/>).</summary>
    public string? Uid(string name)
    {
        var uid = String(name);
        if (uid is null)
        {
            return null;
        }

        // A '%' breaks point reads by row key, a ',' the comma-joined uid columns, and anything else is not a uid
        // Cal.com made.
        if (uid.Length is 0 or > CalcomWebhookReader.MaxUidLength || !uid.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
        {
            Errors.Add($"{Path}{name} must be 1 to {CalcomWebhookReader.MaxUidLength} characters, only letters, digits, '-' and '_'");
            return null;
        }

        return uid;
    }

    /// <summary>A Cal.com id: an integer, or a string of digits.</summary>
    public long? Id(string name)
    {
        if (!TryGet(name, out var v))
        {
            return null;
        }

        if (v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var n))
        {
            return n;
        }

        if (v.ValueKind == JsonValueKind.String && long.TryParse(v.GetString(), NumberStyles.None, CultureInfo.InvariantCulture, out var parsed))
        {
            return parsed;
        }

        Errors.Add($"{Path}{name} must be an integer, not {Describe(v.ValueKind)}");
        return null;
    }

    public int? Int(string name)
    {
        if (!TryGet(name, out var v))
        {
            return null;
        }

        if (v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var n))
        {
            return n;
        }

        Errors.Add($"{Path}{name} must be an integer, not {Describe(v.ValueKind)}");
        return null;
    }

    /// <summary>
    /// A list of Cal.com user ids (numbers, or digit strings); null when absent or not a list. Informational only: an
    /// item of another shape is skipped, never a reason to refuse the booking.
    /// </summary>
    public List<long>? Ids(string name)
    {
        if (!Element.TryGetProperty(name, out var array) || array.ValueKind != JsonValueKind.Array)
        {
            return null;
        }

        var ids = new List<long>();
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind == JsonValueKind.Number && item.TryGetInt64(out var n))
            {
                ids.Add(n);
            }
            else if (item.ValueKind == JsonValueKind.String && long.TryParse(item.GetString(), NumberStyles.None, CultureInfo.InvariantCulture, out var parsed))
            {
                ids.Add(parsed);
            }
        }

        return ids;
    }

    public bool? Bool(string name)
    {
        if (!TryGet(name, out var v))
        {
            return null;
        }

        if (v.ValueKind is JsonValueKind.True or JsonValueKind.False)
        {
            return v.GetBoolean();
        }

        Errors.Add($"{Path}{name} must be true or false, not {Describe(v.ValueKind)}");
        return null;
    }

    /// <summary>ISO 8601 with <c>Z</c> or an offset (Cal.com uses both); a time without one is taken as UTC.</summary>
    public DateTimeOffset? Time(string name)
    {
        if (!TryGet(name, out var v))
        {
            return null;
        }

        if (v.ValueKind == JsonValueKind.String && TryParseTime(v.GetString(), out var time))
        {
            return time;
        }

        Errors.Add($"{Path}{name} must be an ISO 8601 date-time such as 2026-01-27T09:00:00Z");
        return null;
    }

    /// <summary>A date and a time of day (<c>T</c> or a space between), with <c>Z</c> or an offset, else taken as UTC.</summary>
    public static bool TryParseTime(string? text, out DateTimeOffset time)
    {
        time = default;
        if (string.IsNullOrWhiteSpace(text) || text.Length > 40 || !char.IsAsciiDigit(text[0]))
        {
            return false;
        }

        if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out time))
        {
            return false;
        }

        return text.Contains('T', StringComparison.Ordinal) || text.Contains(' ', StringComparison.Ordinal);
    }

    public static string? NullIfEmpty(string? s) => string.IsNullOrWhiteSpace(s) ? null : s;

    public static string? Clip(string? s) =>
        s is { Length: > CalcomWebhookReader.MaxTextLength } ? string.Concat(s.AsSpan(0, CalcomWebhookReader.MaxTextLength - 1), "…") : s;

    public static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "nothing",
    };

    private JsonElement? OfKind(string name, JsonValueKind kind, string what)
    {
        if (!TryGet(name, out var v))
        {
            return null;
        }

        if (v.ValueKind != kind)
        {
            Errors.Add($"{Path}{name} must be {what}, not {Describe(v.ValueKind)}");
            return null;
        }

        return v;
    }

    private bool TryGet(string name, out JsonElement value) =>
        Element.TryGetProperty(name, out value) && value.ValueKind != JsonValueKind.Null;
}
