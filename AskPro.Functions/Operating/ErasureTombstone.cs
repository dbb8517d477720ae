using System.Security.Cryptography;
using System.Text;
using AskPro.Functions.Logging;
using Azure.Data.Tables;
using E = AskPro.Functions.Appointments.AppointmentEntities;

namespace AskPro.Functions.Operating;

/// <summary>
/// What an erasure leaves behind for each uid it erased: a row <c>del_{SHA-256 of the uid}</c> in the appointments
/// table with the erasure time and nothing else (no uid, no personal data). Applying, dead-letter replay and
/// reconciliation consult it, so an erased booking is never written again, whoever sends it.
/// </summary>
public static class ErasureTombstone
{
    public const string Prefix = "del_";
    public const string RowType = "erased";

    /// <summary>The full hash, not the 12-digit log pseudonym: a key must not collide.</summary>
    public static string Key(string uid)
    {
        ArgumentNullException.ThrowIfNull(uid);
        return Prefix + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(uid)));
    }

    /// <summary>A tombstone in the default tenant's partition.</summary>
    public static TableEntity Entity(string uid, DateTimeOffset erasedAt) => Entity(E.PartitionKey, uid, erasedAt);

    /// <summary>A tombstone in <paramref name="partition"/>: it stops that tenant's uid only (docs/erasure.md#tenants).</summary>
    public static TableEntity Entity(string partition, string uid, DateTimeOffset erasedAt) =>
        new(partition, Key(uid))
        {
            ["RowType"] = RowType,
            // The pseudonym the logs use, so an operator can tie this row to its log lines.
            ["UidPseudonym"] = UidPseudonym.Of(uid),
            ["ErasedAt"] = erasedAt,
        };

    public static DateTimeOffset? ErasedAtOf(TableEntity? row) =>
        row is not null && row.GetString("RowType") == RowType ? row.GetDateTimeOffset("ErasedAt") ?? DateTimeOffset.MinValue : null;
}
