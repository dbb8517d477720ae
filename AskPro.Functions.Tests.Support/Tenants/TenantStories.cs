using System.Text;
using AskPro.Functions.Tests.Appointments;

namespace AskPro.Functions.Tests.Tenants;

/// <summary>One tenant's part of a <see cref="TenantStories"/> set: its lifecycles and their bodies in send order.</summary>
public sealed record TenantStory(string Tenant, IReadOnlyList<Lifecycle> Lifecycles, IReadOnlyList<GeneratedEvent> InOrder, int Shared, int Renamed)
{
    public override string ToString() => $"{Tenant}: {Lifecycles.Count} lifecycles ({Shared} shared, {Renamed} with another tenant's uids), {InOrder.Count} bodies";
}

/// <summary>
/// Several practices living overlapping stories (issue 16's isolation property and the <c>tenants N</c> load run): one
/// pool of generated lifecycles (<see cref="LifecycleGenerator"/>) of which each tenant gets a random part, byte for
/// byte (the same uids, staff e-mails, user ids and booking ids in several tenants, even the same signed bodies), plus
/// lifecycles of its own on the same staff members, some of them renamed to the uids of a pool lifecycle another
/// tenant has (the same uid with other content). Then each tenant's bodies are delivered out of order with duplicates
/// and re-deliveries (<see cref="DeliveryShuffler"/>) and the tenants' deliveries are interleaved at random.
/// The same seed always gives the same stories and the same interleaving.
/// </summary>
public sealed class TenantStories
{
    private TenantStories(IReadOnlyList<TenantStory> tenants, IReadOnlyList<(string Tenant, byte[] Body)> deliveries)
    {
        Tenants = tenants;
        Deliveries = deliveries;
    }

    public IReadOnlyList<TenantStory> Tenants { get; }

    /// <summary>Every tenant's delivery in the interleaved order; each tenant's own subsequence is <see cref="DeliveriesOf"/>.</summary>
    public IReadOnlyList<(string Tenant, byte[] Body)> Deliveries { get; }

    /// <summary>What <paramref name="tenant"/> got, in the order it got it: its deliveries "alone".</summary>
    public List<byte[]> DeliveriesOf(string tenant) => [.. Deliveries.Where(d => d.Tenant == tenant).Select(d => d.Body)];

    /// <summary>Uids that are in more than one tenant's bodies.</summary>
    public int SharedUids => Tenants.SelectMany(t => t.Lifecycles.SelectMany(l => l.Uids).Distinct(StringComparer.Ordinal)).GroupBy(u => u, StringComparer.Ordinal).Count(g => g.Count() > 1);

    /// <summary>Bodies sent, byte for byte, to more than one tenant.</summary>
    public int SharedBodies => Deliveries.Select(d => (d.Tenant, Id: Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(d.Body)))).Distinct()
        .GroupBy(d => d.Id, StringComparer.Ordinal).Count(g => g.Count() > 1);

    /// <param name="seed">The only source of randomness.</param>
    /// <param name="tenants">The tenant ids (<c>default</c> allowed: the default route's).</param>
    /// <param name="pool">Lifecycles in the shared pool.</param>
    /// <param name="own">Lifecycles each tenant has of its own.</param>
    /// <param name="shareRate">Chance that a tenant gets a pool lifecycle (at least one each).</param>
    /// <param name="staffMembers">Staff members every tenant's lifecycles are spread over (the same people in every tenant).</param>
    /// <param name="days">Days the appointments are spread over.</param>
    /// <param name="seatedRate">Share of seated lifecycles (<see cref="LifecycleGenerator"/>).</param>
    /// <param name="duplicateRate">Share of bodies a tenant gets twice, byte for byte (<see cref="DeliveryShuffler"/>).</param>
    /// <param name="redeliveryRate">Share of bodies a tenant gets again with a later <c>createdAt</c>.</param>
    public static TenantStories Generate(int seed, IReadOnlyList<string> tenants, int pool, int own, double shareRate = 0.5,
        int staffMembers = 3, int days = 3, double seatedRate = 0.05, double duplicateRate = 0.25, double redeliveryRate = 0.2)
    {
        ArgumentNullException.ThrowIfNull(tenants);
        var random = new Random(seed);
        var shared = new LifecycleGenerator(new Random(random.Next()), seatedRate).NextLifecycles(pool, staffMembers, days);
        var stories = new List<TenantStory>(tenants.Count);
        var perTenant = new List<List<byte[]>>(tenants.Count);
        foreach (var tenant in tenants)
        {
            var mine = shared.Where(_ => random.NextDouble() < shareRate).ToList();
            if (mine.Count == 0)
            {
                mine.Add(shared[random.Next(shared.Count)]);
            }

            var sharedCount = mine.Count;
            var others = shared.Where(l => !mine.Contains(l) && !l.IsSeated).ToList();
            var renamed = 0;
            foreach (var lifecycle in new LifecycleGenerator(new Random(random.Next()), seatedRate).NextLifecycles(own, staffMembers, days))
            {
                // The uids of a pool lifecycle this tenant does not have: the same uid, other content, in another tenant.
                if (!lifecycle.IsSeated && others.Count > 0 && random.NextDouble() < 0.5)
                {
                    var target = others[random.Next(others.Count)];
                    others.Remove(target);
                    mine.Add(Renamed(lifecycle, target.Uids));
                    renamed++;
                }
                else
                {
                    mine.Add(lifecycle);
                }
            }

            var inOrder = new Scenario(mine).InOrder;
            stories.Add(new TenantStory(tenant, mine, inOrder, sharedCount, renamed));
            perTenant.Add(DeliveryShuffler.Delivery(random, inOrder, duplicateRate, redeliveryRate));
        }

        // Interleaved at random, each tenant's own order kept: every interleaving of the tenants' deliveries can come up.
        var deliveries = new List<(string, byte[])>(perTenant.Sum(p => p.Count));
        var next = new int[tenants.Count];
        var left = perTenant.Select(p => p.Count).ToArray();
        for (var remaining = left.Sum(); remaining > 0; remaining--)
        {
            var pick = random.Next(remaining);
            var t = 0;
            while (pick >= left[t])
            {
                pick -= left[t++];
            }

            deliveries.Add((tenants[t], perTenant[t][next[t]++]));
            left[t]--;
        }

        return new TenantStories(stories, deliveries);
    }

    /// <summary>The lifecycle with its uids replaced, pair by pair, by <paramref name="uids"/> (extra uids of either side stay as they were).</summary>
    private static Lifecycle Renamed(Lifecycle lifecycle, IReadOnlyList<string> uids)
    {
        var map = lifecycle.Uids.Zip(uids).ToDictionary(p => p.First, p => p.Second, StringComparer.Ordinal);
        string Rename(string uid) => map.GetValueOrDefault(uid, uid);
        byte[] RenameBody(byte[] body)
        {
            var text = Encoding.UTF8.GetString(body);
            foreach (var (from, to) in map)
            {
                text = text.Replace(from, to, StringComparison.Ordinal);
            }

            return Encoding.UTF8.GetBytes(text);
        }

        return lifecycle with
        {
            Events = [.. lifecycle.Events.Select(e => e with { Uid = Rename(e.Uid), Body = RenameBody(e.Body) })],
            Uids = [.. lifecycle.Uids.Select(Rename)],
            FinalUid = Rename(lifecycle.FinalUid),
        };
    }

    public override string ToString() => string.Join("; ", Tenants);
}
