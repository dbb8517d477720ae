using AskPro.Functions.Appointments;
using AskPro.Functions.Queueing;

namespace AskPro.Functions.Tests.Queueing;

public sealed class ApplyGateTests
{
    [Fact]
    public async Task A_holder_of_a_shared_key_waits_until_the_first_leaves_and_disjoint_keys_do_not_wait()
    {
        var gate = new ApplyGate();
        var first = await gate.EnterAsync(["uid:a", "staff:1"], CancellationToken.None);

        var shared = gate.EnterAsync(["staff:1", "uid:b"], CancellationToken.None);
        var disjoint = gate.EnterAsync(["uid:c", "staff:2"], CancellationToken.None);

        Assert.True(disjoint.IsCompletedSuccessfully);
        await Task.Delay(50);
        Assert.False(shared.IsCompleted);
        first.Dispose();
        (await shared.WaitAsync(TimeSpan.FromSeconds(5))).Dispose();
        (await disjoint).Dispose();
        Assert.Equal(0, gate.Count);
    }

    [Fact]
    public async Task Holders_that_name_the_same_keys_in_any_order_never_deadlock_and_never_overlap()
    {
        var gate = new ApplyGate();
        var inside = 0;
        var overlapped = false;

        await Parallel.ForEachAsync(Enumerable.Range(0, 200), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, ct) =>
        {
            using (await gate.EnterAsync(i % 2 == 0 ? ["k1", "k2"] : ["k2", "k1", "k1"], ct))
            {
                overlapped |= Interlocked.Increment(ref inside) > 1;
                await Task.Yield();
                Interlocked.Decrement(ref inside);
            }
        }).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.False(overlapped);
        Assert.Equal(0, gate.Count);
    }

    [Fact]
    public async Task A_cancelled_wait_leaves_nothing_behind()
    {
        var gate = new ApplyGate();
        var held = await gate.EnterAsync(["k"], CancellationToken.None);
        using var cancel = new CancellationTokenSource();

        var waiting = gate.EnterAsync(["k"], cancel.Token);
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        held.Dispose();
        Assert.Equal(0, gate.Count);
    }

    [Fact]
    public void The_keys_are_the_event_uids_and_its_organizer()
    {
        var e = new Functions.Calcom.BookingEvent { TriggerEvent = "BOOKING_RESCHEDULED", Uid = "new", RescheduleUid = "old", OrganizerId = 42 };

        Assert.Equal(["uid_new", "uid_old", "stf_u42"], ApplyGate.KeysOf(e));
        // An id-less organizer: the calendar row the store keys by the e-mail's hash, whatever its letter case.
        var byEmail = e with { Uid = "x", RescheduleUid = null, OrganizerId = null, Organizer = new("Anna", "Anna@Example.com", null) };
        Assert.Equal(["uid_x", "stf_" + AppointmentProjection.StaffKeyOf("anna@example.com")], ApplyGate.KeysOf(byEmail));
        // No organizer at all (or Cal.com's literal "Email-less"): no calendar to share.
        Assert.Equal(["uid_x"], ApplyGate.KeysOf(byEmail with { Organizer = new("Anna", "Email-less", null) }));
    }
}
