using AskPro.Functions.Tests.Infrastructure;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using AskPro.Functions.Appointments;
using AskPro.Functions.Calcom;
using Xunit.Abstractions;
using static AskPro.Functions.Tests.Appointments.BookComparison;

namespace AskPro.Functions.Tests.Appointments;

/// <summary>
/// Issue 3's order-independence property: for generated lifecycles, any order and any duplication of their webhook
/// bodies gives the same appointment book as in-order delivery, and that book says what the lifecycles did.
/// Every case has its own seed (<see cref="BaseSeed"/> and the case index): a failure names both, and
/// <see cref="One_generated_case_replays_from_its_seed_and_index"/> replays it alone.
/// </summary>
[Collection(RunsAloneCollection.Name)]
public sealed class ConvergencePropertyTests(ITestOutputHelper output)
{
    public const int BaseSeed = 20_260_125;
    public const int Cases = 100_000;
    /// <summary>
    /// Share of generated lifecycles that are seated event types (one appointment per seat): about 6,000 of the
    /// 200,000. Kept this low because a seated apply costs several times a plain one (docs/testing.md#order-independence).
    /// </summary>
    public const double SeatedRate = 0.03;

    [Fact]
    public void Any_order_and_any_duplication_of_generated_lifecycles_converges_to_in_order_delivery()
    {
        var stats = new Stats();
        var failures = new ConcurrentDictionary<int, string>();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var watch = Stopwatch.StartNew();
        Parallel.For(0, Cases, (i, state) =>
        {
            if (Check(BaseSeed, i, stats) is { } failure)
            {
                failures[i] = failure;
                state.Stop();
            }
        });
        watch.Stop();
        cpu = Process.GetCurrentProcess().TotalProcessorTime - cpu;
        output.WriteLine($"{Cases} cases ({stats.Lifecycles} lifecycles, {stats.Bodies} bodies in order, {stats.Deliveries} deliveries) in {watch.Elapsed.TotalSeconds:F1} s wall-clock, {cpu.TotalSeconds:F1} s CPU on {Environment.ProcessorCount} cores");
        output.WriteLine(stats.ToString());

        if (!failures.IsEmpty)
        {
            var first = failures.Keys.Min();
            Assert.Fail($"{failures.Count} case(s) failed; first: seed {BaseSeed}, case {first}: {failures[first]}");
        }

        // The property only means something if the generator reached the interesting situations.
        Assert.True(stats.TerminalBeforeCreate > 1000, $"a cancel or reject arrived before its create in only {stats.TerminalBeforeCreate} cases");
        Assert.True(stats.ConflictsAtEnd > 1000, $"overlaps flagged at the end in only {stats.ConflictsAtEnd} cases");
        Assert.True(stats.ConflictsResolved > 1000, $"overlaps flagged and later cleared in only {stats.ConflictsResolved} cases");
        Assert.True(stats.InternalLifecycles > 10_000 && stats.SeedLifecycles > 10_000, stats.ToString());
        Assert.True(stats.ThreeStepChains > 1000 && stats.HostRequestedRevived > 1000 && stats.AttendeeRequestedReschedules > 1000, stats.ToString());
        Assert.True(stats.Reassigned > 1000 && stats.LocationUpdates > 1000 && stats.HostNoShows > 1000 && stats.OtherOrganizerAddress > 10_000, stats.ToString());
        Assert.True(stats.RedeliveredLater > 10_000 && stats.SameBytesTwice > 10_000 && stats.Reversed > 1000, stats.ToString());
        // Seed-shaped (id-less) bookings meeting Cal.com bookings of the same address through an e-mail alias.
        Assert.True(stats.AliasFiled > 5000 && stats.AliasConflicts > 1000, stats.ToString());
        // Seated lifecycles (about 6,000): every kind of seat step, a seat ending in conflict, a cancel before its booking.
        Assert.True(stats.Seated > 4000 && stats.SeatStory("seat-cancel") > 1500 && stats.SeatStory("last-seat-cancel") > 400 && stats.SeatStory("host-cancel") > 600, stats.ToString());
        Assert.True(stats.SeatStory("seat-move-empty") > 1000 && stats.SeatStory("seat-move-into") > 400 && stats.SeatStory("owner-move") > 600, stats.ToString());
        Assert.True(stats.SeatStory("seat-after-cancel") > 100 && stats.SeatStory("seat-rebooked") > 40 && stats.SeatStory("seat-relocated") > 500
            && stats.SeatStory("seat-host-changed") > 500 && stats.SeatStory("seat-no-show") > 600, stats.ToString());
        Assert.True(stats.SeatConflictsAtEnd > 800 && stats.SlotCancelledBeforeBooked > 1200, stats.ToString());
        // Seed-shaped (id-less) bookings meeting Cal.com bookings of the same address through an e-mail alias.
        Assert.True(stats.AliasFiled > 5000 && stats.AliasConflicts > 1000, stats.ToString());
        // Seated lifecycles (about 10,000): every kind of seat step, a seat ending in conflict, a cancel before its booking.
        Assert.True(stats.Seated > 5000 && stats.SeatStory("seat-cancel") > 2000 && stats.SeatStory("last-seat-cancel") > 500 && stats.SeatStory("host-cancel") > 800, stats.ToString());
        Assert.True(stats.SeatStory("seat-move-empty") > 1500 && stats.SeatStory("seat-move-into") > 500 && stats.SeatStory("owner-move") > 800, stats.ToString());
        Assert.True(stats.SeatStory("seat-after-cancel") > 150 && stats.SeatStory("seat-rebooked") > 60 && stats.SeatStory("seat-relocated") > 600
            && stats.SeatStory("seat-host-changed") > 600 && stats.SeatStory("seat-no-show") > 800, stats.ToString());
        Assert.True(stats.SeatConflictsAtEnd > 1000 && stats.SlotCancelledBeforeBooked > 1500, stats.ToString());
    }

    [Theory]
    [InlineData(BaseSeed, 0)]
    [InlineData(BaseSeed, 1)]
    [InlineData(BaseSeed, 99_999)]
    [InlineData(BaseSeed, 9538)] // seated: two seat holders swap slots (O → T, then T → O)
    [InlineData(BaseSeed, 19_657)] // seated: a seat moved O → N → M, then another seat of O moves into M
    public void One_generated_case_replays_from_its_seed_and_index(int seed, int index)
    {
        var failure = Check(seed, index, new Stats());
        Assert.True(failure is null, $"seed {seed}, case {index}: {failure}");
    }

    [Fact]
    public void The_generator_gives_the_same_bodies_for_the_same_seed()
    {
        var a = new LifecycleGenerator(7).NextScenario().InOrder;
        var b = new LifecycleGenerator(7).NextScenario().InOrder;
        var c = new LifecycleGenerator(8).NextScenario().InOrder;
        Assert.Equal(a.Select(e => Convert.ToHexString(e.Body)), b.Select(e => Convert.ToHexString(e.Body)));
        Assert.NotEqual(a.Select(e => Convert.ToHexString(e.Body)), c.Select(e => Convert.ToHexString(e.Body)));
    }

    [Fact]
    public void Every_generated_seated_body_reads_as_a_seated_booking_event_naming_the_uid_the_generator_says()
    {
        var generator = new LifecycleGenerator(BaseSeed, seatedRate: 1);
        var triggers = new HashSet<string>(StringComparer.Ordinal);
        foreach (var lifecycle in generator.NextLifecycles(2000))
        {
            Assert.True(lifecycle.IsSeated, lifecycle.ToString());
            Assert.Equal(lifecycle.Events.OrderBy(e => e.SentAt), lifecycle.Events);
            Assert.True(lifecycle.Seats!.Count >= 2, lifecycle.ToString());
            foreach (var e in lifecycle.Events)
            {
                var read = CalcomWebhookReader.Read(e.Body);
                Assert.True(read.Kind == WebhookKind.Booking, $"{lifecycle} {e}: {read.Kind} {string.Join("; ", read.Errors)}");
                Assert.Equal((e.TriggerEvent, e.Uid, e.CreatedAt), (read.Event!.TriggerEvent, read.Event.Uid, read.Event.CreatedAt!.Value));
                Assert.True(read.Event.IsSeated || e.TriggerEvent == CalcomTriggers.BookingNoShowUpdated, $"{lifecycle} {e}: not seated");
                Assert.Contains(e.Uid, lifecycle.Uids);
                triggers.Add(e.TriggerEvent);
                var reread = CalcomWebhookReader.Read(DeliveryShuffler.WithCreatedAt(e.Body, e.CreatedAt.AddMinutes(3))).Event!;
                Assert.Equal(BookingFacts.Fingerprint(read.Event), BookingFacts.Fingerprint(reread));
            }
        }

        Assert.Equal(
            new[] { "BOOKING_CANCELLED", "BOOKING_CREATED", "BOOKING_LOCATION_UPDATED", "BOOKING_NO_SHOW_UPDATED", "BOOKING_REASSIGNED", "BOOKING_RESCHEDULED" },
            triggers.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Every_generated_body_reads_as_a_booking_event_naming_the_uid_the_generator_says()
    {
        var generator = new LifecycleGenerator(BaseSeed);
        var triggers = new HashSet<string>(StringComparer.Ordinal);
        foreach (var lifecycle in generator.NextLifecycles(2000))
        {
            Assert.Equal(lifecycle.Events.OrderBy(e => e.SentAt), lifecycle.Events);
            foreach (var e in lifecycle.Events)
            {
                var read = CalcomWebhookReader.Read(e.Body);
                Assert.True(read.Kind == WebhookKind.Booking, $"{lifecycle} {e}: {read.Kind} {string.Join("; ", read.Errors)}");
                Assert.Equal(e.TriggerEvent, read.Event!.TriggerEvent);
                Assert.Equal(e.Uid, read.Event.Uid);
                Assert.Equal(e.CreatedAt, read.Event.CreatedAt);
                triggers.Add(e.TriggerEvent);

                var again = DeliveryShuffler.WithCreatedAt(e.Body, e.CreatedAt.AddMinutes(3));
                var reread = CalcomWebhookReader.Read(again).Event!;
                Assert.Equal(e.CreatedAt.AddMinutes(3), reread.CreatedAt);
                Assert.Equal(BookingFacts.Fingerprint(read.Event), BookingFacts.Fingerprint(reread));
                Assert.Equal(e.Body.Length, again.Length);
            }
        }

        Assert.Equal(
            new[] { "AFTER_HOSTS_CAL_VIDEO_NO_SHOW", "BOOKING_CANCELLED", "BOOKING_CONFIRMED", "BOOKING_CREATED", "BOOKING_LOCATION_UPDATED", "BOOKING_NO_SHOW_UPDATED", "BOOKING_PAID", "BOOKING_PAYMENT_INITIATED", "BOOKING_REASSIGNED", "BOOKING_REJECTED", "BOOKING_REQUESTED", "BOOKING_RESCHEDULED", "MEETING_ENDED" },
            triggers.Order(StringComparer.Ordinal));
    }

    /// <summary>One case: null when it holds, else what went wrong (with the scenario and the delivery order).</summary>
    internal static string? Check(int seed, int index, Stats stats)
    {
        var random = new Random(unchecked((seed * 1_000_003) + index));
        var scenario = new LifecycleGenerator(random, SeatedRate).NextScenario();
        var inOrder = scenario.InOrder;
        var delivery = DeliveryShuffler.Delivery(random, inOrder);
        // The delivery trace is only written out for a failure message.
        var delivered = new List<BookingEvent>();
        string Trace() => string.Concat(delivered.Select(e => $"{e.TriggerEvent} {e.Uid}{(e.RescheduleUid is { } r ? "<" + r : "")} @{e.CreatedAt:O}\n"));
        // Each distinct body is read once (a byte-identical duplicate reads the same); re-sends are distinct bodies.
        var readCache = new Dictionary<byte[], BookingEvent>(ReferenceEqualityComparer.Instance);
        BookingEvent Read(byte[] body)
        {
            if (!readCache.TryGetValue(body, out var e))
            {
                readCache[body] = e = ConvergencePropertyTests.Read(body);
            }

            return e;
        }

        try
        {
            var expected = new AppointmentBook();
            var firstOfLifecycle = scenario.Lifecycles.Select(l => l.Events[0]).ToHashSet();
            var ofSeated = scenario.Lifecycles.Where(l => l.IsSeated).SelectMany(l => l.Events).ToHashSet();
            var sawConflict = false;
            var sent = new HashSet<string>(StringComparer.Ordinal);
            foreach (var g in inOrder)
            {
                var e = Read(g.Body);
                var result = expected.Apply(e);
                sawConflict |= result.ConflictsWith.Count > 0;
                // The same content sent again (e.g. a second identical no-show update) counts once: Cal.com sends no delivery id.
                var fresh = sent.Add(BookingFacts.Fingerprint(e));
                if (ofSeated.Contains(g))
                {
                    // The contract leaves open whether a new seat in a known slot is Created or Updated; new content
                    // must change something, repeated content nothing.
                    if (fresh ? result.Outcome is not (ApplyOutcome.Created or ApplyOutcome.Updated) : result.Outcome != ApplyOutcome.Unchanged)
                    {
                        return $"in order, seated {g} gave {result.Outcome}, expected {(fresh ? "Created or Updated" : "Unchanged")}\n{scenario}";
                    }

                    continue;
                }

                var want = !fresh ? ApplyOutcome.Unchanged
                    : e.TriggerEvent == CalcomTriggers.BookingCreated && e.AskProAppointmentId is not null ? ApplyOutcome.Skipped
                    : firstOfLifecycle.Contains(g) ? ApplyOutcome.Created : ApplyOutcome.Updated;
                if (result.Outcome != want)
                {
                    return $"in order, {g} gave {result.Outcome}, expected {want}\n{scenario}";
                }
            }

            var actual = new AppointmentBook();
            var applied = new Dictionary<string, DateTimeOffset?>(StringComparer.Ordinal);
            foreach (var body in delivery)
            {
                var e = Read(body);
                delivered.Add(e);
                var fingerprint = BookingFacts.Fingerprint(e);
                var result = actual.Apply(e);
                if (applied.TryGetValue(fingerprint, out var at) && Nullable.Compare(at, e.CreatedAt) <= 0 && result.Outcome != ApplyOutcome.Unchanged)
                {
                    return $"a delivery of content applied before (at {at:O}) gave {result.Outcome}, not Unchanged: {e.TriggerEvent} {e.Uid}\n{scenario}\ndelivered:\n{Trace()}";
                }

                applied[fingerprint] = at is { } earlier && Nullable.Compare(earlier, e.CreatedAt) < 0 ? earlier : e.CreatedAt;
            }

            if (Difference(expected, actual) is { } difference)
            {
                return $"shuffled delivery differs from in-order delivery: {difference}\n{scenario}\ndelivered:\n{Trace()}";
            }

            if (Invariants(scenario, expected) is { } broken)
            {
                return $"{broken}\n{scenario}";
            }

            stats.Count(scenario, inOrder, delivery, sawConflict, expected);
            return null;
        }
        catch (Exception ex)
        {
            return $"threw {ex}\n{scenario}\ndelivered:\n{Trace()}";
        }
    }

    private static BookingEvent Read(byte[] body)
    {
        var read = CalcomWebhookReader.Read(body);
        return read.Event ?? throw new InvalidOperationException($"generated body did not read: {read.Kind} {string.Join("; ", read.Errors)}: {Encoding.UTF8.GetString(body)}");
    }

    /// <summary>What the in-order book must say about the scenario's lifecycles, or what it says wrongly.</summary>
    internal static string? Invariants(Scenario scenario, AppointmentBook book)
    {
        // Staff aliases: an address that any event of the scenario pairs with a user id files id-less bookings with a
        // range under that id (the generator gives each address one id).
        var paired = scenario.Lifecycles.SelectMany(l => l.Events).Select(e => Read(e.Body)).Where(e => e.OrganizerId is not null && e.Organizer?.Email is not null)
            .GroupBy(e => e.Organizer!.Email!.Trim().ToUpperInvariant()).ToDictionary(g => g.Key, g => g.Min(e => e.OrganizerId!.Value));
        // Every record belongs to exactly one lifecycle: a non-seated one has one record, a seated one a record per
        // group of slots its seats' moves join (its uids all reach one).
        var ownersOf = new Dictionary<Lifecycle, List<string>>(ReferenceEqualityComparer.Instance);
        var ownerOf = new Dictionary<string, Lifecycle>(StringComparer.Ordinal);
        foreach (var lifecycle in scenario.Lifecycles)
        {
            var owners = lifecycle.Uids.Select(u => book.UidIndex.TryGetValue(u, out var id) ? id : "(none)").Distinct(StringComparer.Ordinal).ToList();
            if ((!lifecycle.IsSeated && owners.Count != 1) || owners.Exists(o => !book.Records.ContainsKey(o)))
            {
                return $"{lifecycle}: uids point at [{string.Join(", ", owners)}], not {(lifecycle.IsSeated ? "records" : "one record")}";
            }

            foreach (var o in owners)
            {
                if (!ownerOf.TryAdd(o, lifecycle))
                {
                    return $"{lifecycle}: record {o} also holds {ownerOf[o]}";
                }
            }

            ownersOf[lifecycle] = owners;
        }

        if (ownerOf.Count != book.Records.Count)
        {
            return $"{scenario.Lifecycles.Count} lifecycles gave {book.Records.Count} records, {ownerOf.Count} of them theirs";
        }

        var records = new List<Appointment>();
        foreach (var lifecycle in scenario.Lifecycles.Where(l => !l.IsSeated))
        {
            var stored = book.Records[ownersOf[lifecycle][0]];
            var r = stored.Record;
            records.Add(r);
            if (!r.CalcomUids.SequenceEqual(lifecycle.Uids))
            {
                return $"{lifecycle}: record uids [{string.Join(", ", r.CalcomUids)}], expected the chain in order";
            }

            if (r.CalcomUid != lifecycle.FinalUid || r.Status != lifecycle.ExpectedStatus)
            {
                return $"{lifecycle}: record is {r.CalcomUid} {r.Status}, expected {lifecycle.FinalUid} {lifecycle.ExpectedStatus}";
            }

            if (r.IsInternal != lifecycle.Internal)
            {
                return $"{lifecycle}: record internal = {r.IsInternal}";
            }

            if (r.RescheduleRequested != lifecycle.Story.EndsWith("host-requested-reschedule", StringComparison.Ordinal))
            {
                return $"{lifecycle}: RescheduleRequested = {r.RescheduleRequested}";
            }

            // The host at the end (a reassignment changes it in place), keyed by user id where Cal.com sends one.
            // A seed lifecycle learns the id from a flat MEETING_ENDED row (userId) when it has one.
            // A reassignment whose content repeats an earlier one (A→B, B→A, A→B) is indistinguishable from a re-delivery
            // and counts once, at its first time (docs/records.md#free-text-and-known-limits): the end host is then not decidable.
            var reassignments = lifecycle.Events.Where(e => e.TriggerEvent == CalcomTriggers.BookingReassigned).Select(e => BookingFacts.Fingerprint(Read(e.Body))).ToList();
            var repeated = reassignments.Count != reassignments.Distinct(StringComparer.Ordinal).Count();
            var idKnown = lifecycle.Events.Any(e => e.Body.AsSpan().IndexOf("\"organizer\":{\"id\":"u8) >= 0 || e.Body.AsSpan().IndexOf("\"userId\":"u8) >= 0);
            var aliased = !idKnown && r.HasActiveRange && paired.TryGetValue(lifecycle.EndStaff.Email.ToUpperInvariant(), out var aliasId) ? aliasId : (long?)null;
            if (!repeated && (r.StaffEmail != lifecycle.EndStaff.Email || r.StaffKey != (idKnown ? "u" + lifecycle.EndStaff.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)
                : aliased is { } a ? "u" + a.ToString(System.Globalization.CultureInfo.InvariantCulture) : AppointmentProjection.StaffKeyOf(lifecycle.EndStaff.Email))))
            {
                return $"{lifecycle}: staff {r.StaffEmail} ({r.StaffKey}), expected {lifecycle.EndStaff.Email}";
            }

            if (r.HostNoShow != (lifecycle.Story.Contains("host-no-show", StringComparison.Ordinal) ? true : null))
            {
                return $"{lifecycle}: HostNoShow = {r.HostNoShow}";
            }

            var noShows = lifecycle.Events.Where(e => e.TriggerEvent == CalcomTriggers.BookingNoShowUpdated).Select(e => Read(e.Body).NoShowAttendees[0].NoShow).ToList();
            // A repeated update with the same content is indistinguishable from a re-delivery (Cal.com sends no delivery id).
            if (noShows.Count == noShows.Distinct().Count() && r.CustomerNoShow != (noShows.Count == 0 ? null : noShows[^1]))
            {
                return $"{lifecycle}: CustomerNoShow = {r.CustomerNoShow}";
            }
        }

        // The calendar: every active non-seated record, and every seated slot once while any seat in it is active.
        var ranges = records.Where(r => r.HasActiveRange).Select(r => new Range(r.AppointmentId, r.StaffKey!, r.StartTime!.Value, r.EndTime!.Value)).ToList();
        var activeSeats = new List<(StoredAppointment Stored, Range Slot)>();
        foreach (var lifecycle in scenario.Lifecycles.Where(l => l.IsSeated))
        {
            if (SeatInvariants(lifecycle, ownersOf[lifecycle].Select(o => book.Records[o]).ToList(), ranges, activeSeats) is { } broken)
            {
                return broken;
            }
        }

        // Conflicts are exactly the overlaps of active ranges of the same staff member, on both sides; seats of one
        // slot never conflict with each other, and every active seat carries its slot's conflicts.
        List<string> Overlapping(Range mine) => ranges.Where(o => o.Id != mine.Id && o.StaffKey == mine.StaffKey && o.Start < mine.End && mine.Start < o.End)
            .Select(o => o.Id).Order(StringComparer.Ordinal).ToList();
        foreach (var r in records)
        {
            var overlapping = r.HasActiveRange ? Overlapping(new Range(r.AppointmentId, r.StaffKey!, r.StartTime!.Value, r.EndTime!.Value)) : [];
            var flagged = book.Records[r.AppointmentId].ConflictsWith;
            if (!flagged.SequenceEqual(overlapping))
            {
                return $"{r.AppointmentId} ({r.CalcomUid} {r.Status} {r.StartTime:O}..{r.EndTime:O}) conflicts with [{string.Join(", ", flagged)}], overlaps [{string.Join(", ", overlapping)}]";
            }
        }

        foreach (var (seat, slot) in activeSeats)
        {
            var overlapping = Overlapping(slot);
            if (!seat.ConflictsWith.SequenceEqual(overlapping))
            {
                var r = seat.Record;
                return $"seat {r.AppointmentId} ({r.CalcomUid} {r.Status} slot {slot.Id} {slot.Start:O}..{slot.End:O}) conflicts with [{string.Join(", ", seat.ConflictsWith)}], overlaps [{string.Join(", ", overlapping)}]";
            }
        }

        return null;
    }

    private sealed record Range(string Id, string StaffKey, DateTimeOffset Start, DateTimeOffset End);

    /// <summary>
    /// A seated lifecycle's records say what the generator did: one seat per person and root (its chain, status, own
    /// customer, its slot's times, host and location), slots active exactly while a seat in them is, and the store's
    /// seats (<see cref="StoredAppointment.Seats"/>) the projected ones. Adds the active slots to the calendar.
    /// </summary>
    private static string? SeatInvariants(Lifecycle lifecycle, List<StoredAppointment> groups, List<Range> ranges, List<(StoredAppointment, Range)> activeSeats)
    {
        var projected = groups.SelectMany(g => SeatProjection.Project(g.Facts)).ToList();
        var expected = lifecycle.Seats!;
        var (want, got) = (expected.Select(e => e.AppointmentId).Order(StringComparer.Ordinal).ToList(), projected.Select(p => p.AppointmentId).Order(StringComparer.Ordinal).ToList());
        if (!want.SequenceEqual(got))
        {
            return $"{lifecycle}: seats [{string.Join(", ", got)}], expected [{string.Join(", ", want)}]\n  {string.Join("\n  ", projected)}";
        }

        var byId = projected.ToDictionary(p => p.AppointmentId, StringComparer.Ordinal);
        foreach (var e in expected)
        {
            var r = byId[e.AppointmentId];
            var wrong = !r.CalcomUids.SequenceEqual(e.Chain) || r.CalcomUid != e.CurrentUid ? $"uids [{string.Join(">", r.CalcomUids)}], expected [{string.Join(">", e.Chain)}]"
                : r.Status != e.Status ? $"status {r.Status}, expected {e.Status}"
                : !string.Equals(r.CustomerEmail, e.Email, StringComparison.OrdinalIgnoreCase) || r.CustomerName != e.Name || r.CustomerPhone != e.Phone
                    ? $"customer {r.CustomerName} <{r.CustomerEmail}> {r.CustomerPhone}, expected {e.Name} <{e.Email}> {e.Phone}"
                : r.StartTime != e.Start || r.EndTime != e.End ? $"times {r.StartTime:O}..{r.EndTime:O}, expected {e.Start:O}..{e.End:O}"
                : r.StaffKey != "u" + e.Staff.Id.ToString(System.Globalization.CultureInfo.InvariantCulture) || r.StaffEmail != e.Staff.Email ? $"staff {r.StaffKey} {r.StaffEmail}, expected {e.Staff.Email}"
                : r.SlotId != e.SlotId || r.SeatsPerTimeSlot != SeatBodies.SeatsPerTimeSlot ? $"slot {r.SlotId} of {r.SeatsPerTimeSlot} seats, expected {e.SlotId}"
                : r.Location != e.Location ? $"location {r.Location}, expected {e.Location}"
                : r.CustomerNoShow != e.NoShow ? $"no-show {r.CustomerNoShow}, expected {e.NoShow}"
                : null;
            if (wrong is not null)
            {
                return $"{lifecycle}: seat {e.AppointmentId} of {e.Name}: {wrong}\n  {r}";
            }
        }

        var slots = groups.SelectMany(g => SeatProjection.Slots(g.Facts)).ToList();
        foreach (var uid in lifecycle.Uids)
        {
            var slot = slots.Find(s => s.Uid == uid);
            var activeIds = expected.Where(e => e.CurrentUid == uid && AppointmentStatus.IsActive(e.Status)).Select(e => e.AppointmentId).Order(StringComparer.Ordinal).ToList();
            if (slot is null || !slot.ActiveSeatIds.SequenceEqual(activeIds) || slot.IsActive != activeIds.Count > 0 || slot.SlotId != AppointmentProjection.AppointmentIdOf(uid))
            {
                return $"{lifecycle}: slot {uid} is {slot}, expected active seats [{string.Join(", ", activeIds)}]";
            }

            if (slot.IsActive)
            {
                ranges.Add(new Range(slot.SlotId, slot.StaffKey!, slot.Start!.Value, slot.End!.Value));
            }
        }

        var stored = groups.SelectMany(g => g.Seats).ToList();
        var storedIds = stored.Select(s => s.Record.AppointmentId).Order(StringComparer.Ordinal).ToList();
        if (!storedIds.SequenceEqual(got))
        {
            return $"{lifecycle}: stored seats [{string.Join(", ", storedIds)}], projected [{string.Join(", ", got)}]";
        }

        foreach (var s in stored)
        {
            if (!SameRecord(s.Record, byId[s.Record.AppointmentId]))
            {
                return $"{lifecycle}: stored seat {s.Record}\nis not the projected one\n  {byId[s.Record.AppointmentId]}";
            }

            if (AppointmentStatus.IsActive(s.Record.Status))
            {
                var slot = slots.Single(x => x.Uid == s.Record.CalcomUid);
                activeSeats.Add((s, new Range(slot.SlotId, slot.StaffKey!, slot.Start!.Value, slot.End!.Value)));
            }
            else if (!slots.Single(x => x.Uid == s.Record.CalcomUid).IsActive && s.ConflictsWith.Count > 0)
            {
                return $"{lifecycle}: seat {s.Record.AppointmentId} of an inactive slot conflicts with [{string.Join(", ", s.ConflictsWith)}]";
            }
        }

        return null;
    }

    internal sealed class Stats
    {
        private long _lifecycles, _bodies, _deliveries, _terminalBeforeCreate, _conflictsAtEnd, _conflictsResolved, _internal, _seed, _threeSteps, _revived, _attendeeRequested, _redelivered, _sameBytes, _reversed, _reassigned, _locationUpdates, _hostNoShows, _otherAddress, _aliasFiled, _aliasConflicts;

        private long _seated, _seatConflicts, _seatCancelFirst;
        private readonly ConcurrentDictionary<string, long> _seatStories = new(StringComparer.Ordinal);

        public long Seated => _seated;
        /// <summary>Seated lifecycles whose story has the step (counted once per lifecycle).</summary>
        public long SeatStory(string step) => _seatStories.GetValueOrDefault(step);
        /// <summary>Cases ending with a seat that conflicts with another booking or slot.</summary>
        public long SeatConflictsAtEnd => _seatConflicts;
        /// <summary>Seated lifecycles one of whose cancels was delivered before their first booking.</summary>
        public long SlotCancelledBeforeBooked => _seatCancelFirst;

        public long Reassigned => _reassigned;
        public long LocationUpdates => _locationUpdates;
        public long HostNoShows => _hostNoShows;
        public long OtherOrganizerAddress => _otherAddress;
        /// <summary>Id-less bookings holding a range under a user id through an e-mail alias, and those of them in conflict.</summary>
        public long AliasFiled => _aliasFiled;
        public long AliasConflicts => _aliasConflicts;

        public long Lifecycles => _lifecycles;
        public long Bodies => _bodies;
        public long Deliveries => _deliveries;
        public long TerminalBeforeCreate => _terminalBeforeCreate;
        public long ConflictsAtEnd => _conflictsAtEnd;
        public long ConflictsResolved => _conflictsResolved;
        public long InternalLifecycles => _internal;
        public long SeedLifecycles => _seed;
        public long ThreeStepChains => _threeSteps;
        public long HostRequestedRevived => _revived;
        public long AttendeeRequestedReschedules => _attendeeRequested;
        public long RedeliveredLater => _redelivered;
        public long SameBytesTwice => _sameBytes;
        public long Reversed => _reversed;

        public void Count(Scenario scenario, IReadOnlyList<GeneratedEvent> inOrder, List<byte[]> delivery, bool sawConflict, AppointmentBook final)
        {
            Interlocked.Add(ref _lifecycles, scenario.Lifecycles.Count);
            Interlocked.Add(ref _bodies, inOrder.Count);
            Interlocked.Add(ref _deliveries, delivery.Count);
            var hasConflict = final.Records.Values.Any(r => r.HasConflict);
            Interlocked.Add(ref _conflictsAtEnd, hasConflict ? 1 : 0);
            Interlocked.Add(ref _conflictsResolved, sawConflict && !hasConflict ? 1 : 0);
            Interlocked.Add(ref _seatConflicts, final.Records.Values.Any(r => r.Seats.Any(x => x.HasConflict)) ? 1 : 0);
            var aliasFiled = final.Records.Values.Where(r => r.Record.StaffUserId is null && r.Record.HasActiveRange && StaffAliases.IsUserKey(r.Record.StaffKey)).ToList();
            Interlocked.Add(ref _aliasFiled, aliasFiled.Count);
            Interlocked.Add(ref _aliasConflicts, aliasFiled.Count(r => r.HasConflict));
            var position = new Dictionary<byte[], int>(ReferenceEqualityComparer.Instance);
            for (var i = delivery.Count - 1; i >= 0; i--)
            {
                position[delivery[i]] = i;
            }

            Interlocked.Add(ref _sameBytes, delivery.Count - delivery.Distinct(ReferenceEqualityComparer.Instance).Count());
            Interlocked.Add(ref _redelivered, delivery.Count(b => !position.ContainsKey(b) || !inOrder.Any(e => ReferenceEquals(e.Body, b))));
            Interlocked.Add(ref _reversed, inOrder.Count > 2 && inOrder.Select(e => position[e.Body]).Zip(inOrder.Skip(1).Select(e => position[e.Body])).All(p => p.First > p.Second) ? 1 : 0);
            foreach (var l in scenario.Lifecycles)
            {
                if (l.IsSeated)
                {
                    Interlocked.Increment(ref _seated);
                    foreach (var step in l.Story.Split('>').Distinct(StringComparer.Ordinal))
                    {
                        _seatStories.AddOrUpdate(step, 1, (_, n) => n + 1);
                    }

                    var firstAt = position[l.Events[0].Body];
                    Interlocked.Add(ref _seatCancelFirst, l.Events.Any(e => e.TriggerEvent == CalcomTriggers.BookingCancelled && position[e.Body] < firstAt) ? 1 : 0);
                    continue;
                }

                Interlocked.Add(ref _internal, l.Internal ? 1 : 0);
                Interlocked.Add(ref _reassigned, l.Story.Contains("reassigned", StringComparison.Ordinal) ? 1 : 0);
                Interlocked.Add(ref _locationUpdates, l.Story.Contains("location-updated", StringComparison.Ordinal) ? 1 : 0);
                Interlocked.Add(ref _hostNoShows, l.Story.Contains("host-no-show", StringComparison.Ordinal) ? 1 : 0);
                Interlocked.Add(ref _otherAddress, l.EndStaff.Email != l.Staff.Email ? 1 : 0);
                Interlocked.Add(ref _seed, l.Shape == LifecycleShape.Seed ? 1 : 0);
                Interlocked.Add(ref _threeSteps, l.Uids.Count >= 3 ? 1 : 0);
                Interlocked.Add(ref _revived, l.Story.Contains("rescheduled-after-request", StringComparison.Ordinal) ? 1 : 0);
                Interlocked.Add(ref _attendeeRequested, l.Story.Contains("reschedule-requested", StringComparison.Ordinal) ? 1 : 0);
                var terminal = l.Events[^1].TriggerEvent is CalcomTriggers.BookingCancelled or CalcomTriggers.BookingRejected && l.ExpectedStatus is AppointmentStatus.Cancelled or AppointmentStatus.Rejected;
                Interlocked.Add(ref _terminalBeforeCreate, terminal && position[l.Events[^1].Body] < position[l.Events[0].Body] ? 1 : 0);
            }
        }

        public override string ToString() =>
            $"lifecycles {Lifecycles} (internal {InternalLifecycles}, seed {SeedLifecycles}, 3+ uids {ThreeStepChains}, revived after host request {HostRequestedRevived}, attendee reschedule requests {AttendeeRequestedReschedules}, reassigned {Reassigned}, location updates {LocationUpdates}, host no-shows {HostNoShows}, other organizer address {OtherOrganizerAddress}, id-less filed under an alias {AliasFiled}, of them in conflict {AliasConflicts}); " +
            $"terminal event before create {TerminalBeforeCreate}; conflicts at end {ConflictsAtEnd}, flagged then cleared {ConflictsResolved}; same bytes twice {SameBytesTwice}, redelivered {RedeliveredLater}, reversed {Reversed}; " +
            $"seated {Seated} ({string.Join(", ", _seatStories.Where(p => p.Key != "seated").OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key} {p.Value}"))}), seat conflicts at end {SeatConflictsAtEnd}, a cancel before the first booking {SlotCancelledBeforeBooked}";

    }
}
