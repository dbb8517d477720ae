namespace AskPro.Functions.Appointments;

/// <summary>What applying one event did to the book.</summary>
public enum ApplyOutcome
{
    /// <summary>A new appointment record.</summary>
    Created,
    /// <summary>An existing record changed (including records joined by a reschedule link).</summary>
    Updated,
    /// <summary>Nothing new: the event (or the same content from another delivery) was applied before.</summary>
    Unchanged,
    /// <summary>An AskPro-made booking (<c>metadata.askpro_appointment_id</c>): AskPro has it already, only the link is kept.</summary>
    Skipped,
    /// <summary>The booking was erased (Operating/Erasure.cs): the event is dropped, nothing is written.</summary>
    Erased,
}
