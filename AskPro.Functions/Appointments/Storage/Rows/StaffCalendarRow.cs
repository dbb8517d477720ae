using Azure.Data.Tables;
using E = AskPro.Functions.Appointments.AppointmentEntities;

namespace AskPro.Functions.Appointments;

/// <summary>
/// A <c>stf_</c> row, decoded: a staff calendar (its ranges and the e-mail keys settled for it), or an alias row that
/// names the user key an e-mail key stands for (StaffAliases.cs). Decoding only: the book decides what it means.
/// </summary>
public sealed record StaffCalendarRow(StaffCalendar Calendar, string? AliasOf, IReadOnlyList<string> EmailKeys)
{
    public static StaffCalendarRow Decode(TableEntity row)
    {
        ArgumentNullException.ThrowIfNull(row);
        return AppointmentEntities.AliasOf(row) is { } userKey
            ? new(StaffCalendar.Empty, userKey, [])
            : new(StaffCalendar.Of(E.RangesOf(row)), null, AppointmentEntities.EmailKeysOf(row));
    }

    /// <summary>The same row without the ranges of appointments whose rows are gone (they are dropped when it is rewritten).</summary>
    public StaffCalendarRow Without(IReadOnlySet<string> goneIds)
    {
        ArgumentNullException.ThrowIfNull(goneIds);
        return goneIds.Count == 0 ? this : this with { Calendar = Calendar.Without(r => goneIds.Contains(r.AppointmentId)) };
    }
}
