namespace AskPro.Functions.Appointments;

/// <summary>The row <c>uid_{uid}</c>: one per uid of a chain, the full record (or, seated, a pointer to its group row); events find records by it.</summary>
public readonly record struct UidKey(string Uid)
{
    public const string Prefix = "uid_";

    /// <summary>The row key in the appointments table (partition <c>calcom</c>).</summary>
    public string RowKey => Prefix + Uid;

    public override string ToString() => RowKey;
}
