using System.Collections.Concurrent;

namespace AskPro.Functions.Webhooks;

/// <summary>
/// The delivery ids this instance accepted lately, in memory and bounded (the oldest are forgotten first): an exact
/// re-send that reaches the same instance soon after is answered without touching storage. It is only a saving, never a
/// guarantee: a re-send to another instance, after a restart or after the id was forgotten is queued again, and applying
/// it changes nothing (events are a set; an erased booking's tombstone drops it).
/// </summary>
public sealed class RecentDeliveries(int capacity = RecentDeliveries.DefaultCapacity)
{
    /// <summary>About 1 MiB of ids: several minutes of Cal.com traffic for a practice, which is when re-sends come.</summary>
    public const int DefaultCapacity = 8192;

    private readonly ConcurrentDictionary<string, byte> _ids = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _order = new();

    public int Count => _ids.Count;

    public bool Contains(string deliveryId) => _ids.ContainsKey(deliveryId);

    /// <summary>Remembers an accepted delivery; call it only after its enqueue succeeded, so a failed one is never answered as a re-send.</summary>
    public void Add(string deliveryId)
    {
        if (!_ids.TryAdd(deliveryId, 0))
        {
            return;
        }

        _order.Enqueue(deliveryId);
        while (_ids.Count > capacity && _order.TryDequeue(out var oldest))
        {
            _ids.TryRemove(oldest, out _);
        }
    }
}
