using Azure.Data.Tables;

namespace AskPro.Functions.Appointments;

/// <summary>A seated booking's row kinds: the uid pointer to its group row, one row per slot and per seat.</summary>
public static partial class AppointmentEntities
{
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
}
