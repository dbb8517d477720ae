namespace AskPro.Functions.Appointments;

/// <summary>A conflict change for rows that were not loaded: a record's (its uids) or a seated slot's (its uids and seats).</summary>
public sealed record ConflictUpdate(IReadOnlyList<string> ConflictsWith, IReadOnlyList<string> Uids, IReadOnlyList<string>? Seats)
{
    /// <summary>A slot's booking: its group row carries the slot's conflicts for the next event.</summary>
    public string? Group { get; init; }

    /// <summary>The user key a record's range moved to through a new staff alias: its rows' <c>StaffKey</c> is patched too.</summary>
    public string? MovedToStaffKey { get; init; }
}
