using AskPro.Functions.Appointments;
using AskPro.Functions.Tests.Infrastructure;
using Azure.Data.Tables;
using static AskPro.Functions.Tests.Appointments.ExampleBodies;

namespace AskPro.Functions.Tests.Appointments;

/// <summary>
/// Host reassignment, staff identity and branching uid chains applied through the queue processor to Table Storage on
/// Azurite, in every delivery order: the rows must say what the pure book says, and no uid row may be left stale.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class StoreChangesAndBranchesTests(AzuriteFixture azurite)
{
    private const string WebUid = "k3VbP9qWm2xYc7RtL5nD8a";
    private static readonly string WebId = AppointmentProjection.AppointmentIdOf(WebUid);

    private static byte[] Other(string uid, long hostId, string email, string start, string end) =>
        Edit(CalcomExample("booking_created_web"), p =>
        {
            p["uid"] = uid;
            p["bookingId"] = 4561111;
            p["startTime"] = start;
            p["endTime"] = end;
            p["organizer"]!["id"] = hostId;
            p["organizer"]!["email"] = email;
        });

    private static byte[] Reschedule(string from, string to, string start, string end, string createdAt) =>
        Retrigger(CalcomExample("booking_rescheduled"), "BOOKING_RESCHEDULED", createdAt, p =>
        {
            p["uid"] = to;
            p["rescheduleUid"] = from;
            p["rescheduleStartTime"] = "2026-01-27T09:00:00Z";
            p["rescheduleEndTime"] = "2026-01-27T09:30:00Z";
            p["startTime"] = start;
            p["endTime"] = end;
            p["organizer"]!["id"] = 98765;
            p["organizer"]!["email"] = "anna.schmidt@praxis-example.de";
            p.Remove("metadata");
        });

    private static byte[] Cancel(string uid, string createdAt) =>
        Retrigger(CalcomExample("booking_cancelled"), "BOOKING_CANCELLED", createdAt, p => p["uid"] = uid);

    private async Task<Dictionary<string, StoredAppointment>> ApplyAllAsync(IEnumerable<byte[]> bodies)
    {
        await using var h = await StoreHarness.CreateAsync(azurite.ConnectionString);
        foreach (var body in bodies)
        {
            await h.ApplyAsync(body);
        }

        return await h.AppointmentsAsync();
    }

    [Fact]
    public async Task A_reassignment_in_every_order_moves_the_range_and_recomputes_conflicts_on_both_hosts()
    {
        var reassigned = Retrigger(CalcomExample("booking_created_web"), "BOOKING_REASSIGNED", "2026-01-21T08:00:00.000Z", p =>
        {
            p["organizer"]!["id"] = 98766;
            p["organizer"]!["email"] = "jan.berger@praxis-seed.de";
        });
        var annas = Other("AnnaOverlap00000000001", 98765, "anna.schmidt@praxis-example.de", "2026-01-27T09:15:00Z", "2026-01-27T09:45:00Z");
        // Jan's other booking names him by another address: the user id makes it one calendar.
        var jans = Other("JanSlot000000000000001", 98766, "j.berger@kalender.example", "2026-01-27T09:20:00Z", "2026-01-27T09:50:00Z");
        byte[][] bodies = [CalcomExample("booking_created_web"), reassigned, annas, jans];
        var expected = Book(bodies).Records.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        Assert.Equal([AppointmentProjection.AppointmentIdOf("JanSlot000000000000001")], expected[WebId].ConflictsWith);

        foreach (var order in Permutations(bodies))
        {
            var actual = await ApplyAllAsync(order);
            RecordAssert.AssertSameRecords(expected, actual, "reassignment order");
            Assert.Equal("u98766", actual[WebId].Record.StaffKey);
            Assert.Empty(actual[AppointmentProjection.AppointmentIdOf("AnnaOverlap00000000001")].ConflictsWith);
        }
    }

    [Fact]
    public async Task Branching_chains_in_every_order_keep_every_uid_row_current_and_lose_nothing()
    {
        // A → B and A → C (what two seat holders moving to different slots produce), then events on B and C.
        byte[][] bodies =
        [
            CalcomExample("booking_created_web"),
            Reschedule(WebUid, "BranchB000000000000001", "2026-01-28T09:00:00Z", "2026-01-28T09:30:00Z", "2026-01-21T08:00:00.000Z"),
            Reschedule(WebUid, "BranchC000000000000001", "2026-01-29T09:00:00Z", "2026-01-29T09:30:00Z", "2026-01-21T09:00:00.000Z"),
            Cancel("BranchB000000000000001", "2026-01-22T08:00:00.000Z"),
            Retrigger(CalcomExample("booking_no_show_updated"), "BOOKING_NO_SHOW_UPDATED", "2026-01-29T10:00:00.000Z", p => p["bookingUid"] = "BranchC000000000000001"),
        ];
        var expected = Book(bodies).Records.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        var record = Assert.Single(expected.Values);
        Assert.Equal(5, record.Facts.Count);
        Assert.Equal(["BranchB000000000000001", "BranchC000000000000001", WebUid], record.Uids.Order(StringComparer.Ordinal));

        foreach (var order in Permutations(bodies))
        {
            // AppointmentsAsync checks that every uid row of the record (both branches) carries the same facts.
            var actual = await ApplyAllAsync(order);
            RecordAssert.AssertSameRecords(expected, actual, "branch order " + string.Join(",", order.Select(b => Array.IndexOf(bodies, b))));
            Assert.Equal(5, Assert.Single(actual.Values).Facts.Count);
        }
    }

    [Fact]
    public async Task A_same_slot_reschedule_then_an_overlapping_booking_and_a_concurrent_event_on_the_new_uid_flag_every_row()
    {
        await using var h = await StoreHarness.CreateAsync(azurite.ConnectionString);
        await h.ApplyAsync(CalcomExample("booking_created_web"));
        await h.ApplyAsync(Reschedule(WebUid, "SameSlot00000000000001", "2026-01-27T09:00:00Z", "2026-01-27T09:30:00Z", "2026-01-21T08:00:00.000Z"));
        var overlap = Other("Overlap000000000000001", 98765, "anna.schmidt@praxis-example.de", "2026-01-27T09:15:00Z", "2026-01-27T09:45:00Z");
        var noShow = Retrigger(CalcomExample("booking_no_show_updated"), "BOOKING_NO_SHOW_UPDATED", "2026-01-27T10:00:00.000Z", p => p["bookingUid"] = "SameSlot00000000000001");

        await Task.WhenAll(h.ApplyAsync(overlap), h.ApplyAsync(noShow));

        var records = await h.AppointmentsAsync(); // every uid row of both records checked against its apt_ row
        var overlapId = AppointmentProjection.AppointmentIdOf("Overlap000000000000001");
        Assert.Equal([overlapId], records[WebId].ConflictsWith);
        Assert.True(records[WebId].Record.CustomerNoShow);
        foreach (var uid in new[] { WebUid, "SameSlot00000000000001" })
        {
            var row = (await h.Table.GetEntityAsync<TableEntity>(AppointmentEntities.PartitionKey, AppointmentEntities.UidKey(uid))).Value;
            Assert.Equal(overlapId, row.GetString("ConflictsWith"));
        }
    }
}
