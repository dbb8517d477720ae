using AskPro.Functions.Appointments;
using AskPro.Functions.Tests.Infrastructure;
using Azure.Data.Tables;
using Xunit.Abstractions;
using static AskPro.Functions.Tests.Appointments.SeatBodies;

namespace AskPro.Functions.Tests.Appointments;

/// <summary>
/// Issue 15 §1: one booker who books and cancels a seat again and again, with long text, pushes the seated group past
/// its storage budget; the degradation that follows must never touch another person's seat (its id, status and
/// customer), whatever else happened in the group (more seats, other cancels, a move). Through the queue processor
/// on Azurite; every apply must succeed (a null result is a dead letter).
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class SeatBudgetTests(AzuriteFixture azurite, ITestOutputHelper output)
{
    private const int Seed = 15_001;
    private const int Cycles = 170;
    private static readonly DateTimeOffset Day = new(2026, 3, 2, 0, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Sent = new(2026, 2, 20, 8, 0, 0, TimeSpan.Zero);

    private static readonly SeatedBooking O = new("BudgetSlotO00000000001", 5200001, Day.AddHours(9), Day.AddHours(10));
    private static readonly SeatedBooking N = new("BudgetSlotN00000000001", 5200002, Day.AddHours(11), Day.AddHours(12));

    private static readonly SeatPerson Lena = new("Lena Vogel", "lena.vogel@example.org", "+4915110000001");
    private static readonly SeatPerson Tom = new("Tom Kraus", "tom.kraus@example.org", "+4915110000002");
    private static readonly SeatPerson Mia = new("Mia Roth", "mia.roth@example.org", "+4915110000003");
    private static readonly SeatPerson Jonas = new("Jonas Beispiel", "jonas.beispiel@example.org", "+4915110000004");
    private static readonly SeatPerson Ali = new("Ali Yılmaz", "ali.yilmaz@example.org", "+4915110000005");

    private static DateTimeOffset At(int minutes) => Sent.AddMinutes(minutes);

    private static byte[] Book(SeatedBooking slot, SeatPerson p, int minute) => SeatBooked(Anna, slot, p, At(minute), "seat-" + p.Phone[^4..] + "-" + minute);

    private static string Noise(Random random, int length) =>
        new([.. Enumerable.Range(0, length).Select(_ => (char)random.Next(0x30, 0x7b)).Select(c => c is '\\' ? 'x' : c)]);

    /// <summary>The issue's case, and one with more seats, two other cancels (before and during the loop) and a move.</summary>
    public static TheoryData<string> Patterns => ["three seats", "six seats, cancels and a move"];

    [Theory]
    [MemberData(nameof(Patterns))]
    public async Task One_attendees_long_book_and_cancel_loop_pushes_the_group_past_its_budget_and_every_other_seat_keeps_its_id_status_and_customer(string pattern)
    {
        await using var h = await StoreHarness.CreateAsync(azurite.ConnectionString);
        var random = new Random(Seed);
        var full = pattern != "three seats";
        var others = full ? new[] { Lena, Tom, Mia, Jonas, Ali } : [Lena, Tom, Mia];
        var expected = others.ToDictionary(p => p, _ => (Status: AppointmentStatus.Confirmed, Slot: O, Root: O.Uid));
        var minute = 0;
        foreach (var p in others)
        {
            await ApplyAsync(h, Book(O, p, minute++), pattern);
        }

        if (full)
        {
            await ApplyAsync(h, SeatCancelled(Anna, O, Tom, firstBooker: Lena, At(minute++)), pattern);
            expected[Tom] = (AppointmentStatus.Cancelled, O, O.Uid);
        }

        if (full)
        {
            await ApplyAsync(h, SeatMovedToEmptySlot(Anna, O, N, Mia, At(minute++)), pattern);
            expected[Mia] = (AppointmentStatus.Confirmed, N, O.Uid);
        }

        // The attacker: a long name (their own booking form) and a long reason on every cancel, 130 times over.
        for (var i = 0; i < Cycles; i++)
        {
            var attacker = new SeatPerson(Noise(random, 2000), "mallory@example.org", "+4915110009999");
            await ApplyAsync(h, SeatBooked(Anna, O, attacker, At(minute++), "seat-mallory-" + i), pattern); // title and responses name them too
            await ApplyAsync(h, Write(new Spec("BOOKING_CANCELLED", At(minute++), Anna, O, [attacker], Lena, "CANCELLED", Practice)
            {
                Offset = true,
                CancellationReason = Noise(random, 2000),
                RequestReschedule = false,
            }), pattern);
            if (full && i == Cycles / 2)
            {
                // A second real cancel in the middle of the loop, by someone else.
                await ApplyAsync(h, SeatCancelled(Anna, O, Lena, firstBooker: Lena, At(minute++)), pattern);
                expected[Lena] = (AppointmentStatus.Cancelled, O, O.Uid);
            }
        }

        var ptr = (await h.Table.GetEntityAsync<TableEntity>(AppointmentEntities.PartitionKey, AppointmentEntities.UidKey(O.Uid))).Value;
        var grp = (await h.Table.GetEntityAsync<TableEntity>(AppointmentEntities.PartitionKey, AppointmentEntities.GroupKey(ptr.GetString("GroupId")!))).Value;
        output.WriteLine($"group row: events {grp.GetInt32("EventCount")} bytes {grp.Select(kv => kv.Value).OfType<byte[]>().Sum(b => b.Length)}");
        Assert.True(h.App.Logs.Lines.Any(l => l.Contains("[3003]", StringComparison.Ordinal)), $"{pattern} (seed {Seed}): the loop never pushed the group past its budget");
        var seats = (await h.Store.LookupByUidAsync(O.Uid, CancellationToken.None)).Concat(await h.Store.LookupByUidAsync(N.Uid, CancellationToken.None))
            .GroupBy(s => s.Appointment.Record.AppointmentId).ToDictionary(g => g.Key, g => g.First().Appointment.Record);
        foreach (var (p, want) in expected)
        {
            var id = ExpectedSeatId(want.Root, p.Email);
            Assert.True(seats.TryGetValue(id, out var seat), $"{pattern} (seed {Seed}): seat {id} of {p.Name} is gone; found [{string.Join(",", seats.Keys)}]");
            Assert.True(seat!.Status == want.Status, $"{pattern} (seed {Seed}): seat of {p.Name} is {seat.Status}, expected {want.Status}");
            Assert.True(seat.CalcomUid == want.Slot.Uid, $"{pattern} (seed {Seed}): seat of {p.Name} is in {seat.CalcomUid}");
            Assert.True((seat.CustomerName, seat.CustomerEmail, seat.CustomerPhone) == (p.Name, p.Email, p.Phone),
                $"{pattern} (seed {Seed}): seat of {p.Name} shows {seat.CustomerName} <{seat.CustomerEmail}> {seat.CustomerPhone}");

            // The seat's own row says the same.
            var row = (await h.Table.GetEntityAsync<TableEntity>(AppointmentEntities.PartitionKey, AppointmentEntities.AppointmentKey(id))).Value;
            Assert.Equal((want.Status, p.Name), (row.GetString("Status"), row.GetString("CustomerName")));
        }

        var mallory = seats.Values.Single(s => s.CustomerEmail == "mallory@example.org");
        Assert.Equal(AppointmentStatus.Cancelled, mallory.Status);
        output.WriteLine($"{pattern}: {seats.Count} seats, degraded as expected");
    }

    private static async Task ApplyAsync(StoreHarness h, byte[] body, string context) =>
        Assert.True(await h.ApplyAsync(body) is not null, $"{context} (seed {Seed}): a delivery was dead-lettered");
}
