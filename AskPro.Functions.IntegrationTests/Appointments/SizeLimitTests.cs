using System.Text.Json.Nodes;
using AskPro.Functions.Appointments;
using AskPro.Functions.Calcom;
using AskPro.Functions.Tests.Infrastructure;
using Azure.Data.Tables;
using static AskPro.Functions.Tests.Appointments.ExampleBodies;

namespace AskPro.Functions.Tests.Appointments;

/// <summary>
/// Storage limits (entity 1 MiB, property 64 KiB, transaction 4 MiB) are checked before writing: what cannot be stored
/// whole degrades as docs/records.md#size-limits documents, and the event is applied, never sent to the poison queue.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class SizeLimitTests(AzuriteFixture azurite)
{
    private const string WebUid = "k3VbP9qWm2xYc7RtL5nD8a";

    private static string Noise(Random random, int length) =>
        new([.. Enumerable.Range(0, length).Select(_ => (char)random.Next(0x30, 0x7b)).Select(c => c is '\\' ? 'x' : c)]);

    [Fact]
    public async Task A_40000_character_metadata_value_is_clipped_and_the_booking_stored()
    {
        await using var h = await StoreHarness.CreateAsync(azurite.ConnectionString);
        var body = Edit(CalcomExample("booking_created_web"), p => p["metadata"] = new JsonObject
        {
            ["source"] = new string('s', 40_000),
            ["askpro_company_id"] = new string('c', 40_000),
            ["unused"] = new string('u', 40_000),
        });

        var result = await h.ApplyAsync(body);

        Assert.Equal(ApplyOutcome.Created, result!.Outcome);
        var stored = await h.RecordByUidAsync(WebUid);
        Assert.Equal(CalcomWebhookReader.MaxTextLength, stored.Record.Source.Length);
        Assert.Equal(CalcomWebhookReader.MaxTextLength, stored.Record.CompanyId!.Length);
        Assert.EndsWith("…", stored.Record.Source, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_staff_member_with_500_long_chain_ranges_keeps_a_storable_calendar_row_and_takes_the_next_booking()
    {
        await using var h = await StoreHarness.CreateAsync(azurite.ConnectionString);
        var random = new Random(500);
        var start = new DateTimeOffset(2026, 1, 1, 8, 0, 0, TimeSpan.Zero);
        var ranges = Enumerable.Range(0, AppointmentBook.MaxRangesPerStaff)
            .Select(i => new StaffRange($"apt_{i:x20}", start.AddHours(i), start.AddHours(i).AddMinutes(30),
                [.. Enumerable.Range(0, 30).Select(_ => Noise(random, 22))]))
            .ToList();
        var row = AppointmentEntities.StaffEntity("u98765", ranges, DateTimeOffset.UtcNow);
        Assert.True(row.GetBinary("Ranges1") is not null, "the calendar really needs more than one property");
        Assert.All(row.Select(kv => kv.Value).OfType<byte[]>(), b => Assert.True(b.Length <= AppointmentEntities.Chunk));
        await h.Table.UpsertEntityAsync(row);

        var result = await h.ApplyAsync(CalcomExample("booking_created_web"));

        Assert.Equal(ApplyOutcome.Created, result!.Outcome);
        var calendar = AppointmentEntities.RangesOf((await h.Table.GetEntityAsync<TableEntity>(AppointmentEntities.PartitionKey, "stf_u98765")).Value);
        Assert.Equal(AppointmentBook.MaxRangesPerStaff, calendar.Count); // the earliest-ending range made room
        Assert.Contains(calendar, r => r.AppointmentId == result.AppointmentId);
        Assert.DoesNotContain(calendar, r => r.AppointmentId == ranges[0].AppointmentId);
        Assert.Equal(ranges[^1].Uids, calendar.Single(r => r.AppointmentId == ranges[^1].AppointmentId).Uids);
    }

    [Fact]
    public void A_calendar_larger_than_its_row_budget_drops_its_earliest_ending_ranges()
    {
        var random = new Random(7);
        var start = new DateTimeOffset(2026, 1, 1, 8, 0, 0, TimeSpan.Zero);
        var ranges = Enumerable.Range(0, 500)
            .Select(i => new StaffRange($"apt_{i:x20}", start.AddHours(i), start.AddHours(i).AddMinutes(30), [.. Enumerable.Range(0, 40).Select(_ => Noise(random, 64))]))
            .ToList();

        var row = AppointmentEntities.StaffEntity("u1", ranges, DateTimeOffset.UtcNow);
        var kept = AppointmentEntities.RangesOf(row);

        Assert.True(row.Select(kv => kv.Value).OfType<byte[]>().Sum(b => b.Length) <= AppointmentEntities.MaxRangesBytes);
        Assert.InRange(kept.Count, 1, 499);
        Assert.Equal(ranges.TakeLast(kept.Count).Select(r => r.AppointmentId), kept.Select(r => r.AppointmentId));
    }

    [Fact]
    public async Task A_chain_whose_facts_exceed_one_row_keeps_the_newest_events_whole_and_is_never_poisoned()
    {
        await using var h = await StoreHarness.CreateAsync(azurite.ConnectionString);
        var random = new Random(42);
        const int Events = 80;
        string? lastTitle = null;
        for (var i = 0; i < Events; i++)
        {
            // Distinct, incompressible content for one uid, as a long-lived booking edited again and again could gather.
            var n = CalcomWebhookReader.MaxTextLength;
            var title = Noise(random, n);
            lastTitle = i % 2 == 0 ? title : lastTitle; // the record's title comes from the newest BOOKING_CREATED
            var body = Retrigger(CalcomExample("booking_created_web"), i % 2 == 0 ? "BOOKING_CREATED" : "BOOKING_LOCATION_UPDATED",
                new DateTimeOffset(2026, 1, 20, 10, 0, 0, TimeSpan.Zero).AddMinutes(i).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture), p =>
                {
                    p["title"] = title;
                    p["location"] = Noise(random, n);
                    p["cancellationReason"] = Noise(random, n);
                    p["rejectionReason"] = Noise(random, n);
                    p["reschedulingReason"] = Noise(random, n);
                    p["rescheduledBy"] = Noise(random, n);
                    p["responses"]!["notes"]!["value"] = Noise(random, n);
                    p["responses"]!["name"]!["value"] = Noise(random, n);
                    p["organizer"]!["name"] = Noise(random, n);
                    p["metadata"] = new JsonObject { ["source"] = Noise(random, n), ["askpro_company_id"] = Noise(random, n) };
                });
            Assert.NotNull(await h.ApplyAsync(body)); // throws (towards the poison queue) if the store refused it
        }

        var row = (await h.Table.GetEntityAsync<TableEntity>(AppointmentEntities.PartitionKey, AppointmentEntities.UidKey(WebUid))).Value;
        var stored = await h.RecordByUidAsync(WebUid);
        Assert.True(row.Select(kv => kv.Value).OfType<byte[]>().Sum(b => b.Length) <= AppointmentEntities.MaxFactsBytes);
        Assert.InRange(stored.Facts.Count, 2, Events - 1); // degraded: older detail dropped
        Assert.Equal(lastTitle![..100], stored.Record.Title![..100]); // the newest booking event is kept whole
        Assert.Equal(AppointmentStatus.Confirmed, stored.Record.Status);
        Assert.Contains(h.App.Logs.Lines, l => l.Contains("[3003]", StringComparison.Ordinal));
    }
}
