namespace AskPro.Functions.Appointments;

/// <summary>An event whose record cannot be written however often it is retried (too large for a row or a transaction).</summary>
public sealed class UnstorableEventException : Exception
{
    public UnstorableEventException(string message) : base(message) { }
    public UnstorableEventException(string message, Exception inner) : base(message, inner) { }
    public UnstorableEventException() { }
}
