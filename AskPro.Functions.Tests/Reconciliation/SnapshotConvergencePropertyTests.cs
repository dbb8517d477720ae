using System.Collections.Concurrent;
using System.Diagnostics;
using AskPro.Functions.Appointments;
using AskPro.Functions.Calcom;
using AskPro.Functions.Reconciliation;
using AskPro.Functions.Tests.Appointments;
using AskPro.Functions.Tests.Infrastructure;
using Xunit.Abstractions;

namespace AskPro.Functions.Tests.Reconciliation;

/// <summary>
/// Reconciliation's promise as a property: API snapshots taken at random points of generated lifecycles, turned into
/// synthetic webhooks exactly as a pass does, delivered in any order among the real webhooks (with duplicates), never
/// undo a change — status, times, current uid, chain, staff and location end as the webhooks alone make them — and
/// the records are the same whatever the order. Each case has its own seed (base seed + case index, printed on failure).
/// </summary>
[Collection(RunsAloneCollection.Name)]
public sealed class SnapshotConvergencePropertyTests(ITestOutputHelper output)
{
    public const int BaseSeed = 20_261_201;
    public const int Cases = 100_000;

    [Fact]
    public void Snapshots_taken_at_any_point_and_delivered_in_any_order_never_undo_a_change()
    {
        var failures = new ConcurrentDictionary<int, string>();
        long snapshots = 0, stale = 0;
        var watch = Stopwatch.StartNew();
        Parallel.For(0, Cases, (i, state) =>
        {
            var (failure, taken, older) = Check(BaseSeed, i);
            Interlocked.Add(ref snapshots, taken);
            Interlocked.Add(ref stale, older);
            if (failure is not null)
            {
                failures[i] = failure;
                state.Stop();
            }
        });
        output.WriteLine($"{Cases} cases, {snapshots} snapshots ({stale} taken before the lifecycle's last change) in {watch.Elapsed.TotalSeconds:F1} s");
        if (!failures.IsEmpty)
        {
            var first = failures.Keys.Min();
            Assert.Fail($"{failures.Count} case(s) failed; first: seed {BaseSeed}, case {first}: {failures[first]}");
        }

        // Only meaningful if most snapshots were stale by the end: those are the ones that could undo something.
        Assert.True(stale > Cases / 2, $"only {stale} stale snapshots");
    }

    [Theory]
    [InlineData(BaseSeed, 0)]
    [InlineData(BaseSeed, 1)]
    public void One_case_replays_from_its_seed_and_index(int seed, int index) => Assert.Null(Check(seed, index).Failure);

    internal static (string? Failure, int Snapshots, int Stale) Check(int seed, int index)
    {
        var random = new Random(unchecked((seed * 1_000_003) + index));
        var scenario = new LifecycleGenerator(random).NextScenario();
        var inOrder = scenario.InOrder;
        try
        {
            var expected = new AppointmentBook();
            foreach (var g in inOrder)
            {
                expected.Apply(Read(g.Body));
            }

            // A snapshot per lifecycle, after a random number of its events: what the API would show then.
            var synthetic = new List<byte[]>();
            var stale = 0;
            foreach (var lifecycle in scenario.Lifecycles)
            {
                var k = random.Next(1, lifecycle.Events.Count + 1);
                stale += k < lifecycle.Events.Count ? 1 : 0;
                synthetic.AddRange(Snapshot(lifecycle.Events.Take(k).ToList()));
            }

            var real = inOrder.Select(g => g.Body).ToList();
            var first = Deliver(random, real, synthetic);
            var second = Deliver(random, real, synthetic);
            foreach (var lifecycle in scenario.Lifecycles)
            {
                var want = expected.FindByUid(lifecycle.FinalUid)!.Record;
                var got = first.FindByUid(lifecycle.FinalUid)?.Record;
                if (got is null || Key(got) != Key(want) || !got.CalcomUids.SequenceEqual(want.CalcomUids))
                {
                    return ($"{lifecycle}: with snapshots {(got is null ? "no record" : Key(got).ToString())}, webhooks alone {Key(want)}\n{scenario}", scenario.Lifecycles.Count, stale);
                }
            }

            if (ConvergencePropertyTests.Difference(first, second) is { } difference)
            {
                return ($"two orders of the same deliveries differ: {difference}\n{scenario}", scenario.Lifecycles.Count, stale);
            }

            return (null, scenario.Lifecycles.Count, stale);
        }
        catch (Exception ex)
        {
            return ($"threw {ex}\n{scenario}", scenario.Lifecycles.Count, 0);
        }
    }

    internal static (string Status, DateTimeOffset? Start, DateTimeOffset? End, string Uid, string Id, string? Staff, string? Location) Key(Appointment a) =>
        (a.Status, a.StartTime, a.EndTime, a.CalcomUid, a.AppointmentId, a.StaffKey, a.Location);

    /// <summary>Real webhooks and synthetic ones, shuffled, some twice, applied to a fresh book.</summary>
    private static AppointmentBook Deliver(Random random, List<byte[]> real, List<byte[]> synthetic)
    {
        var all = real.Concat(synthetic).ToList();
        all.AddRange(all.Where(_ => random.NextDouble() < 0.2).ToList());
        var book = new AppointmentBook();
        foreach (var body in all.OrderBy(_ => random.Next()))
        {
            book.Apply(Read(body));
        }

        return book;
    }

    /// <summary>
    /// The bookings the API shows after <paramref name="prefix"/> (the state the webhooks so far describe), as the
    /// synthetic webhooks a pass would queue for them: the current uid in its state, and each earlier uid of the chain
    /// as the cancelled row a reschedule leaves. Dated by the last change, like the API's updatedAt.
    /// </summary>
    private static List<byte[]> Snapshot(List<GeneratedEvent> prefix)
    {
        var book = new AppointmentBook();
        foreach (var g in prefix)
        {
            book.Apply(Read(g.Body));
        }

        var updatedAt = prefix.Max(g => g.CreatedAt);
        var bodies = new List<byte[]>();
        foreach (var (current, previous) in ApiRows(book.Records.Values, updatedAt))
        {
            if (SyntheticWebhook.TriggerFor(current) is { } trigger)
            {
                bodies.Add(SyntheticWebhook.Body(current, trigger, "pass-prop", updatedAt, previous));
            }
        }

        return bodies;
    }

    /// <summary>
    /// The rows the API shows for records in these states: the current uid in its state (with the uid it replaced), and
    /// the replaced uid as the cancelled row a reschedule leaves. Records whose events state no booking status yet
    /// (payment or no-show only) have no row.
    /// </summary>
    internal static IEnumerable<(CalcomApiBooking Current, CalcomApiBooking? Previous)> ApiRows(IEnumerable<StoredAppointment> records, DateTimeOffset updatedAt)
    {
        foreach (var stored in records)
        {
            var record = stored.Record;
            var status = record.Status switch
            {
                AppointmentStatus.Confirmed => "accepted",
                AppointmentStatus.Requested => "pending",
                AppointmentStatus.Cancelled => "cancelled",
                AppointmentStatus.Rejected => "rejected",
                _ => null, // only payment or no-show events so far: nothing a booking row would state
            };
            if (status is null || record.StartTime is null)
            {
                continue;
            }

            var chain = record.CalcomUids;
            var host = new CalcomApiPerson { Id = record.StaffUserId, Email = record.StaffEmail, Name = record.StaffName };
            var current = new CalcomApiBooking
            {
                Id = record.CalcomBookingId,
                Uid = record.CalcomUid,
                Title = record.Title,
                Status = status,
                Start = record.StartTime,
                End = record.EndTime,
                UpdatedAt = updatedAt,
                Hosts = [host],
                Attendees = [new CalcomApiPerson { Name = record.CustomerName, Email = record.CustomerEmail, PhoneNumber = record.CustomerPhone }],
                Location = record.Location,
                EventTypeId = record.EventTypeId,
                CancellationReason = record.CancellationReason ?? record.RejectionReason,
                RescheduledFromUid = chain.Count > 1 ? chain[^2] : null,
            };
            // Every earlier uid of the chain is the cancelled row its reschedule left, linked both ways.
            CalcomApiBooking? previous = null;
            for (var i = chain.Count - 2; i >= 0; i--)
            {
                var (start, end) = i == chain.Count - 2 ? (record.PreviousStartTime, record.PreviousEndTime) : TimesOf(stored.Facts, chain[i]);
                var row = new CalcomApiBooking
                {
                    Uid = chain[i], Status = "cancelled", Start = start ?? record.StartTime, End = end ?? record.EndTime, UpdatedAt = updatedAt, Hosts = [host],
                    RescheduledToUid = chain[i + 1], RescheduledFromUid = i > 0 ? chain[i - 1] : null,
                };
                if (i == chain.Count - 2)
                {
                    previous = row;
                }
                else
                {
                    yield return (row, null);
                }
            }

            yield return (current, previous);
        }
    }

    /// <summary>The times a uid's own newest booking event states (for the older rows of a chain).</summary>
    private static (DateTimeOffset? Start, DateTimeOffset? End) TimesOf(BookingFacts facts, string uid) =>
        facts.Events.Where(e => e.Uid == uid && e.StartTime is not null).OrderByDescending(e => e.CreatedAt).Select(e => (e.StartTime, e.EndTime)).FirstOrDefault();

    private static BookingEvent Read(byte[] body)
    {
        var read = CalcomWebhookReader.Read(body);
        return read.Event ?? throw new InvalidOperationException($"body did not read: {read.Kind} {string.Join("; ", read.Errors)}");
    }
}
