using System.Text.Json;

namespace AskPro.Functions.Calcom;

/// <summary>
/// The booking form's answers (<c>responses</c>) by key. Cal.com sends <c>{label, value}</c> per answer, the seed a
/// plain value; a location answer is <c>{value, optionValue}</c>, a split name <c>{firstName, lastName}</c>, a
/// multiple choice a list. Labels are never used: they are whatever the event type's owner typed.
/// </summary>
internal readonly struct FormAnswers(JsonElement? responses)
{
    /// <summary>The text of the answer to <paramref name="key"/> (clipped), or null when there is none.</summary>
    public string? Text(string key)
    {
        if (responses is not { } r || !r.TryGetProperty(key, out var field))
        {
            return null;
        }

        var value = field;
        if (field.ValueKind == JsonValueKind.Object && (field.TryGetProperty("label", out _) || field.TryGetProperty("value", out _) || field.TryGetProperty("isHidden", out _)))
        {
            if (!field.TryGetProperty("value", out value))
            {
                return null;
            }
        }

        return JsonFields.Clip(JsonFields.NullIfEmpty(ValueText(value)));
    }

    private static string? ValueText(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString(),
        JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => value.GetRawText(),
        JsonValueKind.Object when value.TryGetProperty("firstName", out var first) =>
            JsonFields.NullIfEmpty(string.Join(' ', new[] { ValueText(first), value.TryGetProperty("lastName", out var last) ? ValueText(last) : null }.Where(x => !string.IsNullOrEmpty(x)))),
        JsonValueKind.Object when value.TryGetProperty("optionValue", out var option) && JsonFields.NullIfEmpty(ValueText(option)) is { } optionText => optionText,
        JsonValueKind.Object when value.TryGetProperty("value", out var inner) => ValueText(inner),
        JsonValueKind.Array => JsonFields.NullIfEmpty(string.Join(", ", value.EnumerateArray().Select(ValueText).Where(x => !string.IsNullOrEmpty(x)))),
        _ => null,
    };
}
