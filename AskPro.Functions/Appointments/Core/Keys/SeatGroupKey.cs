namespace AskPro.Functions.Appointments;

/// <summary>The row <c>grp_{id}</c>: a seated booking's group row, the event set of all its slots and seats.</summary>
public readonly record struct SeatGroupKey(string GroupId)
{
    public const string Prefix = "grp_";

    /// <summary>The row key in the appointments table (partition <c>calcom</c>).</summary>
    public string RowKey => Prefix + GroupId;

    public override string ToString() => RowKey;
}
