using System.Collections.Concurrent;
using System.Diagnostics;
using AskPro.Functions.Appointments;
using AskPro.Functions.Tenants;
using AskPro.Functions.Tests.Infrastructure;
using Xunit.Abstractions;

namespace AskPro.Functions.Tests.Tenants;

/// <summary>
/// Issue 16's isolation property: two to five tenants (sometimes the default one among them) live overlapping stories
/// (<see cref="TenantStories"/>: the same uids, staff e-mails, user ids, booking ids and even the same signed bodies
/// in several tenants, and the same uid with other content), their deliveries interleaved at random with duplicates
/// and re-deliveries, each applied through the real queue processor as its tenant's proven delivery into one table on
/// Azurite. Every tenant's partition — every row: records, uid rows, staff calendars, aliases, seat groups, their
/// conflicts and histories — must equal what its own deliveries alone, in the order it got them, make in a fresh table.
/// Each case has its own seed (<see cref="BaseSeed"/> + case index), printed with every failure;
/// <see cref="One_case_replays_from_its_seed_and_index"/> replays one.
/// </summary>
[Collection(RunsAloneCollection.Name)]
public sealed class TenantIsolationPropertyTests(ITestOutputHelper output)
{
    public const int BaseSeed = 20_261_206;
    /// <summary>About 4,000 applies: 114 s on the shared 2-core machine at load average 28 (docs/testing.md#tenant-intake-and-isolation).</summary>
    public const int Cases = 24;

    [Fact]
    public async Task Each_tenants_partition_equals_its_own_deliveries_applied_alone_whatever_the_other_tenants_sent()
    {
        await using var azurite = await Azurite.StartAsync(allowExternal: false);
        var stats = new Stats();
        var failures = new ConcurrentDictionary<int, string>();
        var clock = Stopwatch.StartNew();
        // Two cases at a time: one waits on Azurite while the other applies.
        await Parallel.ForEachAsync(Enumerable.Range(0, Cases), new ParallelOptions { MaxDegreeOfParallelism = 2 }, async (i, _) =>
        {
            if (failures.IsEmpty && await CheckAsync(azurite.ConnectionString, BaseSeed, i, stats) is { } failure)
            {
                failures[i] = failure;
            }
        });
        clock.Stop();
        output.WriteLine($"{Cases} cases in {clock.Elapsed.TotalSeconds:F1} s: {stats}");

        if (!failures.IsEmpty)
        {
            var first = failures.Keys.Min();
            Assert.Fail($"{failures.Count} case(s) failed; first: seed {BaseSeed}, case {first}: {failures[first]}");
        }

        // The property only means something if the cases reached the overlaps it is about.
        Assert.True(stats.Tenants >= 2 * Cases && stats.WithDefault >= 3, stats.ToString());
        Assert.True(stats.SharedUids >= 3 * Cases && stats.SharedBodies >= 3 * Cases && stats.RenamedUids >= Cases, stats.ToString());
        Assert.True(stats.SharedStaffRows >= Cases && stats.ConflictRows >= Cases && stats.Seated >= 3, stats.ToString());
        Assert.True(stats.Duplicates >= 3 * Cases, stats.ToString());
    }

    [Theory]
    [InlineData(BaseSeed, 0)]
    public async Task One_case_replays_from_its_seed_and_index(int seed, int index)
    {
        await using var azurite = await Azurite.StartAsync(allowExternal: false);
        var stats = new Stats();
        var failure = await CheckAsync(azurite.ConnectionString, seed, index, stats);
        output.WriteLine(stats.ToString());
        Assert.True(failure is null, $"seed {seed}, case {index}: {failure}");
    }

    /// <summary>The tenants of a case: 2–5, the default tenant first in about a quarter of the cases.</summary>
    public static IReadOnlyList<string> TenantsOf(Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        var count = random.Next(2, 6);
        var withDefault = random.NextDouble() < 0.25;
        return [.. Enumerable.Range(0, count).Select(i => withDefault && i == 0 ? TenantIds.Default : $"praxis-{(char)('a' + i)}")];
    }

    private static async Task<string?> CheckAsync(string connectionString, int baseSeed, int index, Stats stats)
    {
        var seed = baseSeed + index;
        var random = new Random(seed);
        var tenants = TenantsOf(random);
        var stories = TenantStories.Generate(random.Next(), tenants, pool: 4, own: 2);
        var declared = tenants.Where(t => t != TenantIds.Default).ToList();
        try
        {
            await using var together = await TenantHarness.CreateAsync(connectionString, declared);
            foreach (var (tenant, body) in stories.Deliveries)
            {
                if (await together.ApplyAsync(tenant, body) is null)
                {
                    return $"a delivery to {tenant} was not applied (dead-lettered?)\n{Describe(stories)}";
                }
            }

            var partitions = tenants.Select(TenantIds.PartitionOf).Order(StringComparer.Ordinal).ToList();
            var actualPartitions = await together.PartitionsAsync();
            if (!partitions.SequenceEqual(actualPartitions))
            {
                return $"partitions [{string.Join(", ", actualPartitions)}], expected [{string.Join(", ", partitions)}]\n{Describe(stories)}";
            }

            var staffRows = new List<string>();
            foreach (var tenant in tenants)
            {
                await using var alone = await TenantHarness.CreateAsync(connectionString, declared.Where(t => t == tenant));
                foreach (var body in stories.DeliveriesOf(tenant))
                {
                    await alone.ApplyAsync(tenant, body);
                }

                var expected = await alone.PartitionRowsAsync(tenant);
                var actual = await together.PartitionRowsAsync(tenant);
                if (TenantHarness.Difference(expected, actual) is { } difference)
                {
                    return $"tenant {tenant}: {difference}\n{Describe(stories)}";
                }

                if ((await alone.PartitionsAsync()) is not [var only] || only != TenantIds.PartitionOf(tenant))
                {
                    return $"tenant {tenant} alone wrote outside its partition\n{Describe(stories)}";
                }

                // Every record row names its tenant (the default tenant's its own id) and, for a declared one, its company.
                foreach (var (key, columns) in actual.Where(r => r.Value.ContainsKey("CompanyId") && r.Value.ContainsKey("AppointmentId")))
                {
                    if (columns.GetValueOrDefault("TenantId") != tenant || (tenant != TenantIds.Default && columns["CompanyId"] != TenantHarness.CompanyOf(tenant)))
                    {
                        return $"tenant {tenant}: row {key} names tenant {columns.GetValueOrDefault("TenantId")} and company {columns["CompanyId"]}\n{Describe(stories)}";
                    }
                }

                staffRows.AddRange(actual.Keys.Where(k => k.StartsWith(AppointmentEntities.StaffPrefix, StringComparison.Ordinal)));
                stats.Add(actual);
            }

            stats.Add(stories, staffRows.GroupBy(k => k, StringComparer.Ordinal).Count(g => g.Count() > 1));
            return null;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return $"{ex.GetType().Name}: {ex.Message}\n{Describe(stories)}\n{ex}";
        }
    }

    /// <summary>The case as a reader needs it to reproduce by hand: tenants, lifecycles, the interleaved order.</summary>
    private static string Describe(TenantStories stories) =>
        $"{stories}\nlifecycles:\n  {string.Join("\n  ", stories.Tenants.SelectMany(t => t.Lifecycles.Select(l => $"{t.Tenant} {l}")))}"
        + $"\ndeliveries: {string.Join(", ", stories.Deliveries.Select(d => $"{d.Tenant}:{AskPro.Functions.Calcom.CalcomWebhookReader.Read(d.Body).Event?.TriggerEvent}:{AskPro.Functions.Queueing.WebhookQueue.DeliveryIdOf(d.Body)[..8]}"))}";

    private sealed class Stats
    {
        private int _tenants, _withDefault, _sharedUids, _sharedBodies, _renamed, _sharedStaffRows, _conflictRows, _seated, _duplicates, _deliveries;

        public int Tenants => _tenants;
        public int WithDefault => _withDefault;
        public int SharedUids => _sharedUids;
        public int SharedBodies => _sharedBodies;
        public int RenamedUids => _renamed;
        public int SharedStaffRows => _sharedStaffRows;
        public int ConflictRows => _conflictRows;
        public int Seated => _seated;
        public int Duplicates => _duplicates;

        public void Add(TenantStories stories, int sharedStaffRows)
        {
            Interlocked.Add(ref _tenants, stories.Tenants.Count);
            Interlocked.Add(ref _withDefault, stories.Tenants.Any(t => t.Tenant == TenantIds.Default) ? 1 : 0);
            Interlocked.Add(ref _sharedUids, stories.SharedUids);
            Interlocked.Add(ref _sharedBodies, stories.SharedBodies);
            Interlocked.Add(ref _renamed, stories.Tenants.Sum(t => t.Renamed));
            Interlocked.Add(ref _sharedStaffRows, sharedStaffRows);
            Interlocked.Add(ref _seated, stories.Tenants.Sum(t => t.Lifecycles.Count(l => l.IsSeated)));
            Interlocked.Add(ref _deliveries, stories.Deliveries.Count);
            Interlocked.Add(ref _duplicates, stories.Deliveries.Count - stories.Tenants.Sum(t => t.InOrder.Count));
        }

        public void Add(SortedDictionary<string, SortedDictionary<string, string>> rows) =>
            Interlocked.Add(ref _conflictRows, rows.Values.Count(r => r.GetValueOrDefault("HasConflict") == "True"));

        public override string ToString() =>
            $"{_tenants} tenants ({_withDefault} cases with the default one), {_deliveries} deliveries ({_duplicates} duplicates and re-deliveries), "
            + $"{_sharedUids} uids in several tenants ({_renamed} lifecycles renamed to another tenant's uids), {_sharedBodies} bodies sent to several tenants, "
            + $"{_sharedStaffRows} staff calendar rows in several tenants, {_conflictRows} rows in conflict, {_seated} seated lifecycles";
    }
}
