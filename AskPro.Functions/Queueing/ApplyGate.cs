using AskPro.Functions.Appointments;
using AskPro.Functions.Calcom;
using AskPro.Functions.Tenants;

namespace AskPro.Functions.Queueing;

/// <summary>
/// Lets one apply at a time of this instance touch a booking or a staff member's calendar. Without it, the host's 24
/// concurrent messages race for the same calendar rows, and every lost ETag race is a re-read, a back-off and a second
/// transaction. Only a saving: other instances still race, and the store's ETag checks keep every write correct.
/// </summary>
public sealed class ApplyGate
{
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    /// <summary>
    /// The rows an event is most likely to share with another, named as the store names them: its uids' rows and its
    /// organizer's calendar row (the core's own rules: <see cref="AppointmentBook.UidsOf"/>, <see cref="AppointmentProjection.StaffKeyOf(long?, string?)"/>).
    /// </summary>
    public static IReadOnlyList<string> KeysOf(BookingEvent e) => KeysOf(TenantRows.Default, e);

    /// <summary>The keys of an event of <paramref name="tenant"/>: rows are per partition, so two tenants' events never wait for each other.</summary>
    public static IReadOnlyList<string> KeysOf(TenantRows tenant, BookingEvent e)
    {
        ArgumentNullException.ThrowIfNull(tenant);
        ArgumentNullException.ThrowIfNull(e);
        var keys = AppointmentBook.UidsOf(e).Select(k => k.RowKey).ToList();
        if (AppointmentProjection.StaffKeyOf(e.OrganizerId, e.Organizer?.Email) is { } staff)
        {
            keys.Add(new StaffCalendarKey(staff).RowKey);
        }

        return tenant.IsDefault ? keys : [.. keys.Select(k => tenant.Partition + "/" + k)];
    }

    /// <summary>Waits until no other holder of any of <paramref name="keys"/> is inside; dispose the result to leave.</summary>
    public async Task<IDisposable> EnterAsync(IEnumerable<string> keys, CancellationToken ct)
    {
        // One order for everyone, so two holders of overlapping keys never wait for each other in a circle.
        var ordered = keys.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var held = new Held(this);
        try
        {
            foreach (var key in ordered)
            {
                var entry = Join(key);
                try
                {
                    await entry.Lock.WaitAsync(ct);
                }
                catch
                {
                    Leave(key, entry, entered: false);
                    throw;
                }

                held.Add(key, entry);
            }
        }
        catch
        {
            held.Dispose();
            throw;
        }

        return held;
    }

    /// <summary>Keys in use (held or waited for); a key nobody uses is forgotten.</summary>
    public int Count
    {
        get
        {
            lock (_entries)
            {
                return _entries.Count;
            }
        }
    }

    private Entry Join(string key)
    {
        lock (_entries)
        {
            if (!_entries.TryGetValue(key, out var entry))
            {
                entry = new Entry();
                _entries[key] = entry;
            }

            entry.Users++;
            return entry;
        }
    }

    private void Leave(string key, Entry entry, bool entered)
    {
        if (entered)
        {
            entry.Lock.Release();
        }

        lock (_entries)
        {
            if (--entry.Users == 0)
            {
                _entries.Remove(key);
                entry.Lock.Dispose();
            }
        }
    }

    private sealed class Entry
    {
        public SemaphoreSlim Lock { get; } = new(1, 1);
        public int Users { get; set; }
    }

    private sealed class Held(ApplyGate gate) : IDisposable
    {
        private readonly List<(string Key, Entry Entry)> _held = [];

        public void Add(string key, Entry entry) => _held.Add((key, entry));

        public void Dispose()
        {
            foreach (var (key, entry) in _held)
            {
                gate.Leave(key, entry, entered: true);
            }

            _held.Clear();
        }
    }
}
