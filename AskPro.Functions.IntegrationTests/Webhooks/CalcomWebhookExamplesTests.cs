using System.Security.Cryptography;
using System.Text;
using AskPro.Functions.Queueing;
using AskPro.Functions.Tests.Infrastructure;
using AskPro.Functions.Webhooks;

namespace AskPro.Functions.Tests.Webhooks;

/// <summary>
/// Every example body, real (Cal.com's shapes) and seed-shaped, through the HTTP function into a real Azurite queue.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class CalcomWebhookExamplesTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private readonly QueueProbe _queue = new(azurite.ConnectionString);
    private TestApp _app = null!;

    /// <summary>What each example must get: the status code, the status word, and for queued ones the uids (read by hand from the files).</summary>
    private static readonly Dictionary<string, Expected> ExpectedAnswers = new(StringComparer.Ordinal)
    {
        ["ping.compact.txt"] = new(200, "ok", "PING"),
        ["ping.json"] = new(200, "ok", "PING"),
        ["booking_created_web.json"] = new(202, "accepted", "BOOKING_CREATED", "k3VbP9qWm2xYc7RtL5nD8a"),
        ["booking_created_web_v2026.json"] = new(202, "accepted", "BOOKING_CREATED", "k3VbP9qWm2xYc7RtL5nD8a"),
        ["booking_created_api_metadata.json"] = new(202, "accepted", "BOOKING_CREATED", "Qm7ZtXo4Lp2WcN9vR1sK6e"),
        ["booking_rescheduled.json"] = new(202, "accepted", "BOOKING_RESCHEDULED", "Tz8cYw3RbN6kLq1PmV5xHd", "Qm7ZtXo4Lp2WcN9vR1sK6e"),
        ["booking_cancelled.json"] = new(202, "accepted", "BOOKING_CANCELLED", "Tz8cYw3RbN6kLq1PmV5xHd"),
        ["booking_requested.json"] = new(202, "accepted", "BOOKING_REQUESTED", "Hb2NwQ8kZr5TyL1mXc4Vp9"),
        ["booking_rejected.json"] = new(202, "accepted", "BOOKING_REJECTED", "Hb2NwQ8kZr5TyL1mXc4Vp9"),
        ["meeting_ended.json"] = new(202, "accepted", "MEETING_ENDED", "k3VbP9qWm2xYc7RtL5nD8a"),
        ["booking_no_show_updated.json"] = new(202, "accepted", "BOOKING_NO_SHOW_UPDATED", "k3VbP9qWm2xYc7RtL5nD8a"),
    };

    private static readonly Dictionary<string, Expected> ExpectedSeedAnswers = new(StringComparer.Ordinal)
    {
        ["seed_booking_created.json"] = new(202, "accepted", "BOOKING_CREATED", "seedUidCreated001"),
        ["seed_booking_created_external.json"] = new(202, "accepted", "BOOKING_CREATED", "seedUidExternal01"),
        ["seed_booking_requested.json"] = new(202, "accepted", "BOOKING_REQUESTED", "seedUidRequest001"),
        ["seed_booking_confirmed.json"] = new(202, "accepted", "BOOKING_CONFIRMED", "seedUidRequest001"),
        ["seed_booking_rescheduled.json"] = new(202, "accepted", "BOOKING_RESCHEDULED", "seedUidExternal01", "seedUidExternal02"),
        ["seed_booking_cancelled.json"] = new(202, "accepted", "BOOKING_CANCELLED", "seedUidExternal02"),
    };

    public static TheoryData<string> CalcomExamples => [.. Examples.CalcomNames];

    public static TheoryData<string> SeedExamples => [.. Examples.SeedNames];

    public async Task InitializeAsync()
    {
        _app = TestApp.Create(azurite.ConnectionString);
        await _queue.ClearAsync();
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Theory]
    [MemberData(nameof(CalcomExamples))]
    public async Task Every_Cal_com_example_gets_its_documented_answer_and_queued_ones_carry_the_exact_bytes(string name)
    {
        Assert.True(ExpectedAnswers.TryGetValue(name, out var expected), $"no expected answer written down for the new example {name}");
        await AssertDeliveredAsync(Examples.Calcom(name), expected, name);
    }

    [Theory]
    [MemberData(nameof(SeedExamples))]
    public async Task Every_seed_shaped_example_gets_its_documented_answer_and_queued_ones_carry_the_exact_bytes(string name)
    {
        Assert.True(ExpectedSeedAnswers.TryGetValue(name, out var expected), $"no expected answer written down for the new seed example {name}");
        await AssertDeliveredAsync(Examples.Seed(name), expected, name);
    }

    [Fact]
    public void Both_example_folders_are_found_and_complete()
    {
        Assert.Equal(ExpectedAnswers.Keys.Order(StringComparer.Ordinal), Examples.CalcomNames);
        Assert.Equal(ExpectedSeedAnswers.Keys.Order(StringComparer.Ordinal), Examples.SeedNames);
    }

    [Fact]
    public async Task Ping_answers_200_ok_with_the_delivery_id_and_queues_nothing()
    {
        var body = Examples.Calcom("ping.compact.txt");
        var response = await WebhookCall.PostSignedAsync(_app, body);

        Assert.Equal(200, response.StatusCode);
        Assert.Equal("ok", response.Status);
        Assert.Equal("PING", response.Json.GetProperty("trigger_event").GetString());
        Assert.Equal(Sha256Hex(body), response.Json.GetProperty("delivery_id").GetString());
        Assert.False(response.Json.TryGetProperty("uid", out _));
        Assert.StartsWith("application/json", response.ContentType, StringComparison.Ordinal);
        Assert.Empty(await _queue.PeekAllAsync());
    }

    [Fact]
    public async Task An_identical_resend_gets_the_same_delivery_id_as_the_first()
    {
        var body = Examples.Calcom("booking_created_web.json");
        var first = await WebhookCall.PostSignedAsync(_app, body);
        var second = await WebhookCall.PostSignedAsync(_app, body);

        Assert.Equal(202, first.StatusCode);
        Assert.Equal(202, second.StatusCode);
        var id = first.Json.GetProperty("delivery_id").GetString();
        Assert.Equal(Sha256Hex(body), id);
        Assert.Equal(id, second.Json.GetProperty("delivery_id").GetString());
        var envelopes = await _queue.EnvelopesAsync();
        Assert.NotEmpty(envelopes);
        Assert.All(envelopes, e => Assert.Equal(id, e.DeliveryId));
    }

    [Fact]
    public async Task The_same_event_sent_by_two_registrations_gets_two_delivery_ids()
    {
        // Cal.com's createdAt differs per subscriber, so the bodies differ and so do the ids.
        var first = Examples.Calcom("booking_created_web.json");
        var second = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(first).Replace("2026-01-20T10:21:07.884Z", "2026-01-20T10:21:07.901Z", StringComparison.Ordinal));
        var a = await WebhookCall.PostSignedAsync(_app, first);
        var b = await WebhookCall.PostSignedAsync(_app, second);

        Assert.NotEqual(a.Json.GetProperty("delivery_id").GetString(), b.Json.GetProperty("delivery_id").GetString());
        Assert.Equal(a.Json.GetProperty("uid").GetString(), b.Json.GetProperty("uid").GetString());
    }

    [Fact]
    public async Task A_delivery_signed_with_the_second_secret_is_accepted()
    {
        var body = Examples.Calcom("booking_requested.json");
        var response = await WebhookCall.PostAsync(_app, new MemoryStream(body), body.Length,
            new() { [WebhookSignature.HeaderName] = WebhookCall.Sign(body, TestApp.SecondSecret) });

        Assert.Equal(202, response.StatusCode);
        Assert.Single(await _queue.PeekAllAsync());
    }

    [Theory]
    [InlineData("X-Cal-Signature-256")]
    [InlineData("x-cal-signature-256")]
    [InlineData("X-CAL-SIGNATURE-256")]
    public async Task The_signature_header_name_is_case_insensitive(string headerName)
    {
        var body = Examples.Calcom("booking_cancelled.json");
        var response = await WebhookCall.PostAsync(_app, new MemoryStream(body), body.Length, new() { [headerName] = WebhookCall.Sign(body) });

        Assert.Equal(202, response.StatusCode);
    }

    [Fact]
    public async Task The_seeds_sha256_prefixed_signature_is_accepted_over_HTTP()
    {
        var body = Examples.Seed("seed_booking_created.json");
        var response = await WebhookCall.PostAsync(_app, new MemoryStream(body), body.Length,
            new() { [WebhookSignature.HeaderName] = "sha256=" + WebhookCall.Sign(body) });

        Assert.Equal(202, response.StatusCode);
    }

    [Fact]
    public async Task A_delivery_without_Content_Length_is_read_to_the_end_and_accepted()
    {
        var body = Examples.Calcom("booking_rescheduled.json");
        var response = await WebhookCall.PostAsync(_app, new MemoryStream(body), contentLength: null,
            new() { [WebhookSignature.HeaderName] = WebhookCall.Sign(body) });

        Assert.Equal(202, response.StatusCode);
        Assert.Equal(body, await _app.Get<WebhookQueue>().ReadBodyAsync(await _queue.SingleEnvelopeAsync(), CancellationToken.None));
    }

    [Fact]
    public async Task A_body_over_48_KiB_goes_through_the_claim_check_and_comes_back_byte_identical()
    {
        var body = LargeBody();
        Assert.True(body.Length > WebhookQueue.MaxMessageBytes, $"the test body has only {body.Length} bytes");

        var response = await WebhookCall.PostSignedAsync(_app, body);

        Assert.Equal(202, response.StatusCode);
        Assert.Equal("k3VbP9qWm2xYc7RtL5nD8a", response.Json.GetProperty("uid").GetString());
        var raw = Assert.Single(await _queue.PeekAllAsync());
        Assert.True(raw.Length <= WebhookQueue.MaxMessageBytes, $"the queue message has {raw.Length} bytes");
        var envelope = WebhookEnvelope.Parse(raw);
        Assert.Null(envelope.Body);
        Assert.NotNull(envelope.BodyBlob);
        Assert.Equal(Sha256Hex(body), envelope.DeliveryId);
        Assert.Equal(body.Length, envelope.BodyLength);

        var blob = _queue.Bodies.GetBlobClient(envelope.BodyBlob);
        Assert.True((await blob.ExistsAsync()).Value, $"blob {envelope.BodyBlob} is not in {_queue.Bodies.Name}");
        Assert.Equal(body, (await blob.DownloadContentAsync()).Value.Content.ToArray());
        Assert.Equal(body, await _app.Get<WebhookQueue>().ReadBodyAsync(envelope, CancellationToken.None));
    }

    [Fact]
    public async Task A_large_body_sent_twice_is_queued_once_with_its_claim_check_blob()
    {
        var body = LargeBody();
        Assert.Equal(202, (await WebhookCall.PostSignedAsync(_app, body)).StatusCode);
        Assert.Equal(202, (await WebhookCall.PostSignedAsync(_app, body)).StatusCode);

        // The second is a re-send this instance remembers, answered from memory (ReplayTests).
        var envelope = Assert.Single(await _queue.EnvelopesAsync());
        Assert.Equal(WebhookEnvelope.BodyBlobName(envelope.DeliveryId), envelope.BodyBlob);
        Assert.Equal(body, await _app.Get<WebhookQueue>().ReadBodyAsync(envelope, CancellationToken.None));
    }

    [Fact]
    public async Task Flat_and_enveloped_MEETING_ENDED_are_both_accepted_for_the_same_uid()
    {
        var flat = await WebhookCall.PostSignedAsync(_app, Examples.Calcom("meeting_ended.json"));
        var enveloped = await WebhookCall.PostSignedAsync(_app, TestBodies.Read("meeting_ended_enveloped.json"));

        Assert.Equal(202, flat.StatusCode);
        Assert.Equal(202, enveloped.StatusCode);
        Assert.Equal("k3VbP9qWm2xYc7RtL5nD8a", flat.Json.GetProperty("uid").GetString());
        Assert.Equal("k3VbP9qWm2xYc7RtL5nD8a", enveloped.Json.GetProperty("uid").GetString());
        Assert.Equal(["MEETING_ENDED", "MEETING_ENDED"], (await _queue.EnvelopesAsync()).Select(e => e.TriggerEvent));
    }

    private async Task AssertDeliveredAsync(byte[] body, Expected expected, string name)
    {
        var response = await WebhookCall.PostSignedAsync(_app, body);

        Assert.True(expected.StatusCode == response.StatusCode, $"expected {expected.StatusCode}, got {response}");
        Assert.Equal(expected.Status, response.Status);
        Assert.Equal(expected.Trigger, response.Json.GetProperty("trigger_event").GetString());
        Assert.Equal(Sha256Hex(body), response.Json.GetProperty("delivery_id").GetString());
        Assert.False(response.Json.TryGetProperty("error", out _));

        var queued = await _queue.PeekAllAsync();
        if (expected.Uid is null)
        {
            Assert.False(response.Json.TryGetProperty("uid", out _));
            Assert.Empty(queued);
            return;
        }

        Assert.Equal(expected.Uid, response.Json.GetProperty("uid").GetString());
        var envelope = WebhookEnvelope.Parse(Assert.Single(queued));
        Assert.Equal(WebhookEnvelope.CurrentVersion, envelope.Version);
        Assert.Equal(Sha256Hex(body), envelope.DeliveryId);
        Assert.Equal(expected.Trigger, envelope.TriggerEvent);
        Assert.Equal(expected.Uid, envelope.Uid);
        Assert.Equal(expected.RescheduleUid, envelope.RescheduleUid);
        // Exactly the bytes received, except a 2026-07-27 body's iCalendar files (removed at intake, nothing else changed).
        var queuedBody = AskPro.Functions.Calcom.CalendarContent.Remove(body);
        Assert.Equal(name.Contains("v2026", StringComparison.Ordinal), !ReferenceEquals(queuedBody, body));
        Assert.Equal(queuedBody.Length, envelope.BodyLength);
        Assert.Null(envelope.BodyBlob);
        Assert.Equal(queuedBody, Encoding.UTF8.GetBytes(envelope.Body!));
        Assert.Equal(queuedBody, await _app.Get<WebhookQueue>().ReadBodyAsync(envelope, CancellationToken.None));
        Assert.InRange(envelope.ReceivedAt, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddMinutes(1));
    }

    /// <summary>booking_created_web.json with a 60 KiB event type description (with umlauts), as Cal.com could send it.</summary>
    private static byte[] LargeBody()
    {
        var text = Encoding.UTF8.GetString(Examples.Calcom("booking_created_web.json"));
        const string original = "\"description\": \"30-minütiges Erstgespräch in der Praxis.\"";
        Assert.Contains(original, text, StringComparison.Ordinal);
        var longDescription = string.Concat(Enumerable.Repeat("Ausführliche Beschreibung der Erstberatung für Patientinnen und Patienten. ", 800));
        return Encoding.UTF8.GetBytes(text.Replace(original, $"\"description\": \"{longDescription}\"", StringComparison.Ordinal));
    }

    private static string Sha256Hex(byte[] body) => Convert.ToHexStringLower(SHA256.HashData(body));

    public sealed record Expected(int StatusCode, string Status, string Trigger, string? Uid = null, string? RescheduleUid = null);
}
