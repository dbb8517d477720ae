namespace AskPro.Functions.Appointments;

/// <summary>
/// What applying one event answers: the outcome and the appointment it is about (for the caller, the logs and the
/// history), and <see cref="Changes"/>, everything the book changed (for the writer).
/// </summary>
public sealed record ApplyResult(ApplyOutcome Outcome, string AppointmentId, string Status, IReadOnlyList<string> ConflictsWith, IReadOnlyList<string> RetiredIds)
{
    /// <summary>A seated booking: the seats the event is about (their histories get its entry); null otherwise.</summary>
    public IReadOnlyList<string>? SeatIds { get; init; }

    /// <summary>The record the event's uid reaches after applying it (a seated booking: its group); null when dropped.</summary>
    public StoredAppointment? Record { get; init; }

    /// <summary>What the book changed since it was loaded: the rows the writer plans from it.</summary>
    public BookChanges Changes { get; init; } = BookChanges.None;
}
