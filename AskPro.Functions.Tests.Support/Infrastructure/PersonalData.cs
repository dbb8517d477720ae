using System.Text.Json;

namespace AskPro.Functions.Tests.Infrastructure;

/// <summary>The personal data in a webhook body, for checking that no log line carries any of it.</summary>
public static class PersonalData
{
    /// <summary>Fields that hold a person's name, email address or phone number in Cal.com's and the seed's shapes.</summary>
    private static readonly HashSet<string> PersonalFields = new(StringComparer.Ordinal)
    {
        "name", "email", "phoneNumber", "attendeePhoneNumber", "phone", "firstName", "lastName", "userPrimaryEmail",
        "primaryEmail", "externalId", "cancelledBy", "rescheduledBy", "smsReminderNumber", "username",
    };

    /// <summary>Every name, email address and phone number in the body (values of 5+ characters, so "Cal" is not one).</summary>
    public static HashSet<string> PersonalValues(byte[] body)
    {
        var found = new HashSet<string>(StringComparer.Ordinal);
        using var document = JsonDocument.Parse(body);
        Walk(document.RootElement, null, found);
        return found;
    }

    private static void Walk(JsonElement element, string? field, HashSet<string> found)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    // {label, value} answers keep the field name of their key.
                    var name = property.Name is "value" or "label" or "isHidden" ? field : property.Name;
                    if (property.Name != "label")
                    {
                        Walk(property.Value, name, found);
                    }
                }

                break;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    Walk(item, field, found);
                }

                break;
            case JsonValueKind.String:
                var text = element.GetString()!;
                if (text.Length >= 5 && (field is not null && PersonalFields.Contains(field) || text.Contains('@', StringComparison.Ordinal)))
                {
                    found.Add(text);
                }

                break;
        }
    }
}
