using System.Collections;

namespace AskPro.Functions.Appointments;

/// <summary>
/// One staff member's active ranges (the <c>stf_</c> row), immutable: ordered by start, at most
/// <see cref="MaxRanges"/> of them (the earliest-ending drop out), and the overlap rule conflict flags come from. The
/// one place ranges are sorted, trimmed and compared; the book, staff aliases and erasure all go through it.
/// </summary>
public sealed class StaffCalendar : IReadOnlyList<StaffRange>
{
    /// <summary>A calendar keeps at most this many ranges (the earliest-ending drop out): one row holds it.</summary>
    public const int MaxRanges = 500;

    public static readonly StaffCalendar Empty = new([]);

    private readonly List<StaffRange> _ranges;

    private StaffCalendar(List<StaffRange> ranges) => _ranges = ranges;

    /// <summary>A calendar of these ranges, in the order given (as read from a row, which was written in order).</summary>
    public static StaffCalendar Of(IEnumerable<StaffRange> ranges)
    {
        ArgumentNullException.ThrowIfNull(ranges);
        return new([.. ranges]);
    }

    public int Count => _ranges.Count;

    public StaffRange this[int index] => _ranges[index];

    public IEnumerator<StaffRange> GetEnumerator() => _ranges.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public StaffRange? Find(string appointmentId) => _ranges.Find(r => r.AppointmentId == appointmentId);

    public bool Holds(string appointmentId) => _ranges.Exists(r => r.AppointmentId == appointmentId);

    /// <summary>The calendar without the ranges <paramref name="drop"/> picks (order kept).</summary>
    public StaffCalendar Without(Func<StaffRange, bool> drop)
    {
        ArgumentNullException.ThrowIfNull(drop);
        return new([.. _ranges.Where(r => !drop(r))]);
    }

    /// <summary>The calendar with <paramref name="added"/>: sorted by start (then id), trimmed to <see cref="MaxRanges"/>.</summary>
    public StaffCalendar With(IEnumerable<StaffRange> added)
    {
        ArgumentNullException.ThrowIfNull(added);
        var ranges = new List<StaffRange>(_ranges);
        ranges.AddRange(added);
        ranges.Sort((a, b) => a.Start != b.Start ? a.Start.CompareTo(b.Start) : string.CompareOrdinal(a.AppointmentId, b.AppointmentId));
        if (ranges.Count > MaxRanges)
        {
            var drop = EarliestEnding(ranges, ranges.Count - MaxRanges).ToHashSet();
            ranges.RemoveAll(drop.Contains);
        }

        return new(ranges);
    }

    /// <summary>The ids of the other ranges that overlap <paramref name="range"/>, each once, in ordinal order.</summary>
    public List<string> ConflictsOf(StaffRange range)
    {
        ArgumentNullException.ThrowIfNull(range);
        return [.. _ranges.Where(r => r.AppointmentId != range.AppointmentId && r.Overlaps(range)).Select(r => r.AppointmentId).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
    }

    /// <summary>The <paramref name="count"/> ranges that end first (ties by id): the ones a full calendar lets go.</summary>
    public static IEnumerable<StaffRange> EarliestEnding(IEnumerable<StaffRange> ranges, int count) =>
        ranges.OrderBy(r => r.End).ThenBy(r => r.AppointmentId, StringComparer.Ordinal).Take(count);
}
