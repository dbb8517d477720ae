using System.Collections.Concurrent;
using System.Diagnostics;
using AskPro.Functions.Appointments;
using AskPro.Functions.Calcom;
using AskPro.Functions.Reconciliation;
using AskPro.Functions.Tests.Appointments;
using AskPro.Functions.Tests.Infrastructure;
using Xunit.Abstractions;
using static AskPro.Functions.Tests.Appointments.BookComparison;
using static AskPro.Functions.Tests.Reconciliation.ApiSnapshot;

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
    /// <summary>Every this many cases also checks a seated slot (25,000 slots; the whole property's runtime stays near what it was).</summary>
    public const int SeatedEvery = 4;

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

            if (Difference(first, second) is { } difference)
            {
                return ($"two orders of the same deliveries differ: {difference}\n{scenario}", scenario.Lifecycles.Count, stale);
            }

            // And a seated slot of the same case: a pass compared seat by seat (SeatDrift) against partly delivered webhooks.
            if (index % SeatedEvery == 0 && SeatedCheck(random) is { } seated)
            {
                return (seated, scenario.Lifecycles.Count, stale);
            }

            return (null, scenario.Lifecycles.Count, stale);
        }
        catch (Exception ex)
        {
            return ($"threw {ex}\n{scenario}", scenario.Lifecycles.Count, 0);
        }
    }

    private const string SeatedUid = "SeatPropSlot00000000001";
    private static readonly string[] SeatedEmails = ["ada@example.com", "ben@example.org", "cem@example.net", "dora@example.de"];

    /// <summary>One seated slot's life as Cal.com lives it: its webhooks and, after each, what its API row shows.</summary>
    internal sealed record SeatedLife(List<BookingEvent> Events, List<CalcomApiBooking> Rows)
    {
        public override string ToString() => string.Join(", ", Events.Select(e => $"{e.TriggerEvent}[{string.Join("+", e.Attendees?.Select(a => a.Email![..3]) ?? [])}]@{e.CreatedAt:HH:mm}"));
    }

    /// <summary>
    /// A seated slot: attendees book and cancel seats (the last seat's cancel cancels the booking), the owner moves the
    /// slot, the host may cancel it. The API row lists the seats active then; <c>updatedAt</c> moves only when the booking
    /// row changes (created, moved, cancelled as a whole), never for a seat booked or cancelled into a live slot.
    /// </summary>
    internal static SeatedLife SeatedLifeOf(Random random)
    {
        var t = new DateTimeOffset(2026, 3, 2, 8, 0, 0, TimeSpan.Zero).AddMinutes(random.Next(0, 600));
        var start = t.AddDays(random.Next(1, 20));
        var updatedAt = t;
        var active = new List<string>();
        var seatIds = new Dictionary<string, string>(StringComparer.Ordinal);
        var events = new List<BookingEvent>();
        var rows = new List<CalcomApiBooking>();
        var status = "accepted";
        string? reason = null;
        var listedWhenCancelled = new List<string>();
        var steps = random.Next(2, 10);
        for (var i = 0; i < steps && status == "accepted"; i++)
        {
            t = t.AddMinutes(random.Next(1, 30));
            var free = SeatedEmails.Where(e => !active.Contains(e)).ToList();
            var roll = random.Next(100);
            BookingEvent e;
            if (i == 0 || (active.Count == 0) || (roll < 45 && free.Count > 0))
            {
                var who = free[random.Next(free.Count)];
                seatIds[who] = $"seat{events.Count:D2}{who[..3]}Q9LpR2wKc7V";
                active.Add(who);
                updatedAt = i == 0 ? t : updatedAt; // the first seat creates the booking row
                e = SeatEvent(CalcomTriggers.BookingCreated, t, start, [who], seatIds[who]);
            }
            else if (roll < 75)
            {
                var who = active[random.Next(active.Count)];
                active.Remove(who);
                // Each cancel in its own words: two identical cancels of one attendee would be one event (BookingFacts).
                e = SeatEvent(CalcomTriggers.BookingCancelled, t, start, [who], null) with { CancellationReason = $"Absage {events.Count}" };
                if (active.Count == 0)
                {
                    // The last seat: Cal.com's normal cancel path cancels the booking row, that attendee still listed.
                    (status, updatedAt, reason, listedWhenCancelled) = ("cancelled", t, "Kann leider nicht.", [who]);
                }
            }
            else if (roll < 92)
            {
                start = start.AddHours(random.Next(1, 48));
                updatedAt = t;
                e = SeatEvent(CalcomTriggers.BookingRescheduled, t, start, [.. active], null) with { RescheduleUid = SeatedUid };
            }
            else
            {
                (status, updatedAt, reason, listedWhenCancelled) = ("cancelled", t, "Kurs fällt aus.", [.. active]);
                e = SeatEvent(CalcomTriggers.BookingCancelled, t, start, [.. active], null) with { CancellationReason = reason };
                active.Clear();
            }

            events.Add(e);
            var listed = status == "accepted" ? active : listedWhenCancelled;
            rows.Add(new CalcomApiBooking
            {
                Id = 5100001, Uid = SeatedUid, Title = "Rückenschule (Gruppe)", Status = status, Start = start, End = start.AddMinutes(90),
                UpdatedAt = updatedAt, Hosts = [new CalcomApiPerson { Id = 98765, Email = "anna.schmidt@praxis-example.de", Name = "Dr. Anna Schmidt" }],
                Location = "Hauptstraße 12, 10115 Berlin", CancellationReason = reason ?? "",
                Attendees = [.. listed.Select(a => new CalcomApiPerson { Name = NameOf(a), Email = a, SeatUid = seatIds[a] })],
            });
        }

        return new SeatedLife(events, rows);

        static string NameOf(string email) => char.ToUpperInvariant(email[0]) + email[1..email.IndexOf('@')];

        static BookingEvent SeatEvent(string trigger, DateTimeOffset at, DateTimeOffset start, List<string> who, string? seatId) => new()
        {
            TriggerEvent = trigger,
            Uid = SeatedUid,
            CreatedAt = at,
            BookingId = 5100001,
            Title = "Rückenschule (Gruppe)",
            StartTime = start,
            EndTime = start.AddMinutes(90),
            SeatsPerTimeSlot = 4,
            Organizer = new Person("Dr. Anna Schmidt", "anna.schmidt@praxis-example.de", null),
            OrganizerId = 98765,
            Location = "Hauptstraße 12, 10115 Berlin",
            AttendeeSeatId = seatId,
            Attendees = [.. who.Select(a => new Attendee(NameOf(a), a, null, null, seatId))],
            Status = trigger == CalcomTriggers.BookingCancelled ? "CANCELLED" : "ACCEPTED",
        };
    }

    /// <summary>
    /// The seated half of a case. A pass reads the API after a random number of the slot's changes, while the records
    /// hold a random part of its webhooks (some lost, some from after the read: a pass races deliveries); it queues what
    /// <see cref="SeatDrift"/> decides, as <see cref="SyntheticWebhook.SeatBody"/> bodies. Then (1) every webhook plus
    /// those bodies, in any order with duplicates, give exactly the seats full delivery gives: a snapshot never undoes a
    /// change; (2) a pass that reads the final state repairs the partial records into full delivery's seats, for every
    /// attendee the API or a delivered webhook still names (a seat booked and cancelled with both webhooks lost has left
    /// no trace anywhere).
    /// </summary>
    internal static string? SeatedCheck(Random random)
    {
        var life = SeatedLifeOf(random);
        var fullBook = BookOf(life.Events);
        var full = SeatKeys(fullBook);
        var delivered = life.Events.Where(_ => random.NextDouble() < 0.6).ToList();
        var k = random.Next(1, life.Events.Count + 1);
        var stale = Pass(life.Rows[k - 1], delivered, life.Events[k - 1].CreatedAt!.Value.AddSeconds(1));
        var all = life.Events.Concat(stale.Select(Read)).ToList();
        all.AddRange(all.Where(_ => random.NextDouble() < 0.2).ToList());
        var shuffled = SeatKeys(BookOf(all.OrderBy(_ => random.Next())));
        if (shuffled != full)
        {
            return $"seated: a pass that read after change {k} undid a change:\n  with its events {shuffled}\n  webhooks alone {full}\n  life {life}\n  delivered {delivered.Count}: {new SeatedLife(delivered, [])}";
        }

        // A pass well after the last change, over the same partial records.
        var final = Pass(life.Rows[^1], delivered, life.Events[^1].CreatedAt!.Value.AddHours(1));
        // Owner moves list the seats but make none (they are about the slot): only seat events leave a record of a seat.
        var named = delivered.Where(e => e.RescheduleUid != e.Uid).SelectMany(e => e.Attendees ?? []).Select(a => a.Email!)
            .Concat(life.Rows[^1].Attendees!.Select(a => a.Email!)).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var repaired = SeatKeys(BookOf([.. delivered, .. final.Select(Read)]), named);
        var want = SeatKeys(fullBook, named);
        return repaired == want ? null
            : $"seated: a pass after the last change left\n  {repaired}\n  full delivery {want}\n  life {life}\n  delivered {delivered.Count}: {new SeatedLife(delivered, [])}";

        static List<byte[]> Pass(CalcomApiBooking row, List<BookingEvent> delivered, DateTimeOffset readAt)
        {
            var stored = BookOf(delivered).FindByUid(SeatedUid);
            var comparison = SeatDrift.Compare(row, [.. (stored?.Seats ?? []).Select(s => s.Record)], stored?.Facts ?? BookingFacts.Empty, readAt, TimeSpan.Zero);
            return [.. comparison.Repairs.Select(r => SyntheticWebhook.SeatBody(row, r.Trigger, r.Attendees, comparison.SeatsPerTimeSlot, r.CreatedAt, "pass-prop", r.RescheduleUid))];
        }
    }

    private static AppointmentBook BookOf(IEnumerable<BookingEvent> events)
    {
        var book = new AppointmentBook();
        foreach (var e in events)
        {
            book.Apply(e);
        }

        return book;
    }

    /// <summary>The slot's seats (of <paramref name="only"/>'s attendees, when given) on the fields a caller relies on, as one string.</summary>
    private static string SeatKeys(AppointmentBook book, HashSet<string>? only = null) =>
        string.Join(" | ", (book.FindByUid(SeatedUid)?.Seats ?? []).Select(s => s.Record).Where(a => only is null || only.Contains(a.CustomerEmail!))
            .Select(a => $"{a.CustomerEmail} {Key(a)}"));

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

    private static BookingEvent Read(byte[] body)
    {
        var read = CalcomWebhookReader.Read(body);
        return read.Event ?? throw new InvalidOperationException($"body did not read: {read.Kind} {string.Join("; ", read.Errors)}");
    }
}
