using AskPro.Functions.Appointments;

namespace AskPro.Functions.Tests.Appointments;

/// <summary>The one copy of calendar sorting, trimming and overlap that the book, staff aliases and erasure share.</summary>
public sealed class StaffCalendarTests
{
    private static readonly DateTimeOffset Nine = new(2026, 1, 27, 9, 0, 0, TimeSpan.Zero);

    private static StaffRange Range(string id, int startMinutes, int endMinutes) => new(id, Nine.AddMinutes(startMinutes), Nine.AddMinutes(endMinutes), []);

    [Fact]
    public void Adding_ranges_sorts_them_by_start_then_id()
    {
        var calendar = StaffCalendar.Empty.With([Range("b", 60, 90), Range("c", 0, 30), Range("a", 60, 75)]);

        Assert.Equal(["c", "a", "b"], calendar.Select(r => r.AppointmentId));
    }

    [Fact]
    public void A_full_calendar_lets_the_earliest_ending_ranges_go()
    {
        var full = StaffCalendar.Empty.With(Enumerable.Range(0, StaffCalendar.MaxRanges).Select(i => Range($"r{i:D3}", i * 60, (i * 60) + 30)));

        var next = full.With([Range("late", 100_000, 100_030)]);

        Assert.Equal(StaffCalendar.MaxRanges, next.Count);
        Assert.False(next.Holds("r000"));
        Assert.True(next.Holds("r001"));
        Assert.True(next.Holds("late"));
        Assert.Equal(StaffCalendar.MaxRanges, full.Count); // immutable: the old calendar is unchanged
        Assert.True(full.Holds("r000"));
    }

    [Fact]
    public void Conflicts_are_the_other_overlapping_ranges_each_once_in_ordinal_order()
    {
        var mine = Range("m", 0, 60);
        var calendar = StaffCalendar.Of([Range("z", 30, 90), mine, Range("a", 59, 61), Range("touching", 60, 90), Range("before", -30, 0)]);

        Assert.Equal(["a", "z"], calendar.ConflictsOf(mine));
    }

    [Fact]
    public void Without_keeps_the_order_of_what_is_left()
    {
        var calendar = StaffCalendar.Of([Range("b", 60, 90), Range("a", 0, 30), Range("c", 120, 150)]);

        Assert.Equal(["b", "c"], calendar.Without(r => r.AppointmentId == "a").Select(r => r.AppointmentId));
    }
}
