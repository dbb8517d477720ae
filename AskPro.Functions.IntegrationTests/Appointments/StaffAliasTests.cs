using AskPro.Functions.Appointments;
using AskPro.Functions.Tests.Infrastructure;
using Azure.Data.Tables;
using static AskPro.Functions.Tests.Appointments.ExampleBodies;

namespace AskPro.Functions.Tests.Appointments;

/// <summary>
/// Staff e-mail aliases: a booking whose events never name a Cal.com user id (seed shapes) and one whose events do,
/// with the same organizer address, meet in one calendar, in any delivery order, on Azurite and in the pure book.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class StaffAliasTests(AzuriteFixture azurite)
{
    private const string Anna = "anna.schmidt@praxis-example.de";
    private const string WebUid = "k3VbP9qWm2xYc7RtL5nD8a";
    private const string SeedUid = "seedAnnaNoId0000000001";
    private const string OtherSeedUid = "seedAnnaNoId0000000002";
    private const string SharedUid = "SharedAddressId98766001";
    private static readonly string WebId = AppointmentProjection.AppointmentIdOf(WebUid);
    private static readonly string SeedId = AppointmentProjection.AppointmentIdOf(SeedUid);
    private static readonly string OtherSeedId = AppointmentProjection.AppointmentIdOf(OtherSeedUid);
    private static readonly string SharedId = AppointmentProjection.AppointmentIdOf(SharedUid);
    private static readonly string AnnaMailKey = AppointmentProjection.StaffKeyOf(Anna);

    /// <summary>Cal.com's web booking: Anna (user id 98765), 27 Jan 09:00 to 09:30.</summary>
    private static byte[] IdBearing => CalcomExample("booking_created_web");

    /// <summary>A seed-shaped booking of Anna's address that never names her user id, overlapping the web booking.</summary>
    private static byte[] IdLess(string uid = SeedUid, string start = "2026-01-27T09:10:00.000Z", string end = "2026-01-27T09:40:00.000Z") =>
        Edit(SeedExample("seed_booking_created_external"), p =>
        {
            p["uid"] = uid;
            p["bookingId"] = 7100 + (uid[^1] - '0');
            p["startTime"] = start;
            p["endTime"] = end;
            p["organizer"]!["email"] = Anna;
            p["organizer"]!["name"] = "Dr. Anna Schmidt";
        });

    private static byte[] IdLessCancelled(string uid = SeedUid) =>
        Edit(SeedExample("seed_booking_cancelled"), p =>
        {
            p["uid"] = uid;
            p["bookingId"] = 7100 + (uid[^1] - '0');
            p["startTime"] = "2026-01-27T09:10:00.000Z";
            p["endTime"] = "2026-01-27T09:40:00.000Z";
        });

    /// <summary>Another Cal.com user (98766) whose event type sends Anna's address (a shared practice mailbox), 09:15 to 09:45.</summary>
    private static byte[] SharedAddress =>
        Edit(CalcomExample("booking_created_web"), p =>
        {
            p["uid"] = SharedUid;
            p["bookingId"] = 4569001;
            p["startTime"] = "2026-01-27T09:15:00Z";
            p["endTime"] = "2026-01-27T09:45:00Z";
            p["organizer"]!["id"] = 98766;
        });

    private static AppointmentBook InOrder(IEnumerable<byte[]> bodies) => Book([.. bodies]);

    private async Task<(Dictionary<string, StoredAppointment> Records, StoreHarness Harness)> ApplyAllAsync(IEnumerable<byte[]> bodies)
    {
        var h = await StoreHarness.CreateAsync(azurite.ConnectionString);
        foreach (var body in bodies)
        {
            await h.ApplyAsync(body);
        }

        return (await h.AppointmentsAsync(), h);
    }

    private static async Task<TableEntity?> StaffRowAsync(StoreHarness h, string staffKey)
    {
        var row = await h.Table.GetEntityIfExistsAsync<TableEntity>(AppointmentEntities.PartitionKey, AppointmentEntities.StaffRowKey(staffKey));
        return row.HasValue ? row.Value : null;
    }

    public static TheoryData<string> Orders => ["X,Y", "Y,X", "X,Y,X,Y", "Y,X,X,Y", "X,X,Y", "Y,Y,X"];

    [Theory]
    [MemberData(nameof(Orders))]
    public async Task An_id_less_and_an_id_bearing_booking_of_one_address_are_flagged_in_either_order_with_duplicates(string order)
    {
        var bodies = order.Split(',').Select(x => x == "X" ? IdLess() : IdBearing).ToList();
        var (records, h) = await ApplyAllAsync(bodies);
        await using var _ = h;

        Assert.Equal([SeedId], records[WebId].ConflictsWith);
        Assert.Equal([WebId], records[SeedId].ConflictsWith);
        Assert.Null(records[SeedId].Record.StaffUserId); // the seed booking never named the id: it is only filed under it
        Assert.Equal("u98765", records[SeedId].Record.StaffKey);
        Assert.Equal("u98765", (await h.RecordByUidAsync(SeedUid)).Record.StaffKey);

        // stf_{hash} is an alias without ranges; stf_u98765 holds both ranges and lists the settled address.
        var alias = await StaffRowAsync(h, AnnaMailKey);
        Assert.NotNull(alias);
        Assert.Equal("u98765", AppointmentEntities.AliasOf(alias));
        Assert.Empty(AppointmentEntities.RangesOf(alias));
        var calendar = (await StaffRowAsync(h, "u98765"))!;
        Assert.Equal([WebId, SeedId], AppointmentEntities.RangesOf(calendar).Select(r => r.AppointmentId));
        Assert.Equal([AnnaMailKey], AppointmentEntities.EmailKeysOf(calendar));

        // The rows say what the pure book says for the same order.
        RecordAssert.AssertSameRecords(InOrder(bodies).Records.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal), records, order);
    }

    [Fact]
    public async Task An_id_less_booking_aliased_after_it_was_stored_then_cancelled_clears_the_conflict_on_the_id_bearing_one()
    {
        await using var h = await StoreHarness.CreateAsync(azurite.ConnectionString);
        await h.ApplyAsync(IdLess());
        Assert.Equal(AnnaMailKey, (await h.RecordByUidAsync(SeedUid)).Record.StaffKey); // alone, filed under its address

        var web = await h.ApplyAsync(IdBearing);
        Assert.Equal([SeedId], web!.ConflictsWith);
        var moved = await h.RecordByUidAsync(SeedUid); // moved by the alias: key and conflict patched on its rows
        Assert.Equal("u98765", moved.Record.StaffKey);
        Assert.Equal([WebId], moved.ConflictsWith);

        h.Counter.Reset();
        await h.ApplyAsync(IdLessCancelled());
        Assert.True(h.Counter.Table <= 3, $"the cancel took {h.Counter.Table} table requests"); // the alias is known from the row: no e-mail row read

        var records = await h.AppointmentsAsync();
        Assert.Equal(AppointmentStatus.Cancelled, records[SeedId].Record.Status);
        Assert.Empty(records[SeedId].ConflictsWith);
        Assert.Empty(records[WebId].ConflictsWith);
        Assert.False(records[WebId].HasConflict);
        Assert.Equal([WebId], AppointmentEntities.RangesOf((await StaffRowAsync(h, "u98765"))!).Select(r => r.AppointmentId));
    }

    [Fact]
    public async Task The_same_doctor_under_two_addresses_with_one_user_id_is_flagged_on_the_store()
    {
        var other = Edit(CalcomExample("booking_created_web"), p =>
        {
            p["uid"] = "AnnaKalender0000000001";
            p["bookingId"] = 4569002;
            p["startTime"] = "2026-01-27T09:15:00Z";
            p["endTime"] = "2026-01-27T09:45:00Z";
            p["organizer"]!["email"] = "a.schmidt@kalender.example";
        });
        var otherId = AppointmentProjection.AppointmentIdOf("AnnaKalender0000000001");
        foreach (var bodies in new[] { new[] { IdBearing, other, IdLess() }, [IdLess(), other, IdBearing] })
        {
            var (records, h) = await ApplyAllAsync(bodies);
            await using var _ = h;

            // Both addresses stand for 98765; the seed booking of one of them meets both.
            Assert.Equal(new[] { SeedId, otherId }.Order(StringComparer.Ordinal), records[WebId].ConflictsWith);
            Assert.Equal(new[] { WebId, SeedId }.Order(StringComparer.Ordinal), records[otherId].ConflictsWith);
            Assert.Equal(new[] { WebId, otherId }.Order(StringComparer.Ordinal), records[SeedId].ConflictsWith);
            Assert.Equal(["u98765"], records.Values.Select(a => a.Record.StaffKey).Distinct());
            Assert.Equal("u98765", AppointmentEntities.AliasOf((await StaffRowAsync(h, AppointmentProjection.StaffKeyOf("a.schmidt@kalender.example")))!));
        }
    }

    [Fact]
    public async Task Two_user_ids_sharing_one_address_leave_the_address_with_the_first_id_seen()
    {
        // Documented behaviour (docs/records.md#staff-identity): the first alias wins; the id-less booking joins that calendar.
        var (records, h) = await ApplyAllAsync([IdBearing, SharedAddress, IdLess()]);
        await using (h)
        {
            Assert.Equal([SeedId], records[WebId].ConflictsWith);
            Assert.Equal([WebId], records[SeedId].ConflictsWith);
            Assert.Empty(records[SharedId].ConflictsWith); // 98766's own calendar: the id-bearing bookings stay apart
            Assert.Equal("u98765", AppointmentEntities.AliasOf((await StaffRowAsync(h, AnnaMailKey))!));
            Assert.Equal([AnnaMailKey], AppointmentEntities.EmailKeysOf((await StaffRowAsync(h, "u98766"))!)); // settled: not read again
        }

        (records, h) = await ApplyAllAsync([SharedAddress, IdLess(), IdBearing]);
        await using (h)
        {
            Assert.Equal([SeedId], records[SharedId].ConflictsWith);
            Assert.Equal([SharedId], records[SeedId].ConflictsWith);
            Assert.Empty(records[WebId].ConflictsWith);
            Assert.Equal("u98766", records[SeedId].Record.StaffKey);
        }
    }

    [Fact]
    public async Task Reading_an_alias_costs_one_request_and_a_settled_address_none()
    {
        await using var h = await StoreHarness.CreateAsync(azurite.ConnectionString);
        async Task<int> Requests(byte[] body)
        {
            h.Counter.Reset();
            await h.ApplyAsync(body);
            return h.Counter.Table - h.Counter.Tombstones; // a new uid's erasure check is counted in AppointmentStoreTests
        }

        var second = Edit(IdBearing, p =>
        {
            p["uid"] = "AnnaSecond000000000001";
            p["bookingId"] = 4569003;
            p["startTime"] = "2026-02-03T09:00:00Z";
            p["endTime"] = "2026-02-03T09:30:00Z";
        });

        Assert.Equal(4, await Requests(IdBearing)); // uid row, stf_u98765 (absent), then the e-mail row, transaction
        Assert.Equal(3, await Requests(second)); // the calendar lists the address as settled
        Assert.Equal(4, await Requests(IdLess())); // uid row, the e-mail row (an alias), then stf_u98765, transaction
        Assert.Equal(3, await Requests(IdLessCancelled())); // its row is filed under the user id: no e-mail row read
    }

    [Theory]
    [InlineData(20261201)]
    [InlineData(5)]
    public async Task Parallel_workers_making_and_reading_one_alias_converge_to_in_order_records(int seed)
    {
        // Six id-less and three id-bearing bookings of Anna's address, all overlapping 09:00 to 10:00, each delivered
        // twice, in a shuffled order by eight workers: the alias is made once, whoever wins the race, and nothing is lost.
        var bodies = Enumerable.Range(1, 6).Select(i => IdLess($"seedAnnaPar{i:D11}", $"2026-03-02T09:{i * 5:D2}:00.000Z", "2026-03-02T10:00:00.000Z"))
            .Concat(Enumerable.Range(1, 3).Select(i => Edit(IdBearing, p =>
            {
                p["uid"] = $"AnnaWebPar{i:D12}";
                p["bookingId"] = 4570000 + i;
                p["startTime"] = $"2026-03-02T09:{i * 7:D2}:00Z";
                p["endTime"] = "2026-03-02T10:00:00Z";
            })))
            .ToList();
        var random = new Random(seed);
        var deliveries = bodies.Concat(bodies).OrderBy(_ => random.Next()).ToList();

        await using var h = await StoreHarness.CreateAsync(azurite.ConnectionString);
        await Parallel.ForEachAsync(deliveries, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (body, _) => await h.ApplyAsync(body));

        var records = await h.AppointmentsAsync();
        RecordAssert.AssertSameRecords(InOrder(bodies).Records.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal), records, $"seed {seed}");
        Assert.Equal(9, records.Count);
        Assert.All(records.Values, a => Assert.Equal(("u98765", 8), (a.Record.StaffKey, a.ConflictsWith.Count)));
        Assert.Equal("u98765", AppointmentEntities.AliasOf((await StaffRowAsync(h, AnnaMailKey))!));
        Assert.Equal(9, AppointmentEntities.RangesOf((await StaffRowAsync(h, "u98765"))!).Count);
    }

    [Fact]
    public void The_pure_book_converges_in_every_order_and_a_cancelled_id_less_booking_keeps_its_own_key()
    {
        byte[][] bodies =
        [
            IdLess(),
            IdBearing,
            IdLess(OtherSeedUid, "2026-01-27T09:20:00.000Z", "2026-01-27T09:50:00.000Z"),
            IdLessCancelled(OtherSeedUid),
            CalcomExample("meeting_ended"),
        ];

        AppointmentBook? first = null;
        var orders = 0;
        foreach (var order in Permutations(bodies))
        {
            var book = InOrder([.. order, bodies[0], bodies[1]]);
            var context = string.Join(",", order.Select(b => Array.IndexOf(bodies, b)));
            Assert.True(book.Records[WebId].ConflictsWith.SequenceEqual([SeedId]), $"{context}: web conflicts [{string.Join(",", book.Records[WebId].ConflictsWith)}]");
            Assert.Equal([WebId], book.Records[SeedId].ConflictsWith);
            Assert.Equal("u98765", book.Records[SeedId].Record.StaffKey);
            // Cancelled: no range, so the key its own events give, whether it was cancelled before or after the alias.
            Assert.Equal(AnnaMailKey, book.Records[OtherSeedId].Record.StaffKey);
            Assert.Empty(book.Records[OtherSeedId].ConflictsWith);
            Assert.DoesNotContain(AnnaMailKey, book.Calendars.Where(c => c.Value.Count > 0).Select(c => c.Key));
            first ??= book;
            var difference = BookComparison.Difference(first, book);
            Assert.True(difference is null, $"{context}: {difference}");
            orders++;
        }

        Assert.Equal(120, orders);
    }
}
