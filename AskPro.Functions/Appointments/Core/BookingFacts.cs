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
/// <para>
/// The reverse also happens: Cal.com builds a body when it sends it, so a retry keeps the trigger, uid and
/// <c>createdAt</c> of the first try but may carry the booking as it is by then. Such a body is a second fact, never a
/// replacement of the first: which body arrived last says nothing about which was built last, so "last arrival
/// wins" would make the record depend on delivery order. Wherever the newest event decides, ties in
/// <c>createdAt</c> are broken by <see cref="Fingerprint"/> (a content hash), the same choice in every order; a change
/// that matters (time, host, location, status) comes with its own webhook and a later <c>createdAt</c>, which wins
/// over both bodies.
/// </para>
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

    /// <summary>The event's <see cref="BookingEvent.Identity"/> (where the rule is written).</summary>
    public static string Fingerprint(BookingEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return e.Identity;
    }

    private static bool IsEarlier(DateTimeOffset? a, DateTimeOffset? b) => a is { } x && (b is not { } y || x < y);

    public byte[] ToBytes()
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(_events.Values.ToList(), FactsJsonContext.Default.ListBookingEvent);
        return Brotli.Compress(json);
    }

    /// <summary>
    /// This set, compressed, within <paramref name="maxBytes"/>; a set that does not fit whole degrades step by step
    /// (docs/records-limits-and-seats.md). A seated set only ever loses free text and superseded repeats
    /// (<see cref="FitSeated"/>). Any other set: first the free text and attendee lists of every event that is not the
    /// newest of its uid and trigger are dropped, then the oldest of those events themselves, then every event's free
    /// text is cut to 200 characters. The newest event of each uid and trigger, which the record's fields come from,
    /// is kept to the last step. Returns null only when even that does not fit (thousands of uids in one chain).
    /// </summary>
    public (BookingFacts Facts, byte[] Bytes)? FitInto(int maxBytes)
    {
        var bytes = ToBytes();
        if (bytes.Length <= maxBytes)
        {
            return (this, bytes);
        }

        if (_events.Values.Any(e => e.IsSeated))
        {
            return FitSeated(maxBytes);
        }

        var newest = NewestOfEach(_events.Values);
        var older = _events.Values.Where(e => !newest.Contains(e)).OrderBy(e => e.CreatedAt).ThenBy(Fingerprint, StringComparer.Ordinal).ToList();
        var kept = newest.Cast<BookingEvent>().ToList();
        var stripped = older.Select(e => StripText(e, 0)).ToList();
        for (var drop = 0; ; drop = Math.Max(drop + 1, drop + ((stripped.Count - drop) / 4)))
        {
            var candidate = Of([.. kept, .. stripped.Skip(drop)]);
            bytes = candidate.ToBytes();
            if (bytes.Length <= maxBytes)
            {
                return (candidate, bytes);
            }

            if (drop >= stripped.Count)
            {
                break;
            }
        }

        var last = Of(kept.Select(e => StripText(e, 200)));
        bytes = last.ToBytes();
        return bytes.Length <= maxBytes ? (last, bytes) : null;
    }

    /// <summary>Bytes (UTF-8) each free-text field of a seated event keeps when its group is over budget.</summary>
    public const int SeatTextCapBytes = 256;

    /// <summary>The cap of the last step, when capping and dropping repeats were not enough.</summary>
    public const int SeatTextFloorBytes = 64;

    /// <summary>
    /// A seated group's degradation. Every event stays an event with the same meaning: its trigger, uid, links
    /// (<c>rescheduleUid</c>), times, status, attendee e-mails, seat references and no-show marks are never touched,
    /// because a seat is who an event lists and an event listing nobody is about the whole slot (dropping a list would
    /// turn one person's old cancel into a cancel of every seat, or make a seat vanish). What goes, step by step until
    /// it fits: (1) free text (names, notes, reasons, title, location, phone numbers) of every event that is not the
    /// newest of its uid and trigger, cut to <see cref="SeatTextCapBytes"/>; (2) the same cap on every event;
    /// (3) repeats: of the events that list the same attendees with the same trigger, uid, link and status, only the
    /// earliest and the newest are kept (one booker's book/cancel loop), which keeps every seat's newest status event
    /// and first appearance; (4) every free-text field cut to <see cref="SeatTextFloorBytes"/>.
    /// </summary>
    private (BookingFacts Facts, byte[] Bytes)? FitSeated(int maxBytes)
    {
        var newest = NewestOfEach(_events.Values);
        var steps = new List<Func<IEnumerable<BookingEvent>>>
        {
            () => _events.Values.Select(e => newest.Contains(e) ? e : CapText(e, SeatTextCapBytes)),
            () => _events.Values.Select(e => CapText(e, SeatTextCapBytes)),
            () => WithoutRepeats(_events.Values).Select(e => CapText(e, SeatTextCapBytes)),
            () => WithoutRepeats(_events.Values).Select(e => CapText(e, SeatTextFloorBytes)),
        };
        foreach (var step in steps)
        {
            var candidate = Of(step());
            var bytes = candidate.ToBytes();
            if (bytes.Length <= maxBytes)
            {
                return (candidate, bytes);
            }
        }

        return null;
    }

    private static HashSet<object> NewestOfEach(IEnumerable<BookingEvent> events) => events
        .GroupBy(e => (e.Uid, e.TriggerEvent))
        .Select(g => g.OrderByDescending(e => e.CreatedAt).ThenBy(Fingerprint, StringComparer.Ordinal).First())
        .ToHashSet<object>(ReferenceEqualityComparer.Instance);

    /// <summary>
    /// The events without repeats: events that list attendees, grouped by what they mean for those attendees' seats
    /// (trigger, uid, link, status, the exact e-mails listed); of each group the earliest and the newest stay. Slot-wide
    /// events (listing nobody) are all kept.
    /// </summary>
    private static IEnumerable<BookingEvent> WithoutRepeats(IEnumerable<BookingEvent> events)
    {
        foreach (var g in events.GroupBy(e => e.Attendees is { Count: > 0 } list
            ? string.Join('\n', [e.TriggerEvent, e.Uid, e.RescheduleUid ?? "", e.Status ?? "", .. list.Select(a => a.Email ?? "").Order(StringComparer.Ordinal)])
            : "\u0001" + Fingerprint(e), StringComparer.Ordinal))
        {
            var ordered = g.OrderBy(e => e.CreatedAt).ThenBy(Fingerprint, StringComparer.Ordinal).ToList();
            yield return ordered[0];
            if (ordered.Count > 1)
            {
                yield return ordered[^1];
            }
        }
    }

    /// <summary>A seated event with each free-text field cut to <paramref name="cap"/> UTF-8 bytes; identity left as it is.</summary>
    private static BookingEvent CapText(BookingEvent e, int cap)
    {
        string? Cut(string? s) => CutBytes(s, cap);
        return e with
        {
            Title = Cut(e.Title),
            Notes = Cut(e.Notes),
            Location = Cut(e.Location),
            PreviousLocation = Cut(e.PreviousLocation),
            CancellationReason = Cut(e.CancellationReason),
            RejectionReason = Cut(e.RejectionReason),
            RescheduleReason = Cut(e.RescheduleReason),
            RescheduledBy = Cut(e.RescheduledBy),
            CancelledBy = Cut(e.CancelledBy),
            Source = Cut(e.Source),
            CompanyId = Cut(e.CompanyId),
            Customer = e.Customer is null ? null : e.Customer with { Name = Cut(e.Customer.Name), Phone = Cut(e.Customer.Phone) },
            Organizer = e.Organizer is null ? null : e.Organizer with { Name = Cut(e.Organizer.Name), Phone = Cut(e.Organizer.Phone) },
            Attendees = e.Attendees?.Select(a => a with { Name = Cut(a.Name), Phone = Cut(a.Phone) }).ToList(),
        };
    }

    /// <summary><paramref name="s"/> in at most <paramref name="cap"/> UTF-8 bytes, ending in "…" when cut (never inside a surrogate pair).</summary>
    internal static string? CutBytes(string? s, int cap)
    {
        if (s is null || System.Text.Encoding.UTF8.GetByteCount(s) <= cap)
        {
            return s;
        }

        var bytes = 0;
        var end = 0;
        while (end < s.Length)
        {
            var width = char.IsHighSurrogate(s[end]) && end + 1 < s.Length ? 2 : 1;
            var size = System.Text.Encoding.UTF8.GetByteCount(s.AsSpan(end, width));
            if (bytes + size > cap - 3)
            {
                break;
            }

            bytes += size;
            end += width;
        }

        return string.Concat(s.AsSpan(0, end), "…");
    }

    private static BookingFacts Of(IEnumerable<BookingEvent> events)
    {
        var map = new SortedDictionary<string, BookingEvent>(StringComparer.Ordinal);
        foreach (var e in events)
        {
            var key = Fingerprint(e);
            if (!map.TryGetValue(key, out var existing) || IsEarlier(e.CreatedAt, existing.CreatedAt))
            {
                map[key] = e;
            }
        }

        return new BookingFacts(map);
    }

    /// <summary>The event without its free text (cut to <paramref name="keep"/> characters) and attendee list.</summary>
    private static BookingEvent StripText(BookingEvent e, int keep)
    {
        string? Cut(string? s) => s is null || s.Length <= keep ? s : keep == 0 ? null : string.Concat(s.AsSpan(0, keep - 1), "…");
        return e with
        {
            Title = Cut(e.Title),
            Notes = Cut(e.Notes),
            Location = keep == 0 ? e.Location : Cut(e.Location),
            PreviousLocation = Cut(e.PreviousLocation),
            CancellationReason = Cut(e.CancellationReason),
            RejectionReason = Cut(e.RejectionReason),
            RescheduleReason = Cut(e.RescheduleReason),
            RescheduledBy = Cut(e.RescheduledBy),
            CancelledBy = Cut(e.CancelledBy),
            Source = keep == 0 ? e.Source : Cut(e.Source),
            CompanyId = keep == 0 ? e.CompanyId : Cut(e.CompanyId),
            Customer = keep == 0 || e.Customer is null ? e.Customer : new Person(Cut(e.Customer.Name), Cut(e.Customer.Email), Cut(e.Customer.Phone)),
            Organizer = keep == 0 || e.Organizer is null ? e.Organizer : new Person(Cut(e.Organizer.Name), Cut(e.Organizer.Email), Cut(e.Organizer.Phone)),
            Attendees = keep == 0 ? null : e.Attendees?.Take(20).Select(a => a with { Name = Cut(a.Name), Email = Cut(a.Email), Phone = Cut(a.Phone) }).ToList(),
        };
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
