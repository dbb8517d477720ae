using System.Text;
using System.Text.Json.Nodes;
using AskPro.Functions.Appointments;
using AskPro.Functions.Calcom;
using AskPro.Functions.Queueing;
using AskPro.Functions.Storage;
using AskPro.Functions.Tests.Appointments;
using AskPro.Functions.Tests.Infrastructure;
using AskPro.Functions.Webhooks;
using Azure.Data.Tables;

namespace AskPro.Functions.Tests.Webhooks;

/// <summary>
/// Cal.com's delivery in 2026, end to end (signed body → HTTP function → Azurite queue → queue processor → table):
/// payload version 2026-07-27 with whole iCalendar files, the payload version in the history, retries rebuilt from a
/// changed booking with the same createdAt, and triggers that are not booking changes.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class Delivery2026Tests(AzuriteFixture azurite) : IAsyncLifetime
{
    /// <summary>Text only the iCalendar files of these tests contain.</summary>
    private static readonly string[] CalendarMarkers = ["VCALENDAR", "IcsContent", "X-ASKPRO-TEST-ROLE", "mailto:"];

    private readonly QueueProbe _queue = new(azurite.ConnectionString);

    public async Task InitializeAsync() => await _queue.ClearAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    [Theory]
    [InlineData("header", "small")]
    [InlineData("header", "calendar-large")]
    [InlineData("header", "all-large")]
    [InlineData("body", "small")]
    [InlineData("body", "all-large")]
    public async Task A_2026_07_27_body_gives_the_record_of_the_2021_10_20_body_and_no_calendar_text_is_stored_anywhere(string versionIn, string size)
    {
        var v2021 = size == "all-large" ? WithLongDescription(Examples.Calcom("booking_created_web.json")) : Examples.Calcom("booking_created_web.json");
        var v2026 = WithCalendarFiles(v2021, calendarKiB: size == "small" ? 4 : 40, versionInBody: versionIn == "body");
        Assert.True(size == "small" || v2026.Length > WebhookQueue.MaxMessageBytes, $"the {size} body has only {v2026.Length} bytes");
        await using var expected = await StoreHarness.CreateAsync(azurite.ConnectionString);
        await using var actual = await StoreHarness.CreateAsync(azurite.ConnectionString);

        await DeliverAsync(expected, v2021, "2021-10-20");
        var envelope = await DeliverAsync(actual, v2026, versionIn == "header" ? "2026-07-27" : null, deadLetterFirst: true);

        RecordAssert.AssertSameRecords(await expected.AppointmentsAsync(), await actual.AppointmentsAsync(), $"{versionIn}, {size}");
        // Without its calendar files only an all-large body still needs the claim check.
        Assert.Equal(size == "all-large", envelope.BodyBlob is not null);
        Assert.Equal("2026-07-27", envelope.PayloadVersion);
        Assert.Equal(WebhookQueue.DeliveryIdOf(v2026), envelope.DeliveryId);
        await AssertNoCalendarTextAsync(actual);
        Assert.Equal("2026-07-27", (await HistoryAsync(actual, "k3VbP9qWm2xYc7RtL5nD8a")).Last().PayloadVersion);
        Assert.Equal("2021-10-20", (await HistoryAsync(expected, "k3VbP9qWm2xYc7RtL5nD8a")).Last().PayloadVersion);
    }

    [Fact]
    public async Task A_delivery_that_names_no_payload_version_has_none_in_its_history()
    {
        await using var h = await StoreHarness.CreateAsync(azurite.ConnectionString);

        var envelope = await DeliverAsync(h, Examples.Calcom("booking_created_web.json"), version: null);

        Assert.Null(envelope.PayloadVersion);
        Assert.Null(envelope.BodySha256);
        var entry = Assert.Single(await HistoryAsync(h, "k3VbP9qWm2xYc7RtL5nD8a"));
        Assert.Null(entry.PayloadVersion);
        Assert.DoesNotContain("\"ver\"", (await h.Table.GetEntityAsync<TableEntity>(AppointmentEntities.PartitionKey, AppointmentEntities.UidKey("k3VbP9qWm2xYc7RtL5nD8a"))).Value.GetString(AppointmentHistory.PropertyName), StringComparison.Ordinal);
    }

    /// <summary>
    /// Cal.com builds a body when it sends it: a retry after the booking changed has the same trigger, uid and createdAt
    /// but other content. Every order of the first try, the rebuilt retry and a later in-place change gives one record.
    /// </summary>
    [Fact]
    public async Task A_retry_rebuilt_after_the_booking_changed_converges_to_one_record_in_every_order()
    {
        var first = Examples.Calcom("booking_created_web.json");
        var rebuilt = Rebuilt(first);
        var locationUpdate = EditPayload(first, "BOOKING_LOCATION_UPDATED", "2026-01-21T08:00:00.000Z", p =>
        {
            p["location"] = "integrations:daily";
            p["previousLocation"] = "Hauptstraße 12, 10115 Berlin";
        });
        var bodies = new Dictionary<string, byte[]> { ["first"] = first, ["rebuilt"] = rebuilt, ["location"] = locationUpdate };
        Dictionary<string, StoredAppointment>? reference = null;
        foreach (var order in Permutations(["first", "rebuilt", "location"]))
        {
            await using var h = await StoreHarness.CreateAsync(azurite.ConnectionString);
            foreach (var name in order)
            {
                await h.ApplyAsync(bodies[name]);
            }

            var records = await h.AppointmentsAsync();
            var stored = Assert.Single(records).Value;
            // The later change wins over both bodies of the earlier event; both bodies are kept as facts.
            Assert.Equal("integrations:daily", stored.Record.Location);
            Assert.Equal(3, stored.Facts.Count);
            if (reference is null)
            {
                reference = records;
            }
            else
            {
                RecordAssert.AssertSameRecords(reference, records, string.Join(" → ", order));
            }
        }
    }

    [Fact]
    public async Task Two_bodies_of_one_event_with_the_same_createdAt_and_other_content_give_the_same_record_in_either_order()
    {
        var first = Examples.Calcom("booking_created_web.json");
        var rebuilt = Rebuilt(first);
        await using var forward = await StoreHarness.CreateAsync(azurite.ConnectionString);
        await using var backward = await StoreHarness.CreateAsync(azurite.ConnectionString);

        await forward.ApplyAsync(first);
        await forward.ApplyAsync(rebuilt);
        await backward.ApplyAsync(rebuilt);
        await backward.ApplyAsync(first);

        RecordAssert.AssertSameRecords(await forward.AppointmentsAsync(), await backward.AppointmentsAsync(), "first → rebuilt vs rebuilt → first");
        var facts = (await forward.RecordByUidAsync("k3VbP9qWm2xYc7RtL5nD8a")).Facts;
        Assert.Equal(2, facts.Count);
    }

    public static TheoryData<string> NotAppliedTriggers => [.. CalcomTriggers.KnownNotApplied, "SOMETHING_CAL_COM_ADDS_IN_2027"];

    [Theory]
    [MemberData(nameof(NotAppliedTriggers))]
    public async Task A_trigger_that_is_not_a_booking_change_gets_200_and_never_reaches_a_record(string trigger)
    {
        await using var h = await StoreHarness.CreateAsync(azurite.ConnectionString);
        var uid = "k3VbP9qWm2xYc7RtL5nD8a";
        await DeliverAsync(h, Examples.Calcom("booking_created_web.json"), version: null);
        var before = (await h.Table.GetEntityAsync<TableEntity>(AppointmentEntities.PartitionKey, AppointmentEntities.UidKey(uid))).Value.ETag;
        // The booking's own payload under the new trigger (an instant meeting or a recording names the booking too),
        // and a body whose payload is not even an object.
        var sameBooking = EditPayload(Examples.Calcom("booking_created_web.json"), trigger, "2026-01-22T08:00:00.000Z", p => p["status"] = "CANCELLED");
        var odd = Encoding.UTF8.GetBytes($$$"""{"triggerEvent":"{{{trigger}}}","createdAt":1767225600000,"payload":["x"]}""");

        foreach (var body in new[] { sameBooking, odd })
        {
            var response = await WebhookCall.PostSignedAsync(h.App, body);

            Assert.True(response.StatusCode == 200, $"{trigger}: {response}");
            Assert.Equal("ignored", response.Status);
            Assert.Equal(trigger, response.Json.GetProperty("trigger_event").GetString());
        }

        Assert.Empty(await _queue.PeekAllAsync());
        Assert.Equal(before, (await h.Table.GetEntityAsync<TableEntity>(AppointmentEntities.PartitionKey, AppointmentEntities.UidKey(uid))).Value.ETag);
    }

    /// <summary>
    /// Posts a signed body (with the version header when given), then hands every queued message to the queue
    /// processor as the host would; with <paramref name="deadLetterFirst"/> the message is also dead-lettered first,
    /// as the processor does with one it cannot apply, so the dead letter can be searched too.
    /// </summary>
    private async Task<WebhookEnvelope> DeliverAsync(StoreHarness h, byte[] body, string? version, bool deadLetterFirst = false)
    {
        await _queue.ClearAsync();
        var headers = new Dictionary<string, string> { [WebhookSignature.HeaderName] = WebhookCall.Sign(body) };
        if (version is not null)
        {
            headers[PayloadVersion.HeaderName] = version;
        }

        var response = await WebhookCall.PostAsync(h.App, new MemoryStream(body), body.Length, headers);
        Assert.True(response.StatusCode == 202, response.ToString());
        Assert.Equal(WebhookQueue.DeliveryIdOf(body), response.Json.GetProperty("delivery_id").GetString());
        var message = Assert.Single(await _queue.PeekAllAsync());
        var envelope = WebhookEnvelope.Parse(message);
        if (deadLetterFirst)
        {
            await h.App.Get<StorageClients>().DeadLetterQueue.CreateIfNotExistsAsync();
            await h.App.Get<StorageClients>().DeadLetterQueue.ClearMessagesAsync();
            await h.App.Get<WebhookQueue>().DeadLetterAsync(message, "dl-" + envelope.DeliveryId[..12], 5, envelope, "dead-lettered by the test", DateTimeOffset.UtcNow, CancellationToken.None);
        }

        var result = await h.Processor.ProcessAsync(new BinaryData(message), "m-" + Guid.NewGuid().ToString("N"), 1, CancellationToken.None);
        Assert.NotNull(result);
        await _queue.ClearAsync();
        return envelope;
    }

    /// <summary>Every row of the harness's table (strings, and binary columns decompressed), every claim-check and dead-letter blob, every dead letter.</summary>
    private static async Task AssertNoCalendarTextAsync(StoreHarness h)
    {
        var storage = h.App.Get<StorageClients>();
        var found = new List<string>();
        void Check(string where, string text) => found.AddRange(CalendarMarkers.Where(m => text.Contains(m, StringComparison.Ordinal)).Select(m => $"'{m}' in {where}"));

        var rows = 0;
        await foreach (var row in h.Table.QueryAsync<TableEntity>())
        {
            rows++;
            foreach (var (name, value) in row)
            {
                var text = value switch
                {
                    string s => s,
                    byte[] bytes => Decompressed(bytes),
                    _ => "",
                };
                Check($"{row.RowKey}.{name}", text);
            }
        }

        Assert.True(rows > 0, "the table has no rows to search");
        foreach (var container in new[] { storage.BodyContainer, storage.DeadLetterContainer })
        {
            await foreach (var blob in container.GetBlobsAsync())
            {
                Check($"{container.Name}/{blob.Name}", Encoding.UTF8.GetString((await container.GetBlobClient(blob.Name).DownloadContentAsync()).Value.Content.ToArray()));
            }
        }

        var letters = (await storage.DeadLetterQueue.PeekMessagesAsync(32)).Value;
        Assert.NotEmpty(letters);
        foreach (var letter in letters)
        {
            Check("dead letter " + letter.MessageId, letter.Body.ToString());
        }

        Assert.True(found.Count == 0, string.Join("\n", found));
    }

    private static string Decompressed(byte[] bytes)
    {
        try
        {
            using var stream = Brotli.Decompress(bytes);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            return reader.ReadToEnd();
        }
        catch (Exception ex) when (ex is InvalidOperationException or InvalidDataException or IOException)
        {
            // Not compressed: searched as it is.
            return Encoding.UTF8.GetString(bytes);
        }
    }

    private static async Task<IReadOnlyList<HistoryEntry>> HistoryAsync(StoreHarness h, string uid) =>
        AppointmentHistory.Read((await h.Table.GetEntityAsync<TableEntity>(AppointmentEntities.PartitionKey, AppointmentEntities.UidKey(uid))).Value);

    /// <summary>The body with Cal.com's two iCalendar files added to its payload (and, optionally, a version field at the top).</summary>
    private static byte[] WithCalendarFiles(byte[] body, int calendarKiB, bool versionInBody)
    {
        var text = Encoding.UTF8.GetString(body);
        const string anchor = "    \"metadata\": {},\n";
        Assert.Contains(anchor, text, StringComparison.Ordinal);
        var members = $"    \"attendeeIcsContent\": {Calendar("REQUEST", calendarKiB)},\n    \"organizerIcsContent\": {Calendar("PUBLISH", calendarKiB)},\n";
        text = text.Replace(anchor, anchor + members, StringComparison.Ordinal);
        if (versionInBody)
        {
            text = "{\n  \"webhookVersion\": \"2026-07-27\"," + text[1..];
        }

        return Encoding.UTF8.GetBytes(text);
    }

    private static string Calendar(string method, int kib)
    {
        var description = new StringBuilder();
        while (description.Length < kib * 1024)
        {
            description.Append("Erstberatung bei Dr. Anna Schmidt für Max Mustermann\\, Rückruf unter +4915112345678.\\n");
        }

        var ics = string.Join("\r\n",
            "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Cal.com Inc.//Cal.com Event//DE", $"METHOD:{method}", "BEGIN:VEVENT",
            "UID:k3VbP9qWm2xYc7RtL5nD8a@Cal.com", "DTSTAMP:20260120T102107Z", "DTSTART:20260127T090000Z", "DTEND:20260127T093000Z",
            "DESCRIPTION:" + description, "ORGANIZER;CN=Dr. Anna Schmidt:mailto:anna.schmidt@praxis-example.de",
            "ATTENDEE;CN=Max Mustermann;PARTSTAT=ACCEPTED:mailto:max.mustermann@example.com", $"X-ASKPRO-TEST-ROLE:{method}",
            "END:VEVENT", "END:VCALENDAR", "");
        return System.Text.Json.JsonSerializer.Serialize(ics);
    }

    private static byte[] WithLongDescription(byte[] body)
    {
        var text = Encoding.UTF8.GetString(body);
        const string original = "\"description\": \"30-minütiges Erstgespräch in der Praxis.\"";
        Assert.Contains(original, text, StringComparison.Ordinal);
        var longDescription = string.Concat(Enumerable.Repeat("Ausführliche Beschreibung der Erstberatung für Patientinnen und Patienten. ", 800));
        return Encoding.UTF8.GetBytes(text.Replace(original, $"\"description\": \"{longDescription}\"", StringComparison.Ordinal));
    }

    /// <summary>The same BOOKING_CREATED (trigger, uid, createdAt) built again after the booking changed in place.</summary>
    private static byte[] Rebuilt(byte[] first) => EditPayload(first, null, null, p =>
    {
        p["title"] = "Erstberatung zwischen Dr. Jonas Weber und Max Mustermann";
        p["location"] = "Praxis Nord, Ringstraße 3, 10117 Berlin";
        p["responses"]!["location"]!["value"]!["value"] = "Praxis Nord, Ringstraße 3, 10117 Berlin";
        p["responses"]!["notes"]!["value"] = "Bitte den Seiteneingang nehmen.";
        p["organizer"]!["id"] = 98766;
        p["organizer"]!["name"] = "Dr. Jonas Weber";
        p["organizer"]!["email"] = "jonas.weber@praxis-example.de";
        p["endTime"] = "2026-01-27T09:45:00Z";
    });

    private static byte[] EditPayload(byte[] body, string? trigger, string? createdAt, Action<JsonObject> edit)
    {
        var node = JsonNode.Parse(body)!.AsObject();
        if (trigger is not null)
        {
            node["triggerEvent"] = trigger;
        }

        if (createdAt is not null)
        {
            node["createdAt"] = createdAt;
        }

        edit(node["payload"]!.AsObject());
        return Encoding.UTF8.GetBytes(node.ToJsonString());
    }

    private static IEnumerable<string[]> Permutations(string[] items) =>
        items.Length <= 1 ? [items] : items.SelectMany((x, i) => Permutations([.. items.Take(i), .. items.Skip(i + 1)]).Select(rest => (string[])[x, .. rest]));
}
