using AskPro.Functions.Appointments;
using AskPro.Functions.Queueing;
using AskPro.Functions.Tests.Infrastructure;
using Xunit.Abstractions;
using static AskPro.Functions.Tests.Appointments.RecordAssert;
using static AskPro.Functions.Tests.Infrastructure.BodyRewrite;

namespace AskPro.Functions.Tests.Appointments;

/// <summary>The Cal.com and seed example stories applied through the queue processor to Table Storage on Azurite.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class AppointmentStoreTests(AzuriteFixture azurite, ITestOutputHelper output)
{
    private static readonly string[] ApiStory = ["booking_created_api_metadata.json", "booking_rescheduled.json", "booking_cancelled.json"];
    private static readonly string[] WebStory = ["booking_created_web.json", "meeting_ended.json", "booking_no_show_updated.json"];
    private static readonly string[] RequestStory = ["booking_requested.json", "booking_rejected.json"];

    [Fact]
    public async Task Api_booking_rescheduled_then_cancelled_stays_one_appointment_with_the_newest_uid()
    {
        await using var h = await StoreHarness.CreateAsync(azurite.ConnectionString);
        var created = await h.ApplyAsync(Examples.Calcom(ApiStory[0]));
        var rescheduled = await h.ApplyAsync(Examples.Calcom(ApiStory[1]));
        var cancelled = await h.ApplyAsync(Examples.Calcom(ApiStory[2]));

        Assert.Equal(ApplyOutcome.Skipped, created!.Outcome); // AskPro made it: no second appointment
        Assert.Equal(ApplyOutcome.Updated, rescheduled!.Outcome);
        Assert.Equal(created.AppointmentId, rescheduled.AppointmentId);
        Assert.Equal(created.AppointmentId, cancelled!.AppointmentId);

        var records = await h.AppointmentsAsync();
        var a = Assert.Single(records.Values).Record;
        Assert.Equal("Tz8cYw3RbN6kLq1PmV5xHd", a.CalcomUid);
        Assert.Equal(["Qm7ZtXo4Lp2WcN9vR1sK6e", "Tz8cYw3RbN6kLq1PmV5xHd"], a.CalcomUids);
        Assert.Equal(AppointmentStatus.Cancelled, a.Status);
        Assert.Equal("Termin passt leider nicht mehr.", a.CancellationReason);
        Assert.Equal("erika.musterfrau@example.org", a.CancelledBy);
        Assert.False(a.RescheduleRequested);
        Assert.Equal(DateTimeOffset.Parse("2026-01-30T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture), a.StartTime);
        Assert.Equal(DateTimeOffset.Parse("2026-01-28T14:00:00Z", System.Globalization.CultureInfo.InvariantCulture), a.PreviousStartTime);
        Assert.Equal("apt_7f3c2a91", a.AskProAppointmentId);
        Assert.Equal("erika.musterfrau@example.org", a.RescheduledBy);
        Assert.Equal(4568377, a.CalcomBookingId);
        Assert.Equal("Europe/Berlin", a.TimeZone);
        Assert.Equal("+4917098765432", a.CustomerPhone);
        Assert.Equal("Dr. Anna Schmidt", a.StaffName);

        // Either uid finds the record with one point read.
        Assert.Equal(a.AppointmentId, (await h.RecordByUidAsync("Qm7ZtXo4Lp2WcN9vR1sK6e")).Record.AppointmentId);
        Assert.Equal(a.AppointmentId, (await h.RecordByUidAsync("Tz8cYw3RbN6kLq1PmV5xHd")).Record.AppointmentId);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public async Task Every_example_story_converges_to_the_in_order_records_in_every_order_with_duplicates(int story)
    {
        var files = new[] { ApiStory, WebStory, RequestStory }[story];
        await using var inOrder = await StoreHarness.CreateAsync(azurite.ConnectionString);
        foreach (var f in files)
        {
            await inOrder.ApplyAsync(Examples.Calcom(f));
        }

        var expected = await inOrder.AppointmentsAsync();
        foreach (var permutation in Permutations(files))
        {
            await using var other = await StoreHarness.CreateAsync(azurite.ConnectionString);
            foreach (var f in permutation.Concat(permutation.Take(1)))
            {
                await other.ApplyAsync(Examples.Calcom(f));
            }

            var actual = await other.AppointmentsAsync();
            AssertSameRecords(expected, actual, string.Join(" → ", permutation));
        }
    }

    [Fact]
    public async Task Web_booking_records_customer_meeting_end_and_no_show_without_changing_status()
    {
        await using var h = await StoreHarness.CreateAsync(azurite.ConnectionString);
        Assert.Equal(ApplyOutcome.Created, (await h.ApplyAsync(Examples.Calcom(WebStory[0])))!.Outcome);
        await h.ApplyAsync(Examples.Calcom(WebStory[1]));
        await h.ApplyAsync(Examples.Calcom(WebStory[2]));

        var a = (await h.RecordByUidAsync("k3VbP9qWm2xYc7RtL5nD8a")).Record;
        Assert.Equal(AppointmentStatus.Confirmed, a.Status);
        Assert.True(a.MeetingEnded);
        Assert.True(a.CustomerNoShow);
        Assert.Equal("Max Mustermann", a.CustomerName);
        Assert.Equal("max.mustermann@example.com", a.CustomerEmail);
        Assert.Equal("+4915112345678", a.CustomerPhone);
        Assert.Equal("Hauptstraße 12, 10115 Berlin", a.Location);
        Assert.Equal("Bitte Rückruf vorab, falls sich etwas ändert.", a.Notes);
        Assert.Equal(AppointmentProjection.DirectSource, a.Source);
        Assert.Null(a.AskProAppointmentId);
        Assert.Equal(1234567, a.EventTypeId);
    }

    [Fact]
    public async Task Requested_then_rejected_ends_rejected_with_the_reason_in_either_order()
    {
        foreach (var order in new[] { RequestStory, RequestStory.Reverse().ToArray() })
        {
            await using var h = await StoreHarness.CreateAsync(azurite.ConnectionString);
            foreach (var f in order)
            {
                await h.ApplyAsync(Examples.Calcom(f));
            }

            var a = (await h.RecordByUidAsync("Hb2NwQ8kZr5TyL1mXc4Vp9")).Record;
            Assert.Equal(AppointmentStatus.Rejected, a.Status);
            Assert.Equal("Zu diesem Termin leider keine Kapazität.", a.RejectionReason);
            Assert.Equal("apt_91d0be44", a.AskProAppointmentId);
            Assert.Equal("Europe/Vienna", a.TimeZone);
        }
    }

    [Fact]
    public async Task Seed_shapes_reschedule_with_uid_as_the_existing_booking_and_confirm_a_request()
    {
        await using var h = await StoreHarness.CreateAsync(azurite.ConnectionString);
        var internalCreate = await h.ApplyAsync(Examples.Seed("seed_booking_created.json"));
        Assert.Equal(ApplyOutcome.Skipped, internalCreate!.Outcome);
        Assert.Equal("789", (await h.RecordByUidAsync("seedUidCreated001")).Record.AskProAppointmentId);
        Assert.Equal("askpro_phone", (await h.RecordByUidAsync("seedUidCreated001")).Record.Source);

        var created = await h.ApplyAsync(Examples.Seed("seed_booking_created_external.json"));
        await h.ApplyAsync(Examples.Seed("seed_booking_rescheduled.json"));
        var moved = (await h.RecordByUidAsync("seedUidExternal01")).Record;
        Assert.Equal(created!.AppointmentId, moved.AppointmentId);
        Assert.Equal("seedUidExternal02", moved.CalcomUid);
        Assert.Equal(DateTimeOffset.Parse("2026-02-13T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture), moved.StartTime);
        Assert.Equal(DateTimeOffset.Parse("2026-02-11T09:00:00Z", System.Globalization.CultureInfo.InvariantCulture), moved.PreviousStartTime);
        Assert.Equal("+4917033344455", moved.CustomerPhone);
        Assert.Equal("Erstes Mal in der Praxis", moved.Notes);

        await h.ApplyAsync(Examples.Seed("seed_booking_cancelled.json"));
        Assert.Equal(AppointmentStatus.Cancelled, (await h.RecordByUidAsync("seedUidExternal01")).Record.Status);

        // The confirmation overtakes its request: confirmed at once, and the late request neither downgrades nor duplicates it.
        await h.ApplyAsync(Examples.Seed("seed_booking_confirmed.json"));
        var early = (await h.RecordByUidAsync("seedUidRequest001")).Record;
        Assert.Equal(AppointmentStatus.Confirmed, early.Status);
        Assert.Null(early.StartTime);
        await h.ApplyAsync(Examples.Seed("seed_booking_requested.json"));
        var confirmed = (await h.RecordByUidAsync("seedUidRequest001")).Record;
        Assert.Equal(AppointmentStatus.Confirmed, confirmed.Status);
        Assert.Equal(early.AppointmentId, confirmed.AppointmentId);
        Assert.Equal(DateTimeOffset.Parse("2026-02-12T13:00:00Z", System.Globalization.CultureInfo.InvariantCulture), confirmed.StartTime);
        Assert.Equal(DateTimeOffset.Parse("2026-02-03T07:29:58Z", System.Globalization.CultureInfo.InvariantCulture), confirmed.ConfirmedAt);
        Assert.Equal(3, (await h.AppointmentsAsync()).Count);
    }

    [Fact]
    public async Task A_chain_whose_original_flips_back_reuses_its_merged_id_instead_of_failing_forever()
    {
        // Seed-style reschedule first (read the Cal.com way: 02 is the original), then a create for 01 (now 01 is the
        // original: the record moves to 01's id and 02's id becomes a merged redirect), then a create for 02 (both
        // have their own booking event: Cal.com's reading again, back to 02's id, where the redirect row stands).
        var created02 = Rewrite(Examples.Seed("seed_booking_created_external.json"), ("seedUidExternal01", "seedUidExternal02"));
        string[] order = ["seed_booking_rescheduled.json", "seed_booking_created_external.json", "created02"];
        byte[] Body(string name) => name == "created02" ? created02 : Examples.Seed(name);

        await using var shuffled = await StoreHarness.CreateAsync(azurite.ConnectionString);
        foreach (var name in order)
        {
            await shuffled.ApplyAsync(Body(name));
        }

        await using var inOrder = await StoreHarness.CreateAsync(azurite.ConnectionString);
        foreach (var name in new[] { order[1], order[0], order[2] })
        {
            await inOrder.ApplyAsync(Body(name));
        }

        var records = await shuffled.AppointmentsAsync();
        Assert.Single(records);
        AssertSameRecords(await inOrder.AppointmentsAsync(), records, "flip back");
    }

    [Fact]
    public async Task An_event_set_larger_than_one_table_property_is_split_across_properties_and_read_back_whole()
    {
        await using var h = await StoreHarness.CreateAsync(azurite.ConnectionString);
        var random = new Random(42);
        string Noise() => new(Enumerable.Range(0, CalcomWebhookReaderMax).Select(_ => (char)random.Next(0x21, 0x7e)).Where(c => c != '"' && c != '\\').ToArray());
        var example = System.Text.Json.Nodes.JsonNode.Parse(Examples.Calcom("booking_created_web.json"))!;
        for (var i = 0; i < 25; i++)
        {
            // Distinct content for one uid (incompressible notes and titles), as a long-lived booking could gather.
            example["payload"]!["title"] = Noise();
            example["payload"]!["responses"]!["notes"]!["value"] = Noise();
            example["payload"]!["location"] = Noise();
            await h.ApplyAsync(System.Text.Encoding.UTF8.GetBytes(example.ToJsonString()));
        }

        var row = (await h.Table.GetEntityAsync<Azure.Data.Tables.TableEntity>(AppointmentEntities.PartitionKey, AppointmentEntities.UidKey("k3VbP9qWm2xYc7RtL5nD8a"))).Value;
        Assert.NotNull(row.GetBinary("Facts1")); // really more than one property's 64 KiB
        var stored = await h.RecordByUidAsync("k3VbP9qWm2xYc7RtL5nD8a");
        Assert.Equal(25, stored.Facts.Count);
        Assert.Equal(25, row.GetInt32("EventCount"));
    }

    private const int CalcomWebhookReaderMax = AskPro.Functions.Calcom.CalcomWebhookReader.MaxTextLength;

    [Fact]
    public async Task Same_delivery_twice_writes_nothing_and_a_second_registration_only_notes_the_duplicate_in_the_history()
    {
        await using var h = await StoreHarness.CreateAsync(azurite.ConnectionString);
        var body = Examples.Calcom("booking_created_web.json");
        await h.ApplyAsync(body);
        var before = await h.AppointmentsAsync();

        h.Counter.Reset();
        var again = await h.ApplyAsync(body);
        Assert.Equal(ApplyOutcome.Unchanged, again!.Outcome);
        Assert.DoesNotContain(h.Counter.Requests, r => r.Contains("POST", StringComparison.Ordinal) || r.Contains("PUT", StringComparison.Ordinal) || r.Contains("MERGE", StringComparison.Ordinal));

        var resent = DeliveryShuffler.WithCreatedAt(body, DateTimeOffset.Parse("2026-01-20T10:21:08.123Z", System.Globalization.CultureInfo.InvariantCulture));
        Assert.NotEqual(body, resent);
        h.Counter.Reset();
        var otherRegistration = await h.ApplyAsync(resent);
        Assert.Equal(ApplyOutcome.Unchanged, otherRegistration!.Outcome);
        // One read, one transaction that merges only the History column: "what happened" shows the second delivery.
        Assert.Equal(2, h.Counter.Requests.Count);
        AssertSameRecords(before, await h.AppointmentsAsync(), "after duplicates");
        var (_, history) = Assert.Single(await h.Store.LookupByUidAsync("k3VbP9qWm2xYc7RtL5nD8a", CancellationToken.None));
        Assert.Equal([HistoryOutcome.Applied, HistoryOutcome.Duplicate], history.Select(e => e.Outcome));
        Assert.Equal([WebhookQueue.DeliveryIdOf(body), WebhookQueue.DeliveryIdOf(resent)], history.Select(e => e.SourceId));

        h.Counter.Reset();
        await h.ApplyAsync(resent);
        Assert.Single(h.Counter.Requests); // the same second delivery again: already noted, nothing written
    }

    [Fact]
    public async Task Overlapping_bookings_of_one_staff_member_are_both_flagged_and_a_cancel_clears_both()
    {
        await using var h = await StoreHarness.CreateAsync(azurite.ConnectionString);
        var first = Examples.Calcom("booking_created_web.json");
        var second = Rewrite(first, ("k3VbP9qWm2xYc7RtL5nD8a", "zzOverlap0000000000001"), ("2026-01-27T09:00:00Z", "2026-01-27T09:15:00Z"), ("2026-01-27T09:30:00Z", "2026-01-27T09:45:00Z"), ("4567890", "4567999"));
        var a = await h.ApplyAsync(first);
        var b = await h.ApplyAsync(second);
        Assert.Equal([a!.AppointmentId], b!.ConflictsWith);
        var records = await h.AppointmentsAsync();
        Assert.Equal([b.AppointmentId], records[a.AppointmentId].ConflictsWith);
        Assert.True(records[a.AppointmentId].HasConflict);

        var cancelSecond = Rewrite(Examples.Calcom("booking_cancelled.json"), ("Tz8cYw3RbN6kLq1PmV5xHd", "zzOverlap0000000000001"));
        await h.ApplyAsync(cancelSecond);
        records = await h.AppointmentsAsync();
        Assert.Empty(records[a.AppointmentId].ConflictsWith);
        Assert.Empty(records[b.AppointmentId].ConflictsWith);
    }

    [Fact]
    public async Task Common_paths_take_at_most_four_table_requests_per_event()
    {
        await using var h = await StoreHarness.CreateAsync(azurite.ConnectionString);
        var figures = new List<(string Path, int Requests)>();
        var tombstoneReads = new Dictionary<string, int>(StringComparer.Ordinal);
        async Task Measure(string path, byte[] body)
        {
            h.Counter.Reset();
            await h.ApplyAsync(body);
            // The erasure tombstone read (docs/operating.md#erasing-a-booking) is counted apart: one, only where a uid is new to
            // the table, read alongside the calendars.
            figures.Add((path, h.Counter.Table - h.Counter.Tombstones));
            tombstoneReads[path] = h.Counter.Tombstones;
            output.WriteLine($"{path}: {h.Counter.Table} table requests, {h.Counter.Tombstones} of them tombstone reads ({string.Join(", ", h.Counter.Requests)})");
        }

        await Measure("create (first of its staff member and address)", Examples.Calcom("booking_created_web.json"));
        await Measure("meeting ended", Examples.Calcom("meeting_ended.json"));
        await Measure("no-show", Examples.Calcom("booking_no_show_updated.json"));
        await Measure("location update", ExampleBodies.Retrigger(Examples.Calcom("booking_created_web.json"), "BOOKING_LOCATION_UPDATED", "2026-01-21T08:00:00.000Z", p => p["location"] = "integrations:daily"));
        await Measure("reassignment (first to this host and address)", ExampleBodies.Retrigger(Examples.Calcom("booking_created_web.json"), "BOOKING_REASSIGNED", "2026-01-21T09:00:00.000Z", p => p["organizer"]!["id"] = 98766));
        await Measure("duplicate", Examples.Calcom("booking_created_web.json"));
        await Measure("create (internal)", Examples.Calcom("booking_created_api_metadata.json"));
        await Measure("reschedule", Examples.Calcom("booking_rescheduled.json"));
        await Measure("cancel", Examples.Calcom("booking_cancelled.json"));
        await Measure("request", Examples.Calcom("booking_requested.json"));
        await Measure("confirm (CREATED for requested uid)", Rewrite(Examples.Calcom("booking_created_web.json"), ("k3VbP9qWm2xYc7RtL5nD8a", "Hb2NwQ8kZr5TyL1mXc4Vp9")));
        await Measure("reject", Examples.Calcom("booking_rejected.json"));
        var later = Rewrite(Examples.Calcom("booking_created_web.json"), ("k3VbP9qWm2xYc7RtL5nD8a", "LaterWebBooking0000001"), ("4567890", "4567001"));
        await Measure("create (staff and address settled)", later);
        await Measure("reassignment (address settled for the new host)", ExampleBodies.Retrigger(later, "BOOKING_REASSIGNED", "2026-01-21T09:00:00.000Z", p => p["organizer"]!["id"] = 98766));

        // Staff aliases (docs/records.md#staff-identity): the first event that pairs a user id with an address its calendar has
        // not settled reads the address's row too, once per user id and address. For a create that is the 4th request;
        // for a reassignment, which reads both hosts' calendars already, the 5th: the one path above four, and only once.
        Assert.All(figures.Where(f => f.Path != "reassignment (first to this host and address)"), f => Assert.True(f.Requests <= 4, $"{f.Path} took {f.Requests} table requests"));
        Assert.Equal(1, figures.Single(f => f.Path == "duplicate").Requests);
        Assert.Equal(2, figures.Single(f => f.Path == "location update").Requests);
        Assert.Equal(4, figures.Single(f => f.Path == "create (first of its staff member and address)").Requests);
        Assert.Equal(3, figures.Single(f => f.Path == "create (internal)").Requests);
        Assert.Equal(3, figures.Single(f => f.Path == "create (staff and address settled)").Requests);
        Assert.Equal(5, figures.Single(f => f.Path == "reassignment (first to this host and address)").Requests);
        Assert.Equal(4, figures.Single(f => f.Path == "reassignment (address settled for the new host)").Requests);
        Assert.Equal(["create (first of its staff member and address)", "create (internal)", "reschedule", "request", "create (staff and address settled)"],
            tombstoneReads.Where(t => t.Value > 0).Select(t => t.Key));
        Assert.All(tombstoneReads.Values, n => Assert.True(n <= 1));
    }

    private static IEnumerable<string[]> Permutations(string[] items) =>
        items.Length <= 1 ? [items] : items.SelectMany((x, i) => Permutations([.. items.Take(i), .. items.Skip(i + 1)]).Select(rest => (string[])[x, .. rest]));
}
