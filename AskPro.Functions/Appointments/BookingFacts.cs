using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using AskPro.Functions.Calcom;
using AskPro.Functions.Storage;

namespace AskPro.Functions.Appointments;

/// <summary>
/// Everything known about one appointment: the set of distinct events seen for any uid of its chain.
/// Merging is set union (commutative, associative, idempotent), so delivery order and duplicates cannot change
/// the result; <see cref="AppointmentProjection"/> derives the visible record from the set alone.
/// Two deliveries of the same event (same content, other <c>createdAt</c>) count once, keeping the earliest time,
/// so a second delivery never changes the record.
/// </summary>
public sealed class BookingFacts
{
    private readonly SortedDictionary<string, BookingEvent> _events;

    private BookingFacts(SortedDictionary<string, BookingEvent> events) => _events = events;

    public static BookingFacts Empty => new(new SortedDictionary<string, BookingEvent>(StringComparer.Ordinal));

    public IReadOnlyCollection<BookingEvent> Events => _events.Values;

    public int Count => _events.Count;

    public bool Contains(BookingEvent e) => _events.ContainsKey(Fingerprint(e));

    /// <summary>This set with <paramref name="e"/> added; the same instance when nothing new was learned.</summary>
    public BookingFacts With(BookingEvent e)
    {
        var key = Fingerprint(e);
        if (_events.TryGetValue(key, out var existing) && !IsEarlier(e.CreatedAt, existing.CreatedAt))
        {
            return this;
        }

        var copy = new SortedDictionary<string, BookingEvent>(_events, StringComparer.Ordinal) { [key] = e };
        return new BookingFacts(copy);
    }

    public BookingFacts Union(BookingFacts other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (_events.Count == 0)
        {
            return other; // both are immutable
        }

        var result = this;
        foreach (var e in other._events.Values)
        {
            result = result.With(e);
        }

        return result;
    }

    /// <summary>All uids any event names (booking uid and reschedule uid).</summary>
    public IEnumerable<string> Uids => _events.Values
        .SelectMany(e => e.RescheduleUid is { } r ? new[] { e.Uid, r } : [e.Uid])
        .Distinct(StringComparer.Ordinal);

    /// <summary>Identity of an event: its content without <c>createdAt</c>, which differs per subscriber and re-send.</summary>
    public static string Fingerprint(BookingEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        // Events are immutable and every merge and projection asks again for the same instances: compute once each.
        return Fingerprints.GetValue(e, static e =>
        {
            var bytes = JsonSerializer.SerializeToUtf8Bytes(e with { CreatedAt = null }, FactsJsonContext.Default.BookingEvent);
            return Convert.ToHexStringLower(SHA256.HashData(bytes).AsSpan(0, 16));
        });
    }

    private static readonly ConditionalWeakTable<BookingEvent, string> Fingerprints = new();

    private static bool IsEarlier(DateTimeOffset? a, DateTimeOffset? b) => a is { } x && (b is not { } y || x < y);

    public byte[] ToBytes()
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(_events.Values.ToList(), FactsJsonContext.Default.ListBookingEvent);
        return Brotli.Compress(json);
    }

    public static BookingFacts FromBytes(byte[]? bytes)
    {
        if (bytes is null || bytes.Length == 0)
        {
            return Empty;
        }

        using var input = Brotli.Decompress(bytes);
        var events = JsonSerializer.Deserialize(input, FactsJsonContext.Default.ListBookingEvent) ?? [];
        var facts = Empty;
        foreach (var e in events)
        {
            facts = facts.With(e);
        }

        return facts;
    }
}

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(BookingEvent))]
[JsonSerializable(typeof(List<BookingEvent>))]
internal sealed partial class FactsJsonContext : JsonSerializerContext;
