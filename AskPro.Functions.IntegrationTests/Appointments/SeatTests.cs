using AskPro.Functions.Appointments;
using AskPro.Functions.Calcom;
using AskPro.Functions.Tests.Infrastructure;
using Azure.Data.Tables;
using Xunit.Abstractions;
using static AskPro.Functions.Tests.Appointments.SeatBodies;

namespace AskPro.Functions.Tests.Appointments;

/// <summary>
/// Issue 8, seated event types, through the queue processor to Table Storage on Azurite: every seat of a slot is its
/// own appointment (status, customer, history), a seat cancel or move touches only that seat, a host cancel or an
/// owner's move touches every seat, and the staff calendar holds the slot once. Every delivery order is tried (for up
/// to five bodies; beyond that a fixed-seed sample, the seed and order named on failure), each order followed by a
/// byte-identical duplicate and a re-delivery with a later <c>createdAt</c>.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class SeatTests(AzuriteFixture azurite, ITestOutputHelper output)
{
    private const int SampleSeed = 20_261_201;
    private const string StaffKey = "u98765";
    private static readonly DateTimeOffset Day = new(2026, 3, 2, 0, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Sent = new(2026, 2, 20, 8, 0, 0, TimeSpan.Zero);

    private static readonly SeatedBooking O = new("SeatSlotO0000000000001", 5100001, Day.AddHours(9), Day.AddHours(10));
    private static readonly SeatedBooking N = new("SeatSlotN0000000000001", 5100002, Day.AddHours(11), Day.AddHours(12));
    private static readonly SeatedBooking T = new("SeatSlotT0000000000001", 5100003, Day.AddHours(13), Day.AddHours(14));
    private static readonly SeatedBooking X = new("NonSeatedX000000000001", 5100009, Day.AddHours(9.5), Day.AddHours(10));

    private static readonly SeatPerson Lena = new("Lena Vogel", "lena.vogel@example.org", "+4915110000001");
    private static readonly SeatPerson Tom = new("Tom Kraus", "tom.kraus@example.org", "+4915110000002", "Europe/Vienna");
    private static readonly SeatPerson Mia = new("Mia Roth", "mia.roth@example.org", "+4915110000003");
    private static readonly SeatPerson Jonas = new("Jonas Beispiel", "jonas.beispiel@example.org", "+4915110000004");
    private static readonly SeatPerson Ali = new("Ali Yılmaz", "ali.yilmaz@example.org", "+4915110000005");
    private static readonly SeatPerson Erika = new("Erika Musterfrau", "erika.musterfrau@example.org", "+4915110000006");

    private static DateTimeOffset At(int minutes) => Sent.AddMinutes(minutes);

    private static byte[] Book(SeatedBooking slot, SeatPerson p, int minute) => SeatBooked(Anna, slot, p, At(minute), "seat-" + p.Phone[^4..] + "-" + minute);

    private static string SeatId(string rootUid, SeatPerson p) => ExpectedSeatId(rootUid, p.Email);

    private static string SlotIdOf(SeatedBooking slot) => AppointmentProjection.AppointmentIdOf(slot.Uid);

    [Fact]
    public void The_seated_bodies_read_as_the_seat_events_Cal_com_sends()
    {
        var booked = ExampleBodies.Read(Book(O, Tom, 10));
        Assert.True(booked.IsSeated && booked.SeatsPerTimeSlot == SeatsPerTimeSlot && booked.AttendeeSeatId is not null);
        Assert.Equal((O.Uid, O.BookingId, 98765L), (booked.Uid, booked.BookingId!.Value, booked.OrganizerId!.Value));
        Assert.Equal([Tom.Email], booked.Attendees!.Select(a => a.Email));

        // A seat cancel: the seat's attendee only, no seat id, no cancelledBy, responses of the first booker.
        var cancel = ExampleBodies.Read(SeatCancelled(Anna, O, Tom, firstBooker: Lena, At(20)));
        Assert.Equal((CalcomTriggers.BookingCancelled, O.Uid, "CANCELLED"), (cancel.TriggerEvent, cancel.Uid, cancel.Status!));
        Assert.Equal([Tom.Email], cancel.Attendees!.Select(a => a.Email));
        Assert.True(cancel.AttendeeSeatId is null && cancel.CancelledBy is null && cancel.IsSeated);
        Assert.Equal(Lena.Email, cancel.Customer!.Email);
        Assert.Equal(O.Start, cancel.StartTime);

        var host = ExampleBodies.Read(HostCancelled(Anna, O, [Lena, Tom, Mia], Lena, At(30)));
        Assert.Equal([Lena.Email, Tom.Email, Mia.Email], host.Attendees!.Select(a => a.Email));

        var toEmpty = ExampleBodies.Read(SeatMovedToEmptySlot(Anna, O, N, Tom, At(30)));
        Assert.Equal((N.Uid, O.Uid, (DateTimeOffset?)null), (toEmpty.Uid, toEmpty.RescheduleUid!, toEmpty.RescheduleStartTime));
        Assert.Equal([Tom.Email], toEmpty.Attendees!.Select(a => a.Email));

        var into = ExampleBodies.Read(SeatMovedIntoBooking(Anna, O, T, Tom, [Jonas, Ali], At(40)));
        Assert.Equal((T.Uid, O.Uid, (DateTimeOffset?)O.Start), (into.Uid, into.RescheduleUid!, into.RescheduleStartTime));
        Assert.Equal([Tom.Email, Jonas.Email, Ali.Email], into.Attendees!.Select(a => a.Email));

        var owner = ExampleBodies.Read(OwnerMoved(Anna, O, Day.AddHours(15), [Lena, Tom], Lena, At(50)));
        Assert.Equal((O.Uid, O.Uid, (DateTimeOffset?)Day.AddHours(15)), (owner.Uid, owner.RescheduleUid!, owner.StartTime));

        var plain = ExampleBodies.Read(NonSeatedBooking(Anna, X, Erika, At(25)));
        Assert.False(plain.IsSeated);
    }

    [Fact]
    public async Task Two_seats_booked_and_one_cancelled_in_every_order_leave_the_other_confirmed_with_their_own_customer()
    {
        byte[][] bodies = [Book(O, Lena, 0), Book(O, Tom, 10), SeatCancelled(Anna, O, Tom, firstBooker: Lena, At(20))];

        await EveryOrderAsync(bodies, async (h, context) =>
        {
            var seats = await LookupAsync(h, O.Uid, context);
            Assert.True(seats.Count == 2, $"{context}: {seats.Count} seats found for the slot uid");
            AssertSeat(seats, context, Lena, O.Uid, [O.Uid], AppointmentStatus.Confirmed, O);
            AssertSeat(seats, context, Tom, O.Uid, [O.Uid], AppointmentStatus.Cancelled, O);
        });
    }

    [Fact]
    public async Task Three_seats_booked_and_one_cancelled_in_every_order_leave_the_others_confirmed_with_their_own_customers()
    {
        // The cancel's responses describe Lena (the first booker); only its attendee list says it is Tom's seat.
        byte[][] bodies = [Book(O, Lena, 0), Book(O, Tom, 10), Book(O, Mia, 20), SeatCancelled(Anna, O, Tom, firstBooker: Lena, At(30))];

        await EveryOrderAsync(bodies, async (h, context) =>
        {
            var seats = await LookupAsync(h, O.Uid, context);
            Assert.True(seats.Count == 3, $"{context}: {seats.Count} seats found for the slot uid");
            AssertSeat(seats, context, Lena, O.Uid, [O.Uid], AppointmentStatus.Confirmed, O);
            AssertSeat(seats, context, Tom, O.Uid, [O.Uid], AppointmentStatus.Cancelled, O);
            AssertSeat(seats, context, Mia, O.Uid, [O.Uid], AppointmentStatus.Confirmed, O);
            await AssertCalendarAsync(h, context, O);
        });
    }

    [Fact]
    public async Task A_host_cancel_lists_everyone_and_cancels_every_seat_in_every_order()
    {
        byte[][] bodies = [Book(O, Lena, 0), Book(O, Tom, 10), Book(O, Mia, 20), HostCancelled(Anna, O, [Lena, Tom, Mia], firstBooker: Lena, At(30))];

        await EveryOrderAsync(bodies, async (h, context) =>
        {
            var seats = await LookupAsync(h, O.Uid, context);
            Assert.True(seats.Count == 3, $"{context}: {seats.Count} seats found for the slot uid");
            foreach (var p in new[] { Lena, Tom, Mia })
            {
                AssertSeat(seats, context, p, O.Uid, [O.Uid], AppointmentStatus.Cancelled, O);
                Assert.True(seats[SeatId(O.Uid, p)].ConflictsWith.Count == 0, $"{context}: a cancelled slot's seat lists conflicts");
            }

            await AssertCalendarAsync(h, context); // a slot without an active seat holds no range
        });
    }

    [Fact]
    public async Task A_seat_moved_to_an_empty_slot_moves_only_that_seat_and_keeps_its_appointment_id()
    {
        byte[][] bodies = [Book(O, Lena, 0), Book(O, Tom, 10), Book(O, Mia, 20), SeatMovedToEmptySlot(Anna, O, N, Tom, At(30))];

        await EveryOrderAsync(bodies, async (h, context) =>
        {
            var inO = await LookupAsync(h, O.Uid, context);
            // The mover's chain still contains O, so a lookup of O finds it too (now at N).
            Assert.True(inO.Count == 3, $"{context}: {inO.Count} seats found for the original uid");
            AssertSeat(inO, context, Lena, O.Uid, [O.Uid], AppointmentStatus.Confirmed, O);
            AssertSeat(inO, context, Mia, O.Uid, [O.Uid], AppointmentStatus.Confirmed, O);
            AssertSeat(inO, context, Tom, O.Uid, [O.Uid, N.Uid], AppointmentStatus.Confirmed, N);

            var inN = await LookupAsync(h, N.Uid, context);
            Assert.True(inN.Count == 1, $"{context}: {inN.Count} seats found for the new uid, expected only the mover");
            AssertSeat(inN, context, Tom, O.Uid, [O.Uid, N.Uid], AppointmentStatus.Confirmed, N);
            await AssertCalendarAsync(h, context, O, N);
        });
    }

    [Fact]
    public async Task A_seat_moved_into_another_booking_joins_it_and_that_bookings_own_seats_stay_as_they_were()
    {
        byte[][] bodies =
        [
            Book(O, Lena, 0), Book(O, Tom, 10), Book(T, Jonas, 20), Book(T, Ali, 30),
            SeatMovedIntoBooking(Anna, O, T, Tom, intoEarlier: [Jonas, Ali], At(40)),
        ];

        await EveryOrderAsync(bodies, async (h, context) =>
        {
            var inT = await LookupAsync(h, T.Uid, context);
            Assert.True(inT.Count == 3, $"{context}: {inT.Count} seats found for the booking moved into");
            AssertSeat(inT, context, Jonas, T.Uid, [T.Uid], AppointmentStatus.Confirmed, T);
            AssertSeat(inT, context, Ali, T.Uid, [T.Uid], AppointmentStatus.Confirmed, T);
            AssertSeat(inT, context, Tom, O.Uid, [O.Uid, T.Uid], AppointmentStatus.Confirmed, T);

            var inO = await LookupAsync(h, O.Uid, context);
            Assert.True(inO.Count == 2, $"{context}: {inO.Count} seats found for the original uid");
            AssertSeat(inO, context, Lena, O.Uid, [O.Uid], AppointmentStatus.Confirmed, O);
            await AssertCalendarAsync(h, context, O, T);
        });
    }

    [Fact]
    public async Task The_owner_moving_the_whole_booking_moves_every_seat_in_every_order()
    {
        var moved = O.At(Day.AddHours(15));
        byte[][] bodies = [Book(O, Lena, 0), Book(O, Tom, 10), Book(O, Mia, 20), OwnerMoved(Anna, O, moved.Start, [Lena, Tom, Mia], firstBooker: Lena, At(30))];

        await EveryOrderAsync(bodies, async (h, context) =>
        {
            var seats = await LookupAsync(h, O.Uid, context);
            Assert.True(seats.Count == 3, $"{context}: {seats.Count} seats found for the slot uid");
            foreach (var p in new[] { Lena, Tom, Mia })
            {
                AssertSeat(seats, context, p, O.Uid, [O.Uid], AppointmentStatus.Confirmed, moved);
            }

            await AssertCalendarAsync(h, context, moved);
        });
    }

    [Fact]
    public async Task A_seat_booked_after_a_seat_cancel_is_confirmed_and_the_cancelled_seat_stays_cancelled()
    {
        byte[][] bodies = [Book(O, Lena, 0), Book(O, Tom, 10), SeatCancelled(Anna, O, Tom, firstBooker: Lena, At(20)), Book(O, Mia, 30)];

        await EveryOrderAsync(bodies, async (h, context) =>
        {
            var seats = await LookupAsync(h, O.Uid, context);
            Assert.True(seats.Count == 3, $"{context}: {seats.Count} seats found for the slot uid");
            AssertSeat(seats, context, Lena, O.Uid, [O.Uid], AppointmentStatus.Confirmed, O);
            AssertSeat(seats, context, Tom, O.Uid, [O.Uid], AppointmentStatus.Cancelled, O);
            AssertSeat(seats, context, Mia, O.Uid, [O.Uid], AppointmentStatus.Confirmed, O);
        });
    }

    [Fact]
    public async Task A_seat_cancelled_and_booked_again_by_the_same_person_is_confirmed_in_every_order()
    {
        // The second booking is a new seat reference and newer than the cancel: the newest status event wins.
        byte[][] bodies = [Book(O, Lena, 0), Book(O, Tom, 10), SeatCancelled(Anna, O, Tom, firstBooker: Lena, At(20)), Book(O, Tom, 30)];

        await EveryOrderAsync(bodies, async (h, context) =>
        {
            var seats = await LookupAsync(h, O.Uid, context);
            Assert.True(seats.Count == 2, $"{context}: {seats.Count} seats found, expected Tom's one seat and Lena's");
            AssertSeat(seats, context, Lena, O.Uid, [O.Uid], AppointmentStatus.Confirmed, O);
            AssertSeat(seats, context, Tom, O.Uid, [O.Uid], AppointmentStatus.Confirmed, O);
        });
    }

    [Fact]
    public async Task A_seat_cancel_naming_the_attendee_in_other_letter_case_is_another_address_and_leaves_that_seat_confirmed()
    {
        // Cal.com compares attendee e-mails exactly (`===`): Tom.Kraus@Example.ORG is not Tom's seat, so a cancel naming it
        // cannot cancel Tom's. (Before issue 15 the case was folded and this cancelled Tom.)
        var shouting = Tom with { Email = "Tom.Kraus@Example.ORG" };
        byte[][] bodies = [Book(O, Lena, 0), Book(O, Tom, 10), SeatCancelled(Anna, O, shouting, firstBooker: Lena, At(20))];

        await EveryOrderAsync(bodies, async (h, context) =>
        {
            var seats = await LookupAsync(h, O.Uid, context);
            AssertSeat(seats, context, Lena, O.Uid, [O.Uid], AppointmentStatus.Confirmed, O);
            AssertSeat(seats, context, Tom, O.Uid, [O.Uid], AppointmentStatus.Confirmed, O);
            Assert.True(seats.Count == 3 && seats[SeatId(O.Uid, shouting)].Record.Status == AppointmentStatus.Cancelled,
                $"{context}: {seats.Count} seats; the other address's cancel is its own (cancelled) record");
        });
    }

    [Fact]
    public async Task Two_seats_differing_only_in_e_mail_case_stay_two_records_and_the_second_booker_can_neither_overwrite_nor_cancel_the_first()
    {
        var victim = new SeatPerson("Vera Opfer", "victim@example.org", "+4915110000011");
        var other = new SeatPerson("Mallory Anders", "Victim@example.org", "+4915110000066");
        byte[][] bodies = [Book(O, victim, 0), Book(O, other, 10), SeatCancelled(Anna, O, other, firstBooker: victim, At(20))];

        await EveryOrderAsync(bodies, async (h, context) =>
        {
            var seats = await LookupAsync(h, O.Uid, context);
            Assert.True(seats.Count == 2, $"{context}: {seats.Count} seats found for two addresses");
            AssertSeat(seats, context, victim, O.Uid, [O.Uid], AppointmentStatus.Confirmed, O);
            AssertSeat(seats, context, other, O.Uid, [O.Uid], AppointmentStatus.Cancelled, O);
            var row = (await h.Table.GetEntityAsync<TableEntity>(AppointmentEntities.PartitionKey, AppointmentEntities.AppointmentKey(SeatId(O.Uid, victim)))).Value;
            Assert.True((row.GetString("Status"), row.GetString("CustomerName"), row.GetString("CustomerPhone"), row.GetString("CustomerEmail"))
                == (AppointmentStatus.Confirmed, victim.Name, victim.Phone, victim.Email), $"{context}: the first seat's row was changed by the second booker");
            await AssertCalendarAsync(h, context, O);
        });
    }

    [Fact]
    public async Task The_staff_calendar_holds_the_slot_once_and_seats_of_one_slot_never_conflict_with_each_other()
    {
        byte[][] bodies = [Book(O, Lena, 0), Book(O, Tom, 10), Book(O, Mia, 20)];

        await EveryOrderAsync(bodies, async (h, context) =>
        {
            var seats = await LookupAsync(h, O.Uid, context);
            Assert.True(seats.Count == 3, $"{context}: {seats.Count} seats");
            foreach (var seat in seats.Values)
            {
                Assert.True(seat.ConflictsWith.Count == 0, $"{context}: seat {seat.Record.AppointmentId} conflicts with [{string.Join(",", seat.ConflictsWith)}]");
            }

            await AssertCalendarAsync(h, context, O);
        });
    }

    [Fact]
    public async Task A_non_seated_booking_overlapping_the_slot_conflicts_with_the_slot_and_every_active_seat_names_it()
    {
        var xId = AppointmentProjection.AppointmentIdOf(X.Uid);
        byte[][] bodies = [Book(O, Lena, 0), Book(O, Tom, 10), Book(O, Mia, 20), NonSeatedBooking(Anna, X, Erika, At(25)), SeatCancelled(Anna, O, Tom, firstBooker: Lena, At(30))];

        await EveryOrderAsync(bodies, async (h, context) =>
        {
            var other = Assert.Single(await h.Store.LookupByUidAsync(X.Uid, CancellationToken.None)).Appointment;
            Assert.True(other.ConflictsWith.SequenceEqual([SlotIdOf(O)]), $"{context}: the other booking conflicts with [{string.Join(",", other.ConflictsWith)}], expected the slot {SlotIdOf(O)} once");
            var seats = await LookupAsync(h, O.Uid, context);
            foreach (var p in new[] { Lena, Mia })
            {
                var seat = seats[SeatId(O.Uid, p)];
                Assert.True(seat.ConflictsWith.SequenceEqual([xId]), $"{context}: active seat of {p.Name} conflicts with [{string.Join(",", seat.ConflictsWith)}], expected [{xId}]");
            }

            AssertSeat(seats, context, Tom, O.Uid, [O.Uid], AppointmentStatus.Cancelled, O);
            await AssertCalendarAsync(h, context, O, X);

            // The last active seats leaving (the host cancels the rest) clears the other booking's conflict.
            await h.ApplyAsync(HostCancelled(Anna, O, [Lena, Mia], firstBooker: Lena, At(40)));
            other = Assert.Single(await h.Store.LookupByUidAsync(X.Uid, CancellationToken.None)).Appointment;
            Assert.True(other.ConflictsWith.Count == 0, $"{context} + host cancel: the other booking still conflicts with [{string.Join(",", other.ConflictsWith)}]");
        });
    }

    [Fact]
    public async Task A_seat_move_a_cancel_and_a_late_seat_in_a_fixed_seed_sample_of_orders_give_every_seat_its_own_state()
    {
        // Seven bodies: too many orders to try all; a fixed-seed sample of them (the seed and order named on failure).
        byte[][] bodies =
        [
            Book(O, Lena, 0), Book(O, Tom, 10), Book(O, Mia, 20), Book(T, Jonas, 25),
            SeatMovedIntoBooking(Anna, O, T, Mia, intoEarlier: [Jonas], At(30)),
            SeatCancelled(Anna, O, Tom, firstBooker: Lena, At(40)),
            Book(O, Ali, 50),
        ];

        await EveryOrderAsync(bodies, async (h, context) =>
        {
            var inO = await LookupAsync(h, O.Uid, context);
            Assert.True(inO.Count == 4, $"{context}: {inO.Count} seats found for the original uid");
            AssertSeat(inO, context, Lena, O.Uid, [O.Uid], AppointmentStatus.Confirmed, O);
            AssertSeat(inO, context, Tom, O.Uid, [O.Uid], AppointmentStatus.Cancelled, O);
            AssertSeat(inO, context, Ali, O.Uid, [O.Uid], AppointmentStatus.Confirmed, O);
            AssertSeat(inO, context, Mia, O.Uid, [O.Uid, T.Uid], AppointmentStatus.Confirmed, T);
            var inT = await LookupAsync(h, T.Uid, context);
            Assert.True(inT.Count == 2, $"{context}: {inT.Count} seats found for the booking moved into");
            AssertSeat(inT, context, Jonas, T.Uid, [T.Uid], AppointmentStatus.Confirmed, T);
        });
    }

    [Fact]
    public async Task Two_seat_holders_swapping_slots_each_move_only_their_own_seat()
    {
        // Tom moves O → T (T lists Jonas and Ali too), then Jonas moves T → O (O lists Lena too). Jonas is named by a
        // move INTO O, but he never held a seat in O before his own move: the first move must not take him along.
        byte[][] bodies =
        [
            Book(O, Lena, 0), Book(O, Tom, 10), Book(T, Jonas, 20), Book(T, Ali, 30),
            SeatMovedIntoBooking(Anna, O, T, Tom, intoEarlier: [Jonas, Ali], At(40)),
            SeatMovedIntoBooking(Anna, T, O, Jonas, intoEarlier: [Lena], At(50)),
        ];

        await EveryOrderAsync(bodies, async (h, context) =>
        {
            var inO = await LookupAsync(h, O.Uid, context);
            AssertSeat(inO, context, Lena, O.Uid, [O.Uid], AppointmentStatus.Confirmed, O);
            AssertSeat(inO, context, Tom, O.Uid, [O.Uid, T.Uid], AppointmentStatus.Confirmed, T);
            AssertSeat(inO, context, Jonas, T.Uid, [T.Uid, O.Uid], AppointmentStatus.Confirmed, O);
            var inT = await LookupAsync(h, T.Uid, context);
            AssertSeat(inT, context, Ali, T.Uid, [T.Uid], AppointmentStatus.Confirmed, T);
            Assert.True(inO.Count == 3 && inT.Count == 3, $"{context}: {inO.Count} seats reach O, {inT.Count} reach T; expected 3 and 3 (Lena, Tom, Jonas; Ali, Tom, Jonas)");
        });
    }

    [Fact]
    public async Task A_seat_that_moved_on_is_not_taken_along_again_when_another_seat_of_its_first_slot_moves_in()
    {
        // Tom moves O → N → M (empty slots); Lena books M; then Mia moves O → M, which lists Tom and Lena as M's earlier
        // attendees. Tom held a seat in O once, but left it long ago: his chain stays O, N, M.
        var M = new SeatedBooking("SeatSlotM0000000000001", 5100004, Day.AddHours(8), Day.AddHours(8.5));
        byte[][] bodies =
        [
            Book(O, Mia, 0), Book(O, Tom, 10),
            SeatMovedToEmptySlot(Anna, O, N, Tom, At(20)),
            SeatMovedToEmptySlot(Anna, N, M, Tom, At(30)),
            Book(M, Lena, 40),
            SeatMovedIntoBooking(Anna, O, M, Mia, intoEarlier: [Tom, Lena], At(50)),
        ];

        await EveryOrderAsync(bodies, async (h, context) =>
        {
            var inM = await LookupAsync(h, M.Uid, context);
            Assert.True(inM.Count == 3, $"{context}: {inM.Count} seats reach M");
            AssertSeat(inM, context, Tom, O.Uid, [O.Uid, N.Uid, M.Uid], AppointmentStatus.Confirmed, M);
            AssertSeat(inM, context, Mia, O.Uid, [O.Uid, M.Uid], AppointmentStatus.Confirmed, M);
            AssertSeat(inM, context, Lena, M.Uid, [M.Uid], AppointmentStatus.Confirmed, M);
        });
    }

    /// <summary>
    /// Applies the bodies in every order (up to five of them; else 30 orders shuffled from <see cref="SampleSeed"/>),
    /// each followed by the first body again (same bytes) and the last re-delivered an hour later, each in its own table.
    /// </summary>
    private async Task EveryOrderAsync(byte[][] bodies, Func<StoreHarness, string, Task> check)
    {
        var orders = bodies.Length <= 5
            ? ExampleBodies.Permutations(Enumerable.Range(0, bodies.Length).ToArray()).ToList()
            : SampledOrders(bodies.Length, SampleSeed, 30);
        var tried = 0;
        foreach (var order in orders)
        {
            var last = bodies[order[^1]];
            var redelivered = DeliveryShuffler.WithCreatedAt(last, ExampleBodies.Read(last).CreatedAt!.Value.AddHours(1));
            var context = $"order {string.Join(",", order)} + duplicate of {order[0]} + re-delivery of {order[^1]}" + (bodies.Length > 5 ? $" (sample seed {SampleSeed})" : "");
            await using var h = await StoreHarness.CreateAsync(azurite.ConnectionString);
            foreach (var body in order.Select(i => bodies[i]).Append(bodies[order[0]]).Append(redelivered))
            {
                await h.ApplyAsync(body);
            }

            await check(h, context);
            tried++;
        }

        output.WriteLine($"{tried} delivery orders of {bodies.Length} bodies checked");
        Assert.Equal(orders.Count, tried);
    }

    private static List<int[]> SampledOrders(int count, int seed, int samples)
    {
        var random = new Random(seed);
        var orders = new List<int[]> { Enumerable.Range(0, count).ToArray(), Enumerable.Range(0, count).Reverse().ToArray() };
        while (orders.Count < samples)
        {
            var order = Enumerable.Range(0, count).ToArray();
            random.Shuffle(order);
            orders.Add(order);
        }

        return orders;
    }

    /// <summary>The seats a lookup of <paramref name="uid"/> returns, by appointment id (each once).</summary>
    private static async Task<Dictionary<string, StoredAppointment>> LookupAsync(StoreHarness h, string uid, string context)
    {
        var found = await h.Store.LookupByUidAsync(uid, CancellationToken.None);
        var ids = found.Select(f => f.Appointment.Record.AppointmentId).ToList();
        Assert.True(ids.Count == ids.Distinct(StringComparer.Ordinal).Count(), $"{context}: a lookup of {uid} returned a seat twice: [{string.Join(",", ids)}]");
        return found.ToDictionary(f => f.Appointment.Record.AppointmentId, f => f.Appointment, StringComparer.Ordinal);
    }

    /// <summary>One seat as the contract describes it: its own id, chain, status and customer; the slot's times and host.</summary>
    private static void AssertSeat(Dictionary<string, StoredAppointment> seats, string context, SeatPerson p, string rootUid, string[] chain, string status, SeatedBooking slot)
    {
        var id = SeatId(rootUid, p);
        Assert.True(seats.TryGetValue(id, out var seat), $"{context}: no seat {id} of {p.Name} (root {rootUid}); found [{string.Join(",", seats.Keys)}]");
        var r = seat!.Record;
        var what = $"{context}: seat of {p.Name}";
        Assert.True(r.CalcomUids.SequenceEqual(chain), $"{what}: uids [{string.Join(",", r.CalcomUids)}], expected [{string.Join(",", chain)}]");
        Assert.True(r.Status == status, $"{what}: status {r.Status}, expected {status}");
        Assert.True((r.RootUid, r.CalcomUid) == (rootUid, chain[^1]), $"{what}: root {r.RootUid}, current {r.CalcomUid}");
        Assert.True(r.CustomerEmail == p.Email && r.CustomerName == p.Name && r.CustomerPhone == p.Phone,
            $"{what}: customer {r.CustomerName} <{r.CustomerEmail}> {r.CustomerPhone}");
        Assert.True((r.StartTime, r.EndTime) == (slot.Start, slot.End), $"{what}: {r.StartTime:O}..{r.EndTime:O}, expected {slot.Start:O}..{slot.End:O}");
        Assert.True(r.SlotId == SlotIdOf(slot), $"{what}: slot id {r.SlotId}, expected {SlotIdOf(slot)}");
        Assert.True(r.SeatsPerTimeSlot == SeatsPerTimeSlot, $"{what}: seatsPerTimeSlot {r.SeatsPerTimeSlot}");
        Assert.True((r.StaffKey, r.StaffUserId, r.StaffEmail) == (StaffKey, Anna.Id, Anna.Email), $"{what}: staff {r.StaffKey}");
        Assert.True(r.Location == Practice, $"{what}: location {r.Location}");
    }

    /// <summary>Anna's calendar row: exactly one range per active slot (range id = slot id), at the slot's times.</summary>
    private static async Task AssertCalendarAsync(StoreHarness h, string context, params SeatedBooking[] active)
    {
        var row = await h.Table.GetEntityIfExistsAsync<TableEntity>(AppointmentEntities.PartitionKey, AppointmentEntities.StaffRowKey(StaffKey));
        var ranges = row.HasValue ? AppointmentEntities.RangesOf(row.Value!) : [];
        var expected = active.Select(a => $"{SlotIdOf(a)}[{a.Start:O}..{a.End:O}]").Order(StringComparer.Ordinal).ToList();
        var actual = ranges.Select(r => $"{r.AppointmentId}[{r.Start:O}..{r.End:O}]").Order(StringComparer.Ordinal).ToList();
        Assert.True(expected.SequenceEqual(actual), $"{context}: calendar [{string.Join(", ", actual)}], expected [{string.Join(", ", expected)}]");
    }
}
