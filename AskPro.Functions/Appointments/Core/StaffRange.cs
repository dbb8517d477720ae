namespace AskPro.Functions.Appointments;

/// <summary>An active appointment's time range in its staff member's calendar.</summary>
public sealed record StaffRange(string AppointmentId, DateTimeOffset Start, DateTimeOffset End, IReadOnlyList<string> Uids)
{
    public bool Overlaps(StaffRange other) => Start < other.End && other.Start < End;

    /// <summary>A seated slot's range: the id of the booking (fact set) whose slot it is; null for a plain appointment.</summary>
    public string? Group { get; init; }

    /// <summary>A seated slot's range: its active seats' appointment ids, whose rows carry the slot's conflicts.</summary>
    public IReadOnlyList<string>? Seats { get; init; }

    /// <summary>The calendar the range is meant for (not stored: the calendar row is the staff key).</summary>
    public string? StaffKey { get; init; }

    /// <summary>The same range, compared by value (lists by content).</summary>
    public bool SameAs(StaffRange other) => other is not null && AppointmentId == other.AppointmentId && Start == other.Start && End == other.End
        && StaffKey == other.StaffKey && Group == other.Group && Uids.SequenceEqual(other.Uids) && (Seats ?? []).SequenceEqual(other.Seats ?? []);
}
