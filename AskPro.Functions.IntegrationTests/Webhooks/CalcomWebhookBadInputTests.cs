using System.Text;
using AskPro.Functions.Tests.Infrastructure;
using AskPro.Functions.Webhooks;
using static AskPro.Functions.Tests.Infrastructure.WebhookAssert;

namespace AskPro.Functions.Tests.Webhooks;

/// <summary>
/// Signed bodies that are not deliveries this service can apply, and unsigned or oversized ones: each gets its
/// documented 4xx (or 200 "ignored"), the uniform error body, never a 3xx, 410 or 5xx, and nothing is queued.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class CalcomWebhookBadInputTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private const int SmallLimit = 4096;
    private readonly QueueProbe _queue = new(azurite.ConnectionString);
    private TestApp _app = null!;

    public async Task InitializeAsync()
    {
        _app = TestApp.Create(azurite.ConnectionString);
        await _queue.ClearAsync();
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Theory]
    [InlineData("")]
    [InlineData("{")]
    [InlineData("not json")]
    [InlineData("{\"triggerEvent\":\"BOOKING_CREATED\",}")]
    [InlineData("{\"triggerEvent\":'BOOKING_CREATED'}")]
    [InlineData("{\"triggerEvent\":\"PING\"} trailing")]
    [InlineData("triggerEvent=BOOKING_CREATED&uid=abc")]
    public async Task Invalid_JSON_is_rejected_with_422_invalid_json(string body)
    {
        var response = await PostAsync(body);

        AssertError(response, 422, ErrorCodes.InvalidJson);
        Assert.Empty(await _queue.PeekAllAsync());
    }

    [Theory]
    [InlineData("[]", "array")]
    [InlineData("[{\"triggerEvent\":\"BOOKING_CREATED\",\"payload\":{\"uid\":\"abc\"}}]", "array")]
    [InlineData("\"BOOKING_CREATED\"", "string")]
    [InlineData("42", "number")]
    [InlineData("true", "boolean")]
    [InlineData("null", "null")]
    public async Task A_JSON_value_that_is_not_an_object_is_rejected_with_422_invalid_payload_and_details(string body, string kind)
    {
        var response = await PostAsync(body);

        AssertError(response, 422, ErrorCodes.InvalidPayload);
        Assert.Contains(response.Details, d => d.Contains("must be a JSON object", StringComparison.Ordinal) && d.Contains(kind, StringComparison.Ordinal));
        Assert.Empty(await _queue.PeekAllAsync());
    }

    [Theory]
    [InlineData(65)]
    [InlineData(1000)]
    [InlineData(100_000)]
    public async Task Nesting_deeper_than_64_levels_is_rejected_with_422(int depth)
    {
        // Deep inside a field the service never reads, so only the parser's depth limit can refuse it.
        var body = "{\"triggerEvent\":\"BOOKING_CREATED\",\"payload\":{\"uid\":\"abc\",\"deep\":"
            + new string('[', depth) + new string(']', depth) + "}}";

        var response = await PostAsync(body);

        AssertError(response, 422, ErrorCodes.InvalidJson);
        Assert.Contains(response.Details, d => d.Contains("depth", StringComparison.OrdinalIgnoreCase));
        Assert.Empty(await _queue.PeekAllAsync());
    }

    [Fact]
    public async Task Nesting_within_the_limit_is_accepted()
    {
        const int depth = 60; // plus the envelope and payload objects: within 64
        var body = "{\"triggerEvent\":\"BOOKING_CREATED\",\"payload\":{\"uid\":\"abc\",\"deep\":"
            + new string('[', depth) + new string(']', depth) + "}}";

        var response = await PostAsync(body);

        Assert.Equal(202, response.StatusCode);
    }

    [Theory]
    [InlineData("booking_created_web.json", "\"triggerEvent\": \"BOOKING_CREATED\"", "\"triggerEvent\": 5", "triggerEvent must be a string")]
    [InlineData("booking_created_web.json", "\"payload\": {", "\"payload\": \"x\", \"original\": {", "payload must be an object")]
    [InlineData("booking_created_web.json", "\"uid\": \"k3VbP9qWm2xYc7RtL5nD8a\"", "\"uid\": 123", "payload.uid must be a string")]
    [InlineData("booking_created_web.json", "\"startTime\": \"2026-01-27T09:00:00Z\"", "\"startTime\": \"yesterday\"", "payload.startTime must be an ISO 8601 date-time")]
    [InlineData("booking_created_web.json", "\"attendees\": [", "\"attendees\": {}, \"original\": [", "payload.attendees must be an array")]
    [InlineData("booking_created_web.json", "\"createdAt\": \"2026-01-20T10:21:07.884Z\"", "\"createdAt\": 1768904467884", "createdAt must be an ISO 8601 date-time")]
    [InlineData("booking_created_web.json", "\"eventTypeId\": 1234567", "\"eventTypeId\": \"abc\"", "payload.eventTypeId must be an integer")]
    [InlineData("booking_created_web.json", "\"metadata\": {}", "\"metadata\": \"askpro\"", "payload.metadata must be an object")]
    [InlineData("booking_created_web.json", "\"organizer\": {", "\"organizer\": [], \"original\": {", "payload.organizer must be an object")]
    [InlineData("booking_created_web.json", "\"status\": \"ACCEPTED\"", "\"status\": true", "payload.status must be a string")]
    [InlineData("booking_cancelled.json", "\"requestReschedule\": false", "\"requestReschedule\": \"no\"", "payload.requestReschedule must be true or false")]
    [InlineData("meeting_ended.json", "\"uid\": \"k3VbP9qWm2xYc7RtL5nD8a\"", "\"uid\": [\"k3VbP9qWm2xYc7RtL5nD8a\"]", "uid must be a string")]
    [InlineData("booking_no_show_updated.json", "\"noShow\": true", "\"noShow\": \"yes\"", "payload.attendees[0].noShow must be true or false")]
    public async Task A_real_example_with_one_field_of_the_wrong_type_is_rejected_with_422_naming_the_field(string example, string find, string replace, string detail)
    {
        var response = await PostAsync(Edit(example, find, replace));

        AssertError(response, 422, ErrorCodes.InvalidPayload);
        Assert.Contains(response.Details, d => d.StartsWith(detail, StringComparison.Ordinal));
        Assert.Empty(await _queue.PeekAllAsync());
    }

    [Theory]
    [InlineData("booking_created_web.json", "\"triggerEvent\": \"BOOKING_CREATED\",", "", "triggerEvent is required")]
    [InlineData("booking_created_web.json", "\"triggerEvent\": \"BOOKING_CREATED\"", "\"triggerEvent\": \"\"", "triggerEvent is required")]
    [InlineData("booking_created_web.json", "\"triggerEvent\": \"BOOKING_CREATED\"", "\"triggerEvent\": null", "triggerEvent is required")]
    [InlineData("booking_created_web.json", "\"uid\": \"k3VbP9qWm2xYc7RtL5nD8a\",", "", "payload.uid is required for BOOKING_CREATED")]
    [InlineData("booking_cancelled.json", "\"uid\": \"Tz8cYw3RbN6kLq1PmV5xHd\",", "", "payload.uid is required for BOOKING_CANCELLED")]
    [InlineData("meeting_ended.json", "\"uid\": \"k3VbP9qWm2xYc7RtL5nD8a\",", "", "uid is required for MEETING_ENDED")]
    [InlineData("booking_no_show_updated.json", "\"bookingUid\": \"k3VbP9qWm2xYc7RtL5nD8a\",", "", "payload.bookingUid is required for BOOKING_NO_SHOW_UPDATED")]
    [InlineData("booking_created_web.json", "\"endTime\": \"2026-01-27T09:30:00Z\"", "\"endTime\": \"2026-01-27T08:30:00Z\"", "payload.endTime must not be before payload.startTime")]
    [InlineData("booking_created_web.json", "\"uid\": \"k3VbP9qWm2xYc7RtL5nD8a\"", "\"uid\": \"\"", "payload.uid must be 1 to 64 characters")]
    [InlineData("booking_created_web.json", "\"uid\": \"k3VbP9qWm2xYc7RtL5nD8a\"", "\"uid\": \"   \"", "payload.uid must be 1 to 64 characters")]
    [InlineData("booking_created_web.json", "\"uid\": \"k3VbP9qWm2xYc7RtL5nD8a\"", "\"uid\": \"../k3VbP9qWm2xYc7RtL5nD8a\"", "payload.uid must be 1 to 64 characters")]
    public async Task A_real_example_missing_what_the_event_needs_is_rejected_with_422_saying_what(string example, string find, string replace, string detail)
    {
        var response = await PostAsync(Edit(example, find, replace));

        AssertError(response, 422, ErrorCodes.InvalidPayload);
        Assert.Contains(response.Details, d => d.StartsWith(detail, StringComparison.Ordinal));
        Assert.Empty(await _queue.PeekAllAsync());
    }

    /// <summary>
    /// Only what Cal.com's uids are made of: a '%' would break the point read of the uid row, a ',' the comma-joined
    /// uid columns; a space, '.', '+' or a non-ASCII letter is no uid Cal.com makes either.
    /// </summary>
    [Theory]
    [InlineData("k3VbP9qWm2%2FxYc7RtL")]
    [InlineData("k3VbP9qWm2,xYc7RtL5nD8a")]
    [InlineData("k3VbP9qW m2")]
    [InlineData("k3VbP9.qWm2")]
    [InlineData("k3VbP9+qWm2")]
    [InlineData("k3VbP9ümlaut")]
    [InlineData("a123456789b123456789c123456789d123456789e123456789f123456789g1234")]
    public async Task A_uid_with_characters_Cal_com_never_uses_or_over_64_characters_is_rejected(string uid)
    {
        var response = await PostAsync(Edit("booking_created_web.json", "\"uid\": \"k3VbP9qWm2xYc7RtL5nD8a\"", $"\"uid\": \"{uid}\""));

        AssertError(response, 422, ErrorCodes.InvalidPayload);
        Assert.Contains("payload.uid must be 1 to 64 characters, only letters, digits, '-' and '_'", response.Details);
        Assert.Empty(await _queue.PeekAllAsync());
    }

    [Theory]
    [InlineData("0f8c1d2e-3b4a-4c5d-9e6f-7a8b9c0d1e2f")]
    [InlineData("seed_uid-01")]
    [InlineData("a123456789b123456789c123456789d123456789e123456789f123456789g123")]
    public async Task A_uid_of_letters_digits_dashes_and_underscores_up_to_64_characters_is_accepted(string uid)
    {
        var response = await PostAsync(Edit("booking_created_web.json", "\"uid\": \"k3VbP9qWm2xYc7RtL5nD8a\"", $"\"uid\": \"{uid}\""));

        Assert.Equal(202, response.StatusCode);
        Assert.Equal(uid, response.Json.GetProperty("uid").GetString());
    }

    [Theory]
    [InlineData("BOOKING_CREATED")]
    [InlineData("BOOKING_CANCELLED")]
    [InlineData("BOOKING_NO_SHOW_UPDATED")]
    [InlineData("BOOKING_CONFIRMED")]
    public async Task An_applied_trigger_other_than_MEETING_without_payload_is_rejected_with_422(string trigger)
    {
        // Top-level uid as a flat MEETING_ENDED has it: only MEETING_* may be flat.
        var response = await PostAsync($"{{\"triggerEvent\":\"{trigger}\",\"createdAt\":\"2026-01-20T10:21:07.884Z\",\"uid\":\"k3VbP9qWm2xYc7RtL5nD8a\"}}");

        AssertError(response, 422, ErrorCodes.InvalidPayload);
        Assert.Contains("payload is required", response.Details);
        Assert.Empty(await _queue.PeekAllAsync());
    }

    [Theory]
    [InlineData("form_submitted.json", "FORM_SUBMITTED")]
    [InlineData("recording_ready.json", "RECORDING_READY")]
    [InlineData("something_new.json", "SOMETHING_NEW")]
    [InlineData("something_new_without_payload.json", "SOMETHING_NEW")]
    public async Task An_unknown_or_unapplied_trigger_is_answered_200_ignored_and_nothing_is_queued(string file, string trigger)
    {
        var body = TestBodies.Read(file);
        var response = await WebhookCall.PostSignedAsync(_app, body);

        Assert.Equal(200, response.StatusCode);
        Assert.Equal("ignored", response.Status);
        Assert.Equal(trigger, response.Json.GetProperty("trigger_event").GetString());
        Assert.Equal(WebhookCallHash(body), response.Json.GetProperty("delivery_id").GetString());
        Assert.Empty(await _queue.PeekAllAsync());
    }

    [Fact]
    public async Task A_missing_signature_is_rejected_with_401_missing_signature()
    {
        var body = Examples.Calcom("booking_created_web.json");
        var response = await WebhookCall.PostAsync(_app, new MemoryStream(body), body.Length, []);

        AssertError(response, 401, ErrorCodes.MissingSignature);
        Assert.Empty(await _queue.PeekAllAsync());
    }

    [Fact]
    public async Task An_unsigned_delivery_marked_no_secret_provided_is_rejected_with_401_unsigned_delivery()
    {
        var body = Examples.Calcom("booking_created_web.json");
        var response = await WebhookCall.PostAsync(_app, new MemoryStream(body), body.Length, new() { [WebhookSignature.HeaderName] = "no-secret-provided" });

        AssertError(response, 401, ErrorCodes.UnsignedDelivery);
        Assert.Empty(await _queue.PeekAllAsync());
    }

    [Theory]
    [InlineData("not-hex-at-all")]
    [InlineData("79666176e71d3392f59f139a5138ea4fa872bcca41371202ffd6874e458778")]
    public async Task A_malformed_signature_is_rejected_with_401_invalid_signature(string header)
    {
        var body = Examples.Calcom("booking_created_web.json");
        var response = await WebhookCall.PostAsync(_app, new MemoryStream(body), body.Length, new() { [WebhookSignature.HeaderName] = header });

        AssertError(response, 401, ErrorCodes.InvalidSignature);
        Assert.Empty(await _queue.PeekAllAsync());
    }

    [Fact]
    public async Task Body_changed_by_one_byte_is_rejected_with_401()
    {
        var body = Examples.Calcom("booking_created_web.json");
        var signature = WebhookCall.Sign(body);
        var changed = (byte[])body.Clone();
        var at = Encoding.UTF8.GetString(body).IndexOf("2026-01-27T09:00:00Z", StringComparison.Ordinal);
        changed[at + 12] = (byte)'1'; // 09:00 → 10:00, still valid JSON with the same shape

        var response = await WebhookCall.PostAsync(_app, new MemoryStream(changed), changed.Length, new() { [WebhookSignature.HeaderName] = signature });

        AssertError(response, 401, ErrorCodes.InvalidSignature);
        Assert.Empty(await _queue.PeekAllAsync());
    }

    [Fact]
    public async Task A_delivery_signed_with_an_unknown_secret_is_rejected_with_401()
    {
        var body = Examples.Calcom("booking_created_web.json");
        var response = await WebhookCall.PostAsync(_app, new MemoryStream(body), body.Length,
            new() { [WebhookSignature.HeaderName] = WebhookCall.Sign(body, "not-our-secret") });

        AssertError(response, 401, ErrorCodes.InvalidSignature);
    }

    [Fact]
    public async Task The_signature_is_checked_before_the_body_is_judged()
    {
        // An unauthenticated caller learns nothing about what a valid body looks like.
        var response = await WebhookCall.PostAsync(_app, new MemoryStream("{"u8.ToArray()), 1, new() { [WebhookSignature.HeaderName] = new string('0', 64) });

        AssertError(response, 401, ErrorCodes.InvalidSignature);
    }

    [Fact]
    public async Task A_body_declared_larger_than_the_limit_is_rejected_with_413_without_reading_it()
    {
        await using var app = SmallLimitApp();
        var stream = new GuardedStream([], SmallLimit * 4, allowed: 0);

        var response = await WebhookCall.PostAsync(app, stream, SmallLimit + 1, new() { [WebhookSignature.HeaderName] = new string('0', 64) });

        AssertError(response, 413, ErrorCodes.PayloadTooLarge);
        Assert.Equal(0, stream.Reads);
    }

    [Fact]
    public async Task A_body_over_the_limit_without_Content_Length_is_rejected_with_413_and_read_no_further_than_one_byte_past_it()
    {
        await using var app = SmallLimitApp();
        var prefix = Examples.Calcom("booking_created_web.json");
        var stream = new GuardedStream(prefix, SmallLimit * 64, allowed: SmallLimit + 1);

        var response = await WebhookCall.PostAsync(app, stream, contentLength: null, new() { [WebhookSignature.HeaderName] = new string('0', 64) });

        AssertError(response, 413, ErrorCodes.PayloadTooLarge);
        Assert.InRange(stream.Delivered, SmallLimit + 1, SmallLimit + 1);
        Assert.Empty(await _queue.PeekAllAsync());
    }

    [Fact]
    public async Task A_body_under_a_too_small_Content_Length_is_still_bounded_by_the_limit()
    {
        await using var app = SmallLimitApp();
        var stream = new GuardedStream([], SmallLimit * 64, allowed: SmallLimit + 1);

        var response = await WebhookCall.PostAsync(app, stream, contentLength: 10, new() { [WebhookSignature.HeaderName] = new string('0', 64) });

        AssertError(response, 413, ErrorCodes.PayloadTooLarge);
        Assert.True(stream.Delivered <= SmallLimit + 1, $"{stream.Delivered} bytes were read");
    }

    [Fact]
    public async Task A_body_of_exactly_the_limit_is_accepted_and_one_byte_more_is_not()
    {
        await using var app = SmallLimitApp();
        var example = Examples.Calcom("booking_no_show_updated.json");
        var exact = example.Concat(Enumerable.Repeat((byte)' ', SmallLimit - example.Length)).ToArray();
        byte[] over = [.. exact, (byte)' '];

        var accepted = await WebhookCall.PostAsync(app, new MemoryStream(exact), null, new() { [WebhookSignature.HeaderName] = WebhookCall.Sign(exact) });
        var refused = await WebhookCall.PostAsync(app, new MemoryStream(over), null, new() { [WebhookSignature.HeaderName] = WebhookCall.Sign(over) });

        Assert.Equal(202, accepted.StatusCode);
        AssertError(refused, 413, ErrorCodes.PayloadTooLarge);
    }

    [Fact]
    public async Task The_default_limit_refuses_a_body_over_one_MiB()
    {
        var stream = new GuardedStream(Examples.Calcom("booking_created_web.json"), WebhookOptions.DefaultMaxBodyBytes * 2L, allowed: WebhookOptions.DefaultMaxBodyBytes + 1);

        var response = await WebhookCall.PostAsync(_app, stream, contentLength: null, new() { [WebhookSignature.HeaderName] = new string('0', 64) });

        AssertError(response, 413, ErrorCodes.PayloadTooLarge);
        Assert.Contains(WebhookOptions.DefaultMaxBodyBytes.ToString(System.Globalization.CultureInfo.InvariantCulture), response.Json.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("invalid_utf8_in_read_field")]
    [InlineData("invalid_utf8_in_unread_field")]
    [InlineData("lone_surrogate_in_read_field")]
    [InlineData("lone_surrogate_in_property_name")]
    [InlineData("utf8_bom")]
    public async Task Text_that_is_not_valid_Unicode_is_rejected_with_422_never_500_and_never_queued_altered(string name)
    {
        var body = BrokenUnicode(name);

        var response = await PostAsync(body);

        AssertError(response, 422, ErrorCodes.InvalidJson);
        Assert.Empty(await _queue.PeekAllAsync());
    }

    [Fact]
    public async Task An_escaped_lone_surrogate_in_a_field_never_read_is_accepted_byte_identical()
    {
        // Valid UTF-8 (the escape is ASCII), so the exact bytes can travel; nothing reads the field.
        var body = Edit("booking_created_web.json", "\"bookerUrl\": \"https://cal.com\"", "\"bookerUrl\": \"https://cal.com/\\ud800\"");

        var response = await PostAsync(body);

        Assert.Equal(202, response.StatusCode);
        var envelope = await _queue.SingleEnvelopeAsync();
        Assert.Equal(body, await _app.Get<AskPro.Functions.Queueing.WebhookQueue>().ReadBodyAsync(envelope, CancellationToken.None));
    }

    private Task<WebhookResponse> PostAsync(string body) => PostAsync(Encoding.UTF8.GetBytes(body));

    private async Task<WebhookResponse> PostAsync(byte[] body)
    {
        var response = await WebhookCall.PostSignedAsync(_app, body);
        Assert.InRange(response.StatusCode, 200, 499);
        Assert.NotInRange(response.StatusCode, 300, 399);
        Assert.NotEqual(410, response.StatusCode);
        return response;
    }

    private TestApp SmallLimitApp() =>
        TestApp.Create(azurite.ConnectionString, s => s["CalcomWebhook:MaxBodyBytes"] = SmallLimit.ToString(System.Globalization.CultureInfo.InvariantCulture));

    private static byte[] Edit(string example, string find, string replace)
    {
        var text = Encoding.UTF8.GetString(Examples.Calcom(example));
        Assert.Contains(find, text, StringComparison.Ordinal);
        return Encoding.UTF8.GetBytes(text.Replace(find, replace, StringComparison.Ordinal));
    }

    private static byte[] BrokenUnicode(string name)
    {
        var example = Examples.Calcom("booking_created_web.json");
        return name switch
        {
            "invalid_utf8_in_read_field" => Splice(example, "\"title\": \"", [0xC3, 0x28]),
            "invalid_utf8_in_unread_field" => Splice(example, "\"bookerUrl\": \"", [0xFF, 0xFE]),
            "lone_surrogate_in_read_field" => Edit("booking_created_web.json", "\"title\": \"", "\"title\": \"\\ud800"),
            "lone_surrogate_in_property_name" => Edit("booking_created_web.json", "\"bookerUrl\": ", "\"\\udc00bookerUrl\": "),
            "utf8_bom" => [0xEF, 0xBB, 0xBF, .. example],
            _ => throw new ArgumentOutOfRangeException(nameof(name)),
        };
    }

    private static byte[] Splice(byte[] body, string after, byte[] insert)
    {
        var at = body.AsSpan().IndexOf(Encoding.UTF8.GetBytes(after));
        Assert.True(at >= 0, $"{after} not found");
        at += Encoding.UTF8.GetByteCount(after);
        return [.. body[..at], .. insert, .. body[at..]];
    }

    private static string WebhookCallHash(byte[] body) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(body));
}
