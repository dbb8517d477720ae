using System.Text.Json;
using System.Text.Json.Serialization;
using AskPro.Functions.Storage;
using Azure.Data.Tables;

namespace AskPro.Functions.Appointments;

/// <summary>
/// Row layout of the appointments table (README: "Table design"). One partition, three kinds of rows:
/// <c>apt_{AppointmentId}</c> and <c>uid_{uid}</c> (one per uid of the chain) carry the same full record, so a reader
/// or the next event finds it with one point read by either key; <c>stf_{staffKey}</c> holds a staff member's active
/// ranges, the basis of conflict flags and the lock that serialises calendar changes.
/// </summary>
public static class AppointmentEntities
{
    public const string PartitionKey = "calcom";
    public const string AppointmentPrefix = "apt_";
    public const string UidPrefix = "uid_";
    public const string StaffPrefix = "stf_";
    /// <summary>A seated booking's group row: the event set of all its slots and seats; its uid rows point here.</summary>
    public const string GroupPrefix = "grp_";
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

    public static string AppointmentKey(string appointmentId) => AppointmentPrefix + appointmentId;
    public static string UidKey(string uid) => UidPrefix + uid;
    public static string StaffRowKey(string staffKey) => StaffPrefix + staffKey;
    public static string GroupKey(string groupId) => GroupPrefix + groupId;

    /// <summary>A seated booking's uid row: a pointer to its group row (no event set).</summary>
    public static TableEntity PointerEntity(string uid, string groupId, DateTimeOffset updatedAt) =>
        new(PartitionKey, UidKey(uid))
        {
            ["RowType"] = RowTypeUid,
            ["Seated"] = true,
            ["GroupId"] = groupId,
            ["UpdatedAt"] = updatedAt,
        };

    public static bool IsPointer(TableEntity row)
    {
        ArgumentNullException.ThrowIfNull(row);
        return row.GetString("GroupId") is { Length: > 0 } && row.GetBinary("Facts") is null;
    }

    /// <summary>One row of a record; <c>facts</c> is its compressed event set, made once for all the record's rows.</summary>
    public static TableEntity ToEntity(string rowKey, StoredAppointment stored, byte[] facts, DateTimeOffset createdAt, DateTimeOffset updatedAt, int? eventCount = null)
    {
        ArgumentNullException.ThrowIfNull(stored);
        var entity = Columns(rowKey, stored.Record, stored.ConflictsWith, createdAt, updatedAt).WithFacts(facts);
        entity["EventCount"] = eventCount ?? stored.Facts.Count;
        if (stored.IsSeated)
        {
            // A seated booking's group row carries the event set of every seat; the people are on the seat rows, and
            // conflicts are per slot (one column each, so patches for two slots never overwrite each other).
            entity["RowType"] = RowTypeGroup;
            entity["Seated"] = true;
            foreach (var column in (string[])["CustomerName", "CustomerEmail", "CustomerPhone", "Notes", "HasConflict", "ConflictsWith", "CancellationReason", "CancelledBy", "RejectionReason", "RescheduleReason", "RescheduledBy"])
            {
                entity.Remove(column);
            }

            // Only slots that have conflicts get a column (a missing column reads as none): seat moves join slots into
            // one group for good, and a column per slot ever joined would pass the table's 252 properties. Should even
            // the non-empty ones not fit, the slots ending latest keep theirs (the slot and seat rows still show all).
            var room = MaxProperties - entity.Count - ReservedProperties;
            foreach (var slot in stored.Slots
                .Where(s => stored.SlotConflicts.GetValueOrDefault(s.SlotId) is { Count: > 0 })
                .OrderByDescending(s => s.End).ThenBy(s => s.SlotId, StringComparer.Ordinal)
                .Take(Math.Max(0, room)))
            {
                entity[SlotConflictsPrefix + slot.SlotId] = string.Join(',', stored.SlotConflicts[slot.SlotId]);
            }
        }

        return entity;
    }

    /// <summary>Properties an entity may have besides PartitionKey, RowKey and Timestamp.</summary>
    public const int MaxProperties = 252;

    /// <summary>Properties kept free on a group row for what is set after <see cref="ToEntity"/> (History, more Facts chunks).</summary>
    private const int ReservedProperties = 16;

    /// <summary>A seat's row: its record's columns, the slot it is in and the booking (event set) it belongs to.</summary>
    public static TableEntity SeatEntity(StoredAppointment seat, string groupId, DateTimeOffset createdAt, DateTimeOffset updatedAt)
    {
        ArgumentNullException.ThrowIfNull(seat);
        var entity = Columns(AppointmentKey(seat.Record.AppointmentId), seat.Record, seat.ConflictsWith, createdAt, updatedAt);
        entity["RowType"] = RowTypeSeat;
        entity["SlotId"] = seat.Record.SlotId;
        entity["GroupId"] = groupId;
        entity["SeatsPerTimeSlot"] = seat.Record.SeatsPerTimeSlot;
        return entity;
    }

    /// <summary>A slot's row: one per uid of a seated booking.</summary>
    public static TableEntity SlotEntity(SeatSlot slot, string groupId, IReadOnlyList<string> conflictsWith, DateTimeOffset updatedAt)
    {
        ArgumentNullException.ThrowIfNull(slot);
        ArgumentNullException.ThrowIfNull(conflictsWith);
        return new TableEntity(PartitionKey, AppointmentKey(slot.SlotId))
        {
            ["RowType"] = RowTypeSlot,
            ["AppointmentId"] = slot.SlotId,
            ["SlotId"] = slot.SlotId,
            ["GroupId"] = groupId,
            ["CalcomUid"] = slot.Uid,
            ["StartTime"] = slot.Start,
            ["EndTime"] = slot.End,
            ["StaffKey"] = slot.StaffKey,
            ["Status"] = slot.IsActive ? "active" : "inactive",
            ["SeatIds"] = string.Join(',', slot.ActiveSeatIds),
            ["ActiveSeats"] = slot.ActiveSeatIds.Count,
            ["HasConflict"] = conflictsWith.Count > 0,
            ["ConflictsWith"] = string.Join(',', conflictsWith),
            ["UpdatedAt"] = updatedAt,
        };
    }

    public static TableEntity SlotConflictPatch(string uidRowKey, string slotId, IReadOnlyList<string> conflictsWith, DateTimeOffset updatedAt) =>
        new(PartitionKey, uidRowKey)
        {
            [SlotConflictsPrefix + slotId] = string.Join(',', conflictsWith),
            ["UpdatedAt"] = updatedAt,
        };

    private static TableEntity Columns(string rowKey, Appointment a, IReadOnlyList<string> conflictsWith, DateTimeOffset createdAt, DateTimeOffset updatedAt)
    {
        return new TableEntity(PartitionKey, rowKey)
        {
            ["RowType"] = rowKey.StartsWith(UidPrefix, StringComparison.Ordinal) ? RowTypeUid : RowTypeAppointment,
            ["AppointmentId"] = a.AppointmentId,
            ["CalcomUid"] = a.CalcomUid,
            ["CalcomUids"] = string.Join(',', a.CalcomUids),
            ["PreviousUids"] = string.Join(',', a.CalcomUids.Take(a.CalcomUids.Count - 1)),
            ["CalcomBookingId"] = a.CalcomBookingId,
            ["EventTypeId"] = a.EventTypeId,
            ["Title"] = a.Title,
            ["StartTime"] = a.StartTime,
            ["EndTime"] = a.EndTime,
            ["TimeZone"] = a.TimeZone,
            ["PreviousStartTime"] = a.PreviousStartTime,
            ["PreviousEndTime"] = a.PreviousEndTime,
            ["Status"] = a.Status,
            ["RescheduleRequested"] = a.RescheduleRequested,
            ["CustomerName"] = a.CustomerName,
            ["CustomerEmail"] = a.CustomerEmail,
            ["CustomerPhone"] = a.CustomerPhone,
            ["StaffName"] = a.StaffName,
            ["StaffEmail"] = a.StaffEmail,
            ["StaffKey"] = a.StaffKey,
            ["StaffUserId"] = a.StaffUserId,
            ["Location"] = a.Location,
            ["Notes"] = a.Notes,
            ["Source"] = a.Source,
            ["AskProAppointmentId"] = a.AskProAppointmentId,
            ["CompanyId"] = a.CompanyId,
            ["IsInternal"] = a.IsInternal,
            ["AskProMetadataUnproven"] = a.AskProMetadataUnproven,
            ["CancellationReason"] = a.CancellationReason,
            ["CancelledBy"] = a.CancelledBy,
            ["RejectionReason"] = a.RejectionReason,
            ["RescheduleReason"] = a.RescheduleReason,
            ["RescheduledBy"] = a.RescheduledBy,
            ["ConfirmedAt"] = a.ConfirmedAt,
            ["CustomerNoShow"] = a.CustomerNoShow,
            ["HostNoShow"] = a.HostNoShow,
            ["MeetingStarted"] = a.MeetingStarted,
            ["MeetingEnded"] = a.MeetingEnded,
            ["PaymentStatus"] = a.PaymentStatus,
            ["HasConflict"] = conflictsWith.Count > 0,
            ["ConflictsWith"] = string.Join(',', conflictsWith),
            ["LastEventAt"] = a.LastEventAt,
            ["LastTriggerEvent"] = a.LastTriggerEvent,
            ["CreatedAt"] = createdAt,
            ["UpdatedAt"] = updatedAt,
        };
    }

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

    private static TableEntity WithFacts(this TableEntity entity, byte[] facts)
    {
        if (facts.Length > MaxFactsBytes)
        {
            throw new UnstorableEventException($"the event set of {entity.GetString("AppointmentId")} is {facts.Length} bytes compressed, more than one row holds");
        }

        return entity.WithChunks("Facts", facts);
    }

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

    private static byte[] FactsOf(TableEntity entity) => ChunksOf(entity, "Facts");

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

    /// <summary>The stored appointment of a record row: the record is re-derived from its facts (the projection is pure).</summary>
    public static StoredAppointment FromEntity(TableEntity entity)
    {
        ArgumentNullException.ThrowIfNull(entity);
        var facts = BookingFacts.FromBytes(FactsOf(entity));
        var record = AppointmentProjection.Project(facts);
        var storedKey = entity.GetString("StaffKey");
        record = StaffAliases.AsStored(record, storedKey); // staff alias hook: an id-less record filed under a user id
        var slotConflicts = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        foreach (var (key, value) in entity)
        {
            if (key.StartsWith(SlotConflictsPrefix, StringComparison.Ordinal) && value is string ids && ids.Length > 0)
            {
                slotConflicts[key[SlotConflictsPrefix.Length..]] = SplitIds(ids);
            }
        }

        return new StoredAppointment(record, facts, SplitIds(entity.GetString("ConflictsWith")))
        {
            StoredStaffKey = string.IsNullOrEmpty(storedKey) || storedKey == record.StaffKey ? null : storedKey,
            SlotConflicts = slotConflicts,
        };
    }

    public static TableEntity MergedEntity(string retiredId, string mergedInto, DateTimeOffset updatedAt, string? rowKey = null) =>
        new(PartitionKey, rowKey ?? AppointmentKey(retiredId))
        {
            ["RowType"] = RowTypeMerged,
            ["AppointmentId"] = retiredId,
            ["Status"] = RowTypeMerged,
            ["MergedInto"] = mergedInto,
            ["UpdatedAt"] = updatedAt,
        };

    public static TableEntity ConflictPatch(string rowKey, IReadOnlyList<string> conflictsWith, DateTimeOffset updatedAt) =>
        new(PartitionKey, rowKey)
        {
            ["HasConflict"] = conflictsWith.Count > 0,
            ["ConflictsWith"] = string.Join(',', conflictsWith),
            ["UpdatedAt"] = updatedAt,
        };

    /// <summary>
    /// The staff calendar row. Ranges are compressed and split over <c>Ranges</c>, <c>Ranges1</c>, …; a calendar that
    /// would still exceed <see cref="MaxRangesBytes"/> drops its earliest-ending ranges (they are the past) until it fits.
    /// </summary>
    public static TableEntity StaffEntity(string staffKey, IReadOnlyList<StaffRange> ranges, DateTimeOffset updatedAt)
    {
        ArgumentNullException.ThrowIfNull(ranges);
        var kept = ranges;
        byte[] bytes;
        while (true)
        {
            var json = JsonSerializer.SerializeToUtf8Bytes(kept.Select(r => new RangeDto(r.AppointmentId, r.Start, r.End, r.Uids) { Group = r.Group, Seats = r.Seats }).ToList(), RangesJsonContext.Default.ListRangeDto);
            bytes = Brotli.Compress(json);
            if (bytes.Length <= MaxRangesBytes || kept.Count == 0)
            {
                break;
            }

            var drop = Math.Max(1, kept.Count / 10);
            var dropped = kept.OrderBy(r => r.End).ThenBy(r => r.AppointmentId, StringComparer.Ordinal).Take(drop).ToHashSet();
            kept = kept.Where(r => !dropped.Contains(r)).ToList();
        }

        return new TableEntity(PartitionKey, StaffRowKey(staffKey))
        {
            ["RowType"] = RowTypeStaff,
            ["RangeCount"] = kept.Count,
            ["UpdatedAt"] = updatedAt,
        }.WithChunks("Ranges", bytes);
    }

    public static List<StaffRange> RangesOf(TableEntity entity)
    {
        ArgumentNullException.ThrowIfNull(entity);
        if (entity.GetBinary("Ranges") is not { Length: > 0 })
        {
            return [];
        }

        var bytes = ChunksOf(entity, "Ranges");

        using var input = Brotli.Decompress(bytes);
        var dtos = JsonSerializer.Deserialize(input, RangesJsonContext.Default.ListRangeDto) ?? [];
        return dtos.Select(d => new StaffRange(d.Id, d.Start, d.End, d.Uids) { Group = d.Group, Seats = d.Seats }).ToList();
    }

    public static List<string> SplitIds(string? joined) =>
        string.IsNullOrEmpty(joined) ? [] : [.. joined.Split(',', StringSplitOptions.RemoveEmptyEntries)];

    internal sealed record RangeDto(
        [property: JsonPropertyName("id")] string Id,
        [property: JsonPropertyName("s")] DateTimeOffset Start,
        [property: JsonPropertyName("e")] DateTimeOffset End,
        [property: JsonPropertyName("u")] IReadOnlyList<string> Uids)
    {
        [JsonPropertyName("g")]
        [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
        public string? Group { get; init; }

        [JsonPropertyName("seats")]
        [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
        public IReadOnlyList<string>? Seats { get; init; }
    }
}

[JsonSerializable(typeof(List<AppointmentEntities.RangeDto>))]
internal sealed partial class RangesJsonContext : JsonSerializerContext;
