using System.Globalization;
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
            errors.Add($"body must be a JSON object, not {Describe(root.ValueKind)}");
            return WebhookReadResult.Failed(WebhookKind.Invalid, null, errors);
        }

        var trigger = ReadString(root, "triggerEvent", "triggerEvent", errors);
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
        if (trigger != CalcomTriggers.Ping && !CalcomTriggers.IsApplied(trigger))
        {
            return new(WebhookKind.Ignored, trigger, null, []);
        }

        var createdAt = ReadTime(root, "createdAt", "createdAt", errors);
        JsonElement booking;
        string path;
        if (root.TryGetProperty("payload", out var payload) && payload.ValueKind != JsonValueKind.Null)
        {
            if (payload.ValueKind != JsonValueKind.Object)
            {
                errors.Add($"payload must be an object, not {Describe(payload.ValueKind)}");
                return WebhookReadResult.Failed(WebhookKind.Invalid, trigger, errors);
            }

            booking = payload;
            path = "payload.";
        }
        else if (CalcomTriggers.MayBeFlat(trigger))
        {
            booking = root;
            path = "";
        }
        else if (trigger == CalcomTriggers.Ping || !CalcomTriggers.IsApplied(trigger))
        {
            booking = default;
            path = "";
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

        if (trigger == CalcomTriggers.Ping)
        {
            return new(WebhookKind.Ping, trigger, null, []);
        }

        if (!CalcomTriggers.IsApplied(trigger))
        {
            return new(WebhookKind.Ignored, trigger, null, []);
        }

        var bookingEvent = ReadBooking(trigger, createdAt, booking, path, errors);
        return errors.Count > 0 || bookingEvent is null
            ? WebhookReadResult.Failed(WebhookKind.Invalid, trigger, errors)
            : new(WebhookKind.Booking, trigger, bookingEvent, []) { PayloadVersion = BodyPayloadVersion(root) };
    }

    private static BookingEvent? ReadBooking(string trigger, DateTimeOffset? createdAt, JsonElement b, string p, List<string> errors)
    {
        // No-show updates name the booking bookingUid; a plain uid is read only when that is absent, and when
        // both are missing the error names the field Cal.com sends.
        var uidField = CalcomTriggers.NamesBookingUid(trigger) && (b.TryGetProperty("bookingUid", out _) || !b.TryGetProperty("uid", out _))
            ? "bookingUid"
            : "uid";
        var uid = ReadUid(b, uidField, p + uidField, errors);
        if (uid is null && !errors.Exists(e => e.StartsWith(p + uidField, StringComparison.Ordinal)))
        {
            errors.Add($"{p}{uidField} is required for {trigger}");
        }

        var rescheduleUid = ReadUid(b, "rescheduleUid", p + "rescheduleUid", errors);
        var start = ReadTime(b, "startTime", p + "startTime", errors);
        var end = ReadTime(b, "endTime", p + "endTime", errors);
        if (start is { } s && end is { } e && e < s)
        {
            errors.Add($"{p}endTime must not be before {p}startTime");
        }

        var rescheduleStart = ReadTime(b, "rescheduleStartTime", p + "rescheduleStartTime", errors);
        var rescheduleEnd = ReadTime(b, "rescheduleEndTime", p + "rescheduleEndTime", errors);
        var confirmedAt = ReadTime(b, "confirmedAt", p + "confirmedAt", errors);
        var status = ReadString(b, "status", p + "status", errors);
        var title = ReadString(b, "title", p + "title", errors);
        var bookingId = ReadId(b, trigger == CalcomTriggers.MeetingEnded || trigger == CalcomTriggers.MeetingStarted ? "id" : "bookingId", p, errors)
            ?? ReadId(b, "bookingId", p, errors);
        var eventTypeId = ReadId(b, "eventTypeId", p, errors);
        var attendees = ReadArray(b, "attendees", p + "attendees", errors);
        var organizerElement = ReadObject(b, "organizer", p + "organizer", errors) ?? ReadObject(b, "user", p + "user", errors);
        var responses = ReadObject(b, "responses", p + "responses", errors);
        var metadata = ReadObject(b, "metadata", p + "metadata", errors);

        JsonElement? firstAttendee = null;
        var noShow = new List<NoShowMark>();
        List<Attendee>? attendeeList = null;
        if (attendees is { } list)
        {
            attendeeList = [];
            var i = 0;
            foreach (var a in list.EnumerateArray())
            {
                if (a.ValueKind != JsonValueKind.Object)
                {
                    errors.Add($"{p}attendees[{i}] must be an object, not {Describe(a.ValueKind)}");
                }
                else
                {
                    firstAttendee ??= a;
                    var at = $"{p}attendees[{i}].";
                    var email = NullIfEmpty(ReadString(a, "email", at + "email", errors));
                    var flag = ReadBool(a, "noShow", at + "noShow", errors);
                    var seat = ReadObject(a, "bookingSeat", at + "bookingSeat", errors) is { } bs ? ReadString(bs, "referenceUid", at + "bookingSeat.referenceUid", errors) : null;
                    attendeeList.Add(new Attendee(NullIfEmpty(ReadString(a, "name", at + "name", errors)), email,
                        NullIfEmpty(ReadString(a, "phoneNumber", at + "phoneNumber", errors)), flag, NullIfEmpty(seat)));
                    if (flag is { } f && trigger == CalcomTriggers.BookingNoShowUpdated)
                    {
                        noShow.Add(new NoShowMark(email, f));
                    }
                    else if (trigger == CalcomTriggers.AfterGuestsNoShow)
                    {
                        // Cal Video names the guests who did not join: each of them is a no-show unless it says otherwise.
                        noShow.Add(new NoShowMark(email, flag ?? true));
                    }
                }

                i++;
            }
        }

        var customer = ReadCustomer(responses, firstAttendee, p, errors);
        Person? organizer = null;
        long? organizerId = null;
        if (organizerElement is { } o)
        {
            organizer = new Person(ReadString(o, "name", p + "organizer.name", errors), ReadString(o, "email", p + "organizer.email", errors), null);
            organizerId = ReadId(o, "id", p + "organizer.", errors);
        }
        else if (ReadString(b, "userPrimaryEmail", p + "userPrimaryEmail", errors) is { } primaryEmail)
        {
            organizer = new Person(null, primaryEmail, null);
        }

        // Flat booking rows name the host userId (the user id) next to user.email (the account address).
        organizerId ??= ReadId(b, "userId", p, errors);
        string? askProId = null, companyId = null, source = null;
        if (metadata is { } m)
        {
            askProId = ReadScalar(m, "askpro_appointment_id", p + "metadata.askpro_appointment_id", errors);
            companyId = ReadScalar(m, "askpro_company_id", p + "metadata.askpro_company_id", errors)
                ?? ReadScalar(m, "company_id", p + "metadata.company_id", errors);
            source = ReadScalar(m, "source", p + "metadata.source", errors);
        }

        var location = ReadString(b, "location", p + "location", errors) ?? ResponseText(responses, "location")
            ?? (trigger == CalcomTriggers.BookingLocationUpdated ? OptionalText(b, "updatedLocation") : null);
        var notes = ResponseText(responses, "notes") ?? ReadString(b, "additionalNotes", p + "additionalNotes", errors);
        var timeZone = firstAttendee is { } fa ? ReadString(fa, "timeZone", p + "attendees[0].timeZone", errors) : null;

        var result = new BookingEvent
        {
            TriggerEvent = trigger,
            Uid = uid ?? "",
            RescheduleUid = rescheduleUid,
            CreatedAt = createdAt,
            Status = status,
            BookingId = bookingId,
            EventTypeId = eventTypeId,
            Title = title,
            StartTime = start,
            EndTime = end,
            RescheduleStartTime = rescheduleStart,
            RescheduleEndTime = rescheduleEnd,
            ConfirmedAt = confirmedAt,
            TimeZone = timeZone,
            Customer = customer,
            Organizer = organizer,
            Location = NullIfEmpty(location),
            Notes = NullIfEmpty(notes),
            Source = NullIfEmpty(source),
            AskProAppointmentId = NullIfEmpty(askProId),
            CompanyId = NullIfEmpty(companyId),
            HasMetadata = metadata is not null,
            CancellationReason = NullIfEmpty(ReadString(b, "cancellationReason", p + "cancellationReason", errors)),
            CancelledBy = NullIfEmpty(ReadString(b, "cancelledBy", p + "cancelledBy", errors)),
            RequestReschedule = ReadBool(b, "requestReschedule", p + "requestReschedule", errors) ?? false,
            RejectionReason = NullIfEmpty(ReadString(b, "rejectionReason", p + "rejectionReason", errors)),
            RescheduleReason = NullIfEmpty(ResponseText(responses, "rescheduleReason") ?? ReadString(b, "reschedulingReason", p + "reschedulingReason", errors)),
            RescheduledBy = NullIfEmpty(ReadString(b, "rescheduledBy", p + "rescheduledBy", errors)),
            NoShowAttendees = noShow,
            // Flat MEETING_* rows carry noShowHost as it was when the job was scheduled: it says nothing, so it is not read.
            NoShowHost = CalcomTriggers.MayBeFlat(trigger) ? null
                : ReadBool(b, "noShowHost", p + "noShowHost", errors) ?? (trigger == CalcomTriggers.AfterHostsNoShow ? true : null),
            OrganizerId = organizerId,
            Attendees = attendeeList is { Count: > 0 } ? attendeeList : null,
            SeatsPerTimeSlot = ReadInt(b, "seatsPerTimeSlot", p + "seatsPerTimeSlot", errors),
            AttendeeSeatId = NullIfEmpty(ReadString(b, "attendeeSeatId", p + "attendeeSeatId", errors)),
            // Only the presence matters: "cancel all remaining" of a series carries it, and then more occurrences changed.
            IsRecurring = ReadObject(b, "recurringEvent", p + "recurringEvent", errors) is null ? null : true,
            AddedHostUserIds = ReadIds(b, "addedHostUserIds"),
            RemovedHostUserIds = ReadIds(b, "removedHostUserIds"),
            // Cal.com's docs name previousLocation, one code copy updatedLocation: both accepted, neither relied on,
            // and a shape other than text is ignored rather than refused (a 4xx is final for Cal.com).
            PreviousLocation = NullIfEmpty(OptionalText(b, "previousLocation")),
            HostEmail = NullIfEmpty(ReadString(b, "hostEmail", p + "hostEmail", errors)),
            Paid = ReadBool(b, "paid", p + "paid", errors),
        };
        return uid is null ? null : result;
    }

    private static Person? ReadCustomer(JsonElement? responses, JsonElement? attendee, string p, List<string> errors)
    {
        var name = ResponseText(responses, "name");
        var email = ResponseText(responses, "email");
        var phone = ResponseText(responses, "attendeePhoneNumber") ?? ResponseText(responses, "phone") ?? ResponseText(responses, "phoneNumber");
        if (attendee is { } a)
        {
            name ??= NullIfEmpty(ReadString(a, "name", p + "attendees[0].name", errors));
            email ??= NullIfEmpty(ReadString(a, "email", p + "attendees[0].email", errors));
            phone ??= NullIfEmpty(ReadString(a, "phoneNumber", p + "attendees[0].phoneNumber", errors));
        }

        // Phone-only bookings carry a placeholder address (<digits>@sms.cal.com): not a way to reach anyone.
        if (email is not null && email.EndsWith("@sms.cal.com", StringComparison.OrdinalIgnoreCase))
        {
            phone ??= "+" + email[..email.IndexOf('@', StringComparison.Ordinal)];
            email = null;
        }

        return name is null && email is null && phone is null ? null : new Person(name, email, phone);
    }

    /// <summary>
    /// The text of a booking-form answer by key: Cal.com's <c>{label, value}</c>, the seed's plain value,
    /// a location <c>{value, optionValue}</c> or a split name <c>{firstName, lastName}</c>. Labels are never used.
    /// </summary>
    internal static string? ResponseText(JsonElement? responses, string key)
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

        return Clip(NullIfEmpty(ValueText(value)));
    }

    private static string? Clip(string? s) => s is { Length: > MaxTextLength } ? string.Concat(s.AsSpan(0, MaxTextLength - 1), "…") : s;

    private static string? ValueText(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString(),
        JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => value.GetRawText(),
        JsonValueKind.Object when value.TryGetProperty("firstName", out var first) =>
            NullIfEmpty(string.Join(' ', new[] { ValueText(first), value.TryGetProperty("lastName", out var last) ? ValueText(last) : null }.Where(x => !string.IsNullOrEmpty(x)))),
        JsonValueKind.Object when value.TryGetProperty("optionValue", out var option) && NullIfEmpty(ValueText(option)) is { } optionText => optionText,
        JsonValueKind.Object when value.TryGetProperty("value", out var inner) => ValueText(inner),
        JsonValueKind.Array => NullIfEmpty(string.Join(", ", value.EnumerateArray().Select(ValueText).Where(x => !string.IsNullOrEmpty(x)))),
        _ => null,
    };

    private static string? NullIfEmpty(string? s) => string.IsNullOrWhiteSpace(s) ? null : s;

    private static string? ReadString(JsonElement o, string name, string path, List<string> errors)
    {
        if (!o.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (v.ValueKind != JsonValueKind.String)
        {
            errors.Add($"{path} must be a string, not {Describe(v.ValueKind)}");
            return null;
        }

        return Clip(v.GetString());
    }

    /// <summary>Metadata values are strings in Cal.com but a number in the seed: both read as text.</summary>
    private static string? ReadScalar(JsonElement o, string name, string path, List<string> errors)
    {
        if (!o.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (v.ValueKind is JsonValueKind.String or JsonValueKind.Number)
        {
            return Clip(v.ValueKind == JsonValueKind.String ? v.GetString() : v.GetRawText());
        }

        errors.Add($"{path} must be a string or a number, not {Describe(v.ValueKind)}");
        return null;
    }

    private static string? ReadUid(JsonElement o, string name, string path, List<string> errors)
    {
        var uid = ReadString(o, name, path, errors);
        if (uid is null)
        {
            return null;
        }

        // Only what Cal.com uses: a '%' breaks point reads by row key, a ',' the comma-joined uid columns, and anything
        // else is not a uid Cal.com made.
        if (uid.Length is 0 or > MaxUidLength || !uid.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
        {
            errors.Add($"{path} must be 1 to {MaxUidLength} characters, only letters, digits, '-' and '_'");
            return null;
        }

        return uid;
    }

    private static long? ReadId(JsonElement o, string name, string p, List<string> errors)
    {
        if (!o.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null)
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

        errors.Add($"{p}{name} must be an integer, not {Describe(v.ValueKind)}");
        return null;
    }

    private static int? ReadInt(JsonElement o, string name, string path, List<string> errors)
    {
        if (!o.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var n))
        {
            return n;
        }

        errors.Add($"{path} must be an integer, not {Describe(v.ValueKind)}");
        return null;
    }

    /// <summary>
    /// A list of Cal.com user ids (numbers, or digit strings); null when absent or not a list. Informational only (the
    /// record's host is the organizer): an item of another shape is skipped, never a reason to refuse the booking.
    /// </summary>
    private static List<long>? ReadIds(JsonElement o, string name)
    {
        if (!o.TryGetProperty(name, out var array) || array.ValueKind != JsonValueKind.Array)
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

    /// <summary>Text of an optional field whose shape is not settled: a string (clipped), anything else counts as absent.</summary>
    private static string? OptionalText(JsonElement o, string name) =>
        o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? Clip(v.GetString()) : null;

    /// <summary>A payload version named at the top level of the body itself.</summary>
    private static string? BodyPayloadVersion(JsonElement root) =>
        PayloadVersion.BodyFields.Select(field => PayloadVersion.Clean(OptionalText(root, field))).FirstOrDefault(v => v is not null);

    private static bool? ReadBool(JsonElement o, string name, string path, List<string> errors)
    {
        if (!o.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (v.ValueKind is JsonValueKind.True or JsonValueKind.False)
        {
            return v.GetBoolean();
        }

        errors.Add($"{path} must be true or false, not {Describe(v.ValueKind)}");
        return null;
    }

    private static JsonElement? ReadObject(JsonElement o, string name, string path, List<string> errors) =>
        ReadOfKind(o, name, path, JsonValueKind.Object, "an object", errors);

    private static JsonElement? ReadArray(JsonElement o, string name, string path, List<string> errors) =>
        ReadOfKind(o, name, path, JsonValueKind.Array, "an array", errors);

    private static JsonElement? ReadOfKind(JsonElement o, string name, string path, JsonValueKind kind, string what, List<string> errors)
    {
        if (!o.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (v.ValueKind != kind)
        {
            errors.Add($"{path} must be {what}, not {Describe(v.ValueKind)}");
            return null;
        }

        return v;
    }

    /// <summary>ISO 8601 with <c>Z</c> or an offset (Cal.com uses both); a time without one is taken as UTC.</summary>
    private static DateTimeOffset? ReadTime(JsonElement o, string name, string path, List<string> errors)
    {
        if (!o.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (v.ValueKind == JsonValueKind.String && TryParseTime(v.GetString(), out var time))
        {
            return time;
        }

        errors.Add($"{path} must be an ISO 8601 date-time such as 2026-01-27T09:00:00Z");
        return null;
    }

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

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "nothing",
    };
}
