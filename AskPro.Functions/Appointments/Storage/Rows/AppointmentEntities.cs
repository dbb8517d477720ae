using Azure.Data.Tables;

namespace AskPro.Functions.Appointments;

/// <summary>
/// Row layout of the appointments table (docs/records.md#table-design): the keys, limits and chunking every row kind shares.
/// Each row kind encodes and decodes in its own file (AppointmentEntities.*.cs). One partition, three kinds of rows:
/// <c>apt_{AppointmentId}</c> and <c>uid_{uid}</c> (one per uid of the chain) carry the same full record, so a reader
/// or the next event finds it with one point read by either key; <c>stf_{staffKey}</c> holds a staff member's active
/// ranges, the basis of conflict flags and the lock that serialises calendar changes.
/// </summary>
public static partial class AppointmentEntities
{
    /// <summary>The partition rows are encoded in; <see cref="AppointmentWriter.Place"/> moves them into their tenant's (the default tenant's is this one).</summary>
    public const string PartitionKey = Tenants.TenantIds.DefaultPartition;
    public const string AppointmentPrefix = RecordKey.Prefix;
    public const string UidPrefix = global::AskPro.Functions.Appointments.UidKey.Prefix;
    public const string StaffPrefix = StaffCalendarKey.Prefix;
    /// <summary>A seated booking's group row: the event set of all its slots and seats; its uid rows point here.</summary>
    public const string GroupPrefix = SeatGroupKey.Prefix;
    public const string RowTypeGroup = "group";

    public const string RowTypeAppointment = "appointment";
    public const string RowTypeUid = "uid";
    public const string RowTypeMerged = "merged";
    public const string RowTypeStaff = "staff";
    /// <summary>A seated booking's time slot (<c>apt_{SlotId}</c>): times, staff, active seats, the slot's conflicts.</summary>
    public const string RowTypeSlot = "slot";
    /// <summary>One seat's appointment (<c>apt_{seat AppointmentId}</c>): the record columns, no event set.</summary>
    public const string RowTypeSeat = "seat";
    /// <summary>On a seated booking's uid rows, one column per slot: <c>Conflicts_{SlotId}</c>, that slot's conflicts.</summary>
    public const string SlotConflictsPrefix = "Conflicts_";

    // The row-key text lives in the typed keys (Core/Keys); these are shorthands for row code.
    public static string AppointmentKey(string appointmentId) => new RecordKey(appointmentId).RowKey;
    public static string UidKey(string uid) => new global::AskPro.Functions.Appointments.UidKey(uid).RowKey;
    public static string StaffRowKey(string staffKey) => new StaffCalendarKey(staffKey).RowKey;
    public static string GroupKey(string groupId) => new SeatGroupKey(groupId).RowKey;

    /// <summary>A binary property holds 64 KiB: compressed blobs are split over Facts, Facts1, Facts2, … as needed.</summary>
    public const int Chunk = 64 * 1024;

    /// <summary>
    /// An entity holds 1 MiB, and the emulator counts binaries Base64-encoded: the event set may take 10 properties
    /// (640 KiB, 854 KiB as Base64), leaving room for the record's columns (at most 2,000 characters of text each).
    /// </summary>
    public const int MaxFactsBytes = 10 * Chunk;

    /// <summary>A staff calendar takes at most 8 properties (512 KiB), so two of them and a record fit one transaction.</summary>
    public const int MaxRangesBytes = 8 * Chunk;

    /// <summary>An entity-group transaction carries at most 4 MiB (binary properties travel Base64-encoded).</summary>
    public const int MaxTransactionBytes = 4 * 1024 * 1024;

    private static TableEntity WithChunks(this TableEntity entity, string name, byte[] bytes)
    {
        var chunks = (bytes.Length + Chunk - 1) / Chunk;
        for (var i = 0; i < Math.Max(chunks, 1); i++)
        {
            entity[i == 0 ? name : $"{name}{i}"] = bytes.AsSpan(i * Chunk, Math.Min(Chunk, bytes.Length - (i * Chunk))).ToArray();
        }

        return entity;
    }

    private static byte[] ChunksOf(TableEntity entity, string name)
    {
        var parts = new List<byte[]>();
        for (var i = 0; entity.GetBinary(i == 0 ? name : $"{name}{i}") is { } part; i++)
        {
            parts.Add(part);
        }

        return parts.Count == 1 ? parts[0] : [.. parts.SelectMany(p => p)];
    }


    /// <summary>
    /// What an entity adds to a transaction's request body, roughly and from above: Base64 binaries, UTF-8 text
    /// (escapes and names included by a margin per property).
    /// </summary>
    public static int PayloadBytes(TableEntity entity)
    {
        ArgumentNullException.ThrowIfNull(entity);
        var total = 512;
        foreach (var (key, value) in entity)
        {
            total += key.Length + 64 + value switch
            {
                byte[] b => ((b.Length + 2) / 3) * 4,
                string t => System.Text.Encoding.UTF8.GetByteCount(t) * 2,
                _ => 32,
            };
        }

        return total;
    }


    public static List<string> SplitIds(string? joined) =>
        string.IsNullOrEmpty(joined) ? [] : [.. joined.Split(',', StringSplitOptions.RemoveEmptyEntries)];

}
