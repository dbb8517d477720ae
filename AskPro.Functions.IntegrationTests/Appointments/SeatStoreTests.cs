using AskPro.Functions.Appointments;
using AskPro.Functions.Calcom;
using AskPro.Functions.Tests.Infrastructure;
using Azure.Data.Tables;
using static AskPro.Functions.Tests.Appointments.SeatEvents;
using T = AskPro.Functions.Calcom.CalcomTriggers;

namespace AskPro.Functions.Tests.Appointments;

/// <summary>Seated bookings through the table store on Azurite: seat rows, slot rows, lookups and per-slot conflicts.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class SeatStoreTests(AzuriteFixture azurite)
{
    private static BookingEvent Plain(string uid, DateTimeOffset start, int minute) => new()
    {
        TriggerEvent = T.BookingCreated,
        Uid = uid,
        CreatedAt = new DateTimeOffset(2026, 12, 1, 8, minute, 0, TimeSpan.Zero),
        StartTime = start,
        EndTime = start.AddMinutes(30),
        Organizer = new Person("Dr. Weber", "weber@example.de", null),
        OrganizerId = 4711,
        Customer = new Person("Frieda Einzel", "frieda@example.de", null),
    };

    private static async Task<TableEntity> RowAsync(StoreHarness h, string rowKey) =>
        (await h.Table.GetEntityAsync<TableEntity>(AppointmentEntities.PartitionKey, rowKey)).Value;

    [Fact]
    public async Task A_row_written_under_a_capitalised_seats_folded_id_is_retired_to_its_exact_id_when_the_seat_next_changes()
    {
        // Before seats followed Cal.com's exact e-mail comparison, "Bert.Berg@Example.de" had the id of its lower-case
        // form. Such a row (as the old version wrote it) must not stay confirmed beside the seat once a host cancel ends it.
        await using var h = await StoreHarness.CreateAsync(azurite.ConnectionString);
        const string Bert = "Bert.Berg@Example.de";
        await h.Store.ApplyAsync(Seat(T.BookingCreated, O, 0, "anna@example.de"), CancellationToken.None);
        await h.Store.ApplyAsync(Seat(T.BookingCreated, O, 5, Bert), CancellationToken.None);
        var exactId = SeatProjection.SeatIdOf(O, Bert);
        var foldedId = SeatProjection.SeatIdOf(O, Bert.ToLowerInvariant());
        var oldRow = await RowAsync(h, AppointmentEntities.AppointmentKey(exactId));
        oldRow.RowKey = AppointmentEntities.AppointmentKey(foldedId);
        oldRow["AppointmentId"] = foldedId;
        await h.Table.UpsertEntityAsync(oldRow, TableUpdateMode.Replace);

        await h.Store.ApplyAsync(Seat(T.BookingCancelled, O, 30, "anna@example.de", Bert), CancellationToken.None);

        Assert.Equal(AppointmentStatus.Cancelled, (await RowAsync(h, AppointmentEntities.AppointmentKey(exactId))).GetString("Status"));
        var retired = await RowAsync(h, AppointmentEntities.AppointmentKey(foldedId));
        Assert.Equal(AppointmentEntities.RowTypeMerged, retired.GetString("RowType"));
        Assert.Equal(exactId, retired.GetString("MergedInto"));
        // A lower-case seat's id is its folded id: nothing of it is retired.
        var anna = await RowAsync(h, AppointmentEntities.AppointmentKey(SeatProjection.SeatIdOf(O, "anna@example.de")));
        Assert.Equal((AppointmentEntities.RowTypeSeat, AppointmentStatus.Cancelled), (anna.GetString("RowType"), anna.GetString("Status")));
    }

    [Fact]
    public async Task Seats_have_their_own_rows_and_a_lookup_of_the_slot_uid_finds_each_of_them()
    {
        await using var h = await StoreHarness.CreateAsync(azurite.ConnectionString);
        foreach (var e in new[] { Seat(T.BookingCancelled, O, 30, "bert@example.de"), Seat(T.BookingCreated, O, 5, "bert@example.de"),
            Seat(T.BookingCreated, O, 0, "anna@example.de"), Seat(T.BookingCreated, O, 9, "carla@example.de"), Seat(T.BookingCreated, O, 0, "anna@example.de") })
        {
            await h.Store.ApplyAsync(e, CancellationToken.None);
        }

        var found = await h.Store.LookupByUidAsync(O, CancellationToken.None);
        Assert.Equal(3, found.Count);
        var byEmail = found.ToDictionary(f => f.Appointment.Record.CustomerEmail!);
        Assert.Equal(AppointmentStatus.Cancelled, byEmail["bert@example.de"].Appointment.Record.Status);
        Assert.Equal(AppointmentStatus.Confirmed, byEmail["anna@example.de"].Appointment.Record.Status);
        foreach (var (appointment, _) in found)
        {
            var row = await RowAsync(h, AppointmentEntities.AppointmentKey(appointment.Record.AppointmentId));
            Assert.Equal(AppointmentEntities.RowTypeSeat, row.GetString("RowType"));
            Assert.Equal(appointment.Record.Status, row.GetString("Status"));
            Assert.Equal(appointment.Record.CustomerEmail, row.GetString("CustomerEmail"));
        }

        var slot = await RowAsync(h, AppointmentEntities.AppointmentKey(AppointmentProjection.AppointmentIdOf(O)));
        Assert.Equal(AppointmentEntities.RowTypeSlot, slot.GetString("RowType"));
        Assert.Equal(2, slot.GetInt32("ActiveSeats"));
        var calendar = AppointmentEntities.RangesOf(await RowAsync(h, "stf_u4711"));
        Assert.Equal(AppointmentProjection.AppointmentIdOf(O), Assert.Single(calendar).AppointmentId);
        var pointer = await RowAsync(h, AppointmentEntities.UidKey(O));
        Assert.True(AppointmentEntities.IsPointer(pointer));
        Assert.Null(pointer.GetString("CustomerEmail"));
        var group = await RowAsync(h, AppointmentEntities.GroupKey(pointer.GetString("GroupId")!));
        Assert.Equal(AppointmentEntities.RowTypeGroup, group.GetString("RowType"));
        Assert.Null(group.GetString("CustomerEmail"));
    }

    [Fact]
    public async Task Two_seated_bookings_joined_by_a_seat_move_become_one_group_whose_uids_all_point_to_it()
    {
        await using var h = await StoreHarness.CreateAsync(azurite.ConnectionString);
        var move = Seat(T.BookingRescheduled, Tgt, 20, "bert@example.de", "emil@example.de") with { RescheduleUid = O, RescheduleStartTime = Ten, RescheduleEndTime = Ten.AddMinutes(45) };
        foreach (var e in new[] { Seat(T.BookingCreated, Tgt, 7, "emil@example.de"), Seat(T.BookingCreated, O, 0, "anna@example.de"), Seat(T.BookingCreated, O, 5, "bert@example.de") })
        {
            await h.Store.ApplyAsync(e, CancellationToken.None);
        }

        var targetGroup = (await RowAsync(h, AppointmentEntities.UidKey(Tgt))).GetString("GroupId")!;
        h.Counter.Reset();
        await h.Store.ApplyAsync(move, CancellationToken.None);

        var groups = new HashSet<string>();
        foreach (var uid in new[] { O, Tgt })
        {
            groups.Add((await RowAsync(h, AppointmentEntities.UidKey(uid))).GetString("GroupId")!);
        }

        var joined = Assert.Single(groups);
        Assert.NotEqual(targetGroup, joined);
        Assert.Equal(joined, (await RowAsync(h, AppointmentEntities.GroupKey(targetGroup))).GetString("MergedInto"));
        var inTarget = (await h.Store.LookupByUidAsync(Tgt, CancellationToken.None)).ToDictionary(f => f.Appointment.Record.CustomerEmail!, f => f.Appointment.Record);
        Assert.Equal([O, Tgt], inTarget["bert@example.de"].CalcomUids);
        Assert.Equal(SeatProjection.SeatIdOf(Tgt, "emil@example.de"), inTarget["emil@example.de"].AppointmentId);
        var slots = AppointmentEntities.RangesOf(await RowAsync(h, "stf_u4711")).Select(r => r.AppointmentId).Order().ToList();
        Assert.Equal(new[] { AppointmentProjection.AppointmentIdOf(O), AppointmentProjection.AppointmentIdOf(Tgt) }.Order(), slots);
    }

    [Fact]
    public async Task A_booking_overlapping_a_slot_conflicts_with_the_slot_and_every_active_seat_carries_it_until_the_last_seat_leaves()
    {
        await using var h = await StoreHarness.CreateAsync(azurite.ConnectionString);
        var slotId = AppointmentProjection.AppointmentIdOf(O);
        await h.Store.ApplyAsync(Seat(T.BookingCreated, O, 0, "anna@example.de"), CancellationToken.None);
        await h.Store.ApplyAsync(Seat(T.BookingCreated, O, 5, "bert@example.de"), CancellationToken.None);
        var plain = await h.Store.ApplyAsync(Plain("PlainOverlapBooking0001", Ten.AddMinutes(15), 10), CancellationToken.None);
        Assert.Equal([slotId], plain.ConflictsWith);

        var seats = await h.Store.LookupByUidAsync(O, CancellationToken.None);
        Assert.All(seats, s => Assert.Equal([plain.AppointmentId], s.Appointment.ConflictsWith));
        foreach (var (seat, _) in seats)
        {
            Assert.Equal(plain.AppointmentId, (await RowAsync(h, AppointmentEntities.AppointmentKey(seat.Record.AppointmentId))).GetString("ConflictsWith"));
        }

        Assert.Equal(plain.AppointmentId, (await RowAsync(h, AppointmentEntities.AppointmentKey(slotId))).GetString("ConflictsWith"));

        // One seat leaves: the slot still holds the time. Then the last one: the conflict is gone on both sides.
        await h.Store.ApplyAsync(Seat(T.BookingCancelled, O, 20, "anna@example.de"), CancellationToken.None);
        Assert.Equal([slotId], (await h.Store.FindByUidAsync("PlainOverlapBooking0001", CancellationToken.None))!.ConflictsWith);
        await h.Store.ApplyAsync(Seat(T.BookingCancelled, O, 25, "bert@example.de"), CancellationToken.None);
        Assert.Empty((await h.Store.FindByUidAsync("PlainOverlapBooking0001", CancellationToken.None))!.ConflictsWith);
        Assert.Equal("", (await RowAsync(h, AppointmentEntities.AppointmentKey(plain.AppointmentId))).GetString("ConflictsWith"));
    }

    [Fact]
    public async Task A_seat_move_seen_before_the_seat_booking_leaves_a_redirect_for_the_provisional_seat_id()
    {
        await using var h = await StoreHarness.CreateAsync(azurite.ConnectionString);
        var move = Seat(T.BookingRescheduled, N, 20, "bert@example.de") with { RescheduleUid = O };
        var cancelInNew = Seat(T.BookingCancelled, N, 40, "bert@example.de");
        await h.Store.ApplyAsync(cancelInNew, CancellationToken.None);
        var provisional = SeatProjection.SeatIdOf(N, "bert@example.de");
        Assert.Equal(provisional, Assert.Single(await h.Store.LookupByUidAsync(N, CancellationToken.None)).Appointment.Record.AppointmentId);

        await h.Store.ApplyAsync(Seat(T.BookingCreated, O, 0, "anna@example.de"), CancellationToken.None);
        await h.Store.ApplyAsync(Seat(T.BookingCreated, O, 5, "bert@example.de"), CancellationToken.None);
        await h.Store.ApplyAsync(move, CancellationToken.None);

        var bert = Assert.Single(await h.Store.LookupByUidAsync(N, CancellationToken.None)).Appointment.Record;
        Assert.Equal(SeatProjection.SeatIdOf(O, "bert@example.de"), bert.AppointmentId);
        Assert.Equal([O, N], bert.CalcomUids);
        Assert.Equal(AppointmentStatus.Cancelled, bert.Status);
        var redirect = await RowAsync(h, AppointmentEntities.AppointmentKey(provisional));
        Assert.Equal(AppointmentEntities.RowTypeMerged, redirect.GetString("RowType"));
        Assert.Equal(bert.AppointmentId, redirect.GetString("MergedInto"));
        Assert.Equal(2, (await h.Store.LookupByUidAsync(O, CancellationToken.None)).Count);
    }

    [Fact]
    public async Task A_seat_event_costs_the_table_requests_the_README_states()
    {
        await using var h = await StoreHarness.CreateAsync(azurite.ConnectionString);
        async Task<int> CostAsync(BookingEvent e)
        {
            h.Counter.Reset();
            await h.Store.ApplyAsync(e, CancellationToken.None);
            // A uid new to the table also costs its erasure tombstone read, counted apart (AppointmentStoreTests).
            return h.Counter.Table - h.Counter.Tombstones;
        }

        // uid row (none), calendar, transaction, and once per user id and address the e-mail row (a staff alias is settled)
        Assert.Equal(4, await CostAsync(Seat(T.BookingCreated, O, 0, "anna@example.de")));
        Assert.Equal(4, await CostAsync(Seat(T.BookingCreated, O, 5, "bert@example.de")));   // pointer, group row, calendar, transaction
        Assert.Equal(4, await CostAsync(Seat(T.BookingCancelled, O, 9, "bert@example.de"))); // the slot's seat list changes: calendar too
        Assert.Equal(2, await CostAsync(Seat(T.BookingCancelled, O, 9, "bert@example.de"))); // duplicate: pointer, group row
    }
}
