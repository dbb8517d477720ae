using AskPro.Functions.Appointments;
using AskPro.Functions.Tests.Infrastructure;
using Azure.Data.Tables;
using Xunit.Abstractions;
using static AskPro.Functions.Tests.Appointments.SeatBodies;

namespace AskPro.Functions.Tests.Appointments;

/// <summary>
/// Issue 15 §1: big slots and long-lived seated groups stay storable within the Table limits (252 properties, 64 KiB
/// per property, 1 MiB per entity, 100 actions and 4 MiB per transaction): nothing is dead-lettered, every row is right.
/// Through the queue processor on Azurite (a null result is a dead letter).
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class SeatGroupSizeTests(AzuriteFixture azurite, ITestOutputHelper output)
{
    private static readonly DateTimeOffset Day = new(2026, 3, 2, 0, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Sent = new(2026, 2, 20, 8, 0, 0, TimeSpan.Zero);
    private static readonly SeatedBooking Big = new("BigSlot000000000000001", 5300001, Day.AddHours(9), Day.AddHours(11));

    private static DateTimeOffset At(int minutes) => Sent.AddMinutes(minutes);

    private static SeatPerson Person(int i) => new($"Teilnehmerin Nummer {i:D3}", $"person{i:D3}@example.org", $"+49151200{i:D5}");

    private static async Task ApplyAsync(StoreHarness h, byte[] body, string what) =>
        Assert.True(await h.ApplyAsync(body) is not null, $"{what} was dead-lettered");

    private static async Task<TableEntity> RowAsync(StoreHarness h, string rowKey) =>
        (await h.Table.GetEntityAsync<TableEntity>(AppointmentEntities.PartitionKey, rowKey)).Value;

    [Fact]
    public async Task A_slot_of_300_seats_takes_a_host_cancel_a_location_update_and_meeting_ended_and_every_seat_row_is_right()
    {
        const int Seats = 300;
        await using var h = await StoreHarness.CreateAsync(azurite.ConnectionString);
        var people = Enumerable.Range(0, Seats).Select(Person).ToList();
        for (var i = 0; i < Seats; i++)
        {
            await ApplyAsync(h, SeatBooked(Anna, Big, people[i], At(i), $"seat-ref-{i:D3}") , $"seat booking {i}");
        }

        await ApplyAsync(h, HostCancelled(Anna, Big, people, people[0], At(Seats + 10)), "the host cancel");
        await ApplyAsync(h, LocationUpdated(Anna, Big, people, people[0], "Turnhalle, Schulstraße 3, 10115 Berlin", Practice, At(Seats + 20)), "the location update");
        await ApplyAsync(h, Write(new Spec("MEETING_ENDED", At(Seats + 30), Anna, Big, people, people[0], "CANCELLED", "Turnhalle, Schulstraße 3, 10115 Berlin")), "MEETING_ENDED");

        var found = await h.Store.LookupByUidAsync(Big.Uid, CancellationToken.None);
        Assert.Equal(Seats, found.Count);
        foreach (var p in people)
        {
            var id = ExpectedSeatId(Big.Uid, p.Email);
            var row = await RowAsync(h, AppointmentEntities.AppointmentKey(id));
            Assert.True((row.GetString("Status"), row.GetString("CustomerEmail"), row.GetString("CustomerName")) == (AppointmentStatus.Cancelled, p.Email, p.Name),
                $"seat row {id}: {row.GetString("Status")} {row.GetString("CustomerName")}");
            Assert.Equal("Turnhalle, Schulstraße 3, 10115 Berlin", row.GetString("Location"));
            Assert.True(row.GetBoolean("MeetingEnded") == true, $"seat row {id} does not show the meeting ended");
            Assert.All(row.Where(kv => kv.Value is string).Select(kv => (string)kv.Value), v => Assert.True(v.Length * 2 <= 64 * 1024));
        }

        var slot = await RowAsync(h, AppointmentEntities.AppointmentKey(AppointmentProjection.AppointmentIdOf(Big.Uid)));
        Assert.Equal(0, slot.GetInt32("ActiveSeats"));
        var pointer = await RowAsync(h, AppointmentEntities.UidKey(Big.Uid));
        var group = await RowAsync(h, AppointmentEntities.GroupKey(pointer.GetString("GroupId")!));
        var history = AppointmentHistory.Read(group);
        Assert.Contains(history, e => e.TriggerEvent == "MEETING_ENDED");
        Assert.True(group.GetString(AppointmentHistory.PropertyName)!.Length * 2 <= AppointmentHistory.MaxBytes, "the group's history is over its byte bound");
        output.WriteLine($"group row: {group.Count} properties, history {history.Count} entries, {group.GetString(AppointmentHistory.PropertyName)!.Length} characters");
    }

    [Fact]
    public void A_history_of_slot_wide_events_of_a_huge_slot_is_bounded_by_bytes_and_keeps_its_newest_entries()
    {
        var seats = Enumerable.Range(0, 2000).Select(i => $"apt_{i:x20}").ToList();
        var start = new DateTimeOffset(2026, 3, 1, 0, 0, 0, TimeSpan.Zero);
        var entries = Enumerable.Range(0, 60).Select(i => new HistoryEntry($"d{i}", ApplySource.Delivery, "BOOKING_LOCATION_UPDATED", start.AddMinutes(i), start.AddMinutes(i), HistoryOutcome.Applied)
        {
            Seats = i % 2 == 0 ? seats.Take(300).ToList() : seats,
        }).ToList();

        var merged = AppointmentHistory.Merge([entries], null);
        var json = AppointmentHistory.ToJson(merged);

        Assert.True(json.Length * 2 <= AppointmentHistory.MaxBytes, $"history JSON is {json.Length} characters");
        Assert.Equal("d59", merged[^1].SourceId); // the newest is never dropped
        Assert.InRange(merged[^1].Seats!.Count, 1, 1999); // its 2,000 seat ids cut to what fits
        Assert.Equal(seats.Take(merged[^1].Seats!.Count), merged[^1].Seats);
        Assert.Equal(merged.Select(e => e.AppliedAt).Order(), merged.Select(e => e.AppliedAt));

        // A seat's own row lists only itself in each entry.
        var mine = AppointmentHistory.OfSeat(merged, seats[5]);
        Assert.All(mine, e => Assert.Equal([seats[5]], e.Seats));
    }

    [Fact]
    public async Task A_group_of_250_slots_joined_by_seat_moves_stays_storable_and_takes_every_further_event()
    {
        const int Slots = 250;
        await using var h = await StoreHarness.CreateAsync(azurite.ConnectionString);
        var slots = Enumerable.Range(0, Slots).Select(i => new SeatedBooking($"JoinSlot{i:D14}", 5400000 + i, Day.AddDays(i).AddHours(9), Day.AddDays(i).AddHours(10))).ToList();
        var holders = Enumerable.Range(0, Slots).Select(Person).ToList();
        var mover = new SeatPerson("Wanda Wechsel", "wanda@example.org", "+4915129999999");
        var minute = 0;
        for (var i = 0; i < Slots; i++)
        {
            await ApplyAsync(h, SeatBooked(Anna, slots[i], holders[i], At(minute++), $"seat-{i:D3}"), $"booking of slot {i}");
        }

        // One person moves from slot to slot, into each existing booking: every move joins two groups for good.
        await ApplyAsync(h, SeatBooked(Anna, slots[0], mover, At(minute++), "seat-wanda"), "the mover's booking");
        for (var i = 1; i < Slots; i++)
        {
            await ApplyAsync(h, SeatMovedIntoBooking(Anna, slots[i - 1], slots[i], mover, [holders[i]], At(minute++)), $"move {i}");
        }

        // The group takes further events: a new seat in the first slot and a cancel in the last.
        var late = new SeatPerson("Lara Spät", "lara@example.org", "+4915129999998");
        await ApplyAsync(h, SeatBooked(Anna, slots[0], late, At(minute++), "seat-lara"), "a late booking");
        await ApplyAsync(h, SeatCancelled(Anna, slots[^1], holders[^1], holders[^1], At(minute++)), "a cancel");

        var pointer = await RowAsync(h, AppointmentEntities.UidKey(slots[0].Uid));
        var group = await RowAsync(h, AppointmentEntities.GroupKey(pointer.GetString("GroupId")!));
        var properties = group.Keys.Count(k => k is not ("PartitionKey" or "RowKey" or "Timestamp" or "odata.etag"));
        Assert.True(properties <= AppointmentEntities.MaxProperties, $"the group row has {properties} properties");
        Assert.All(slots, s => Assert.Equal(pointer.GetString("GroupId"), h.Table.GetEntity<TableEntity>(AppointmentEntities.PartitionKey, AppointmentEntities.UidKey(s.Uid)).Value.GetString("GroupId")));
        var wanda = (await h.Store.LookupByUidAsync(slots[^1].Uid, CancellationToken.None)).Single(s => s.Appointment.Record.CustomerEmail == mover.Email).Appointment.Record;
        Assert.Equal((AppointmentStatus.Confirmed, Slots), (wanda.Status, wanda.CalcomUids.Count));
        var lara = (await h.Store.LookupByUidAsync(slots[0].Uid, CancellationToken.None)).Single(s => s.Appointment.Record.CustomerEmail == late.Email).Appointment.Record;
        Assert.Equal(AppointmentStatus.Confirmed, lara.Status);
        var last = (await h.Store.LookupByUidAsync(slots[^1].Uid, CancellationToken.None)).Single(s => s.Appointment.Record.CustomerEmail == holders[^1].Email).Appointment.Record;
        Assert.Equal(AppointmentStatus.Cancelled, last.Status);
        output.WriteLine($"group row: {properties} properties, {group.GetInt32("EventCount")} events");
    }
}
