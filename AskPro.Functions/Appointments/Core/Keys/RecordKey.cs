namespace AskPro.Functions.Appointments;

/// <summary>The row <c>apt_{AppointmentId}</c>: a record (plain appointment), a seat, a seated slot, or a redirect of a retired id.</summary>
public readonly record struct RecordKey(string AppointmentId)
{
    public const string Prefix = "apt_";

    /// <summary>The row key in the appointments table (partition <c>calcom</c>).</summary>
    public string RowKey => Prefix + AppointmentId;

    public override string ToString() => RowKey;
}
