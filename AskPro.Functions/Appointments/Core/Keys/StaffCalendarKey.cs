namespace AskPro.Functions.Appointments;

/// <summary>The row <c>stf_{staffKey}</c>: a staff member's calendar (or an e-mail key's alias of a user key).</summary>
public readonly record struct StaffCalendarKey(string StaffKey)
{
    public const string Prefix = "stf_";

    /// <summary>The row key in the appointments table (partition <c>calcom</c>).</summary>
    public string RowKey => Prefix + StaffKey;

    public override string ToString() => RowKey;
}
