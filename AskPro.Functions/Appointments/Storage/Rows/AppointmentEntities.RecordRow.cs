using Azure.Data.Tables;

namespace AskPro.Functions.Appointments;

/// <summary>The record row kind: <c>apt_{id}</c>, each <c>uid_{uid}</c> of its chain, or a seated booking's <c>grp_{id}</c>, each with the full record and its event set (<c>Facts</c>).</summary>
public static partial class AppointmentEntities
{
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

    private static TableEntity WithFacts(this TableEntity entity, byte[] facts)
    {
        if (facts.Length > MaxFactsBytes)
        {
            throw new UnstorableEventException($"the event set of {entity.GetString("AppointmentId")} is {facts.Length} bytes compressed, more than one row holds");
        }

        return entity.WithChunks("Facts", facts);
    }


    private static byte[] FactsOf(TableEntity entity) => ChunksOf(entity, "Facts");

    /// <summary>The stored appointment of a record row: the record is re-derived from its facts (the projection is pure).</summary>
    public static StoredAppointment FromEntity(TableEntity entity)
    {
        ArgumentNullException.ThrowIfNull(entity);
        var facts = BookingFacts.FromBytes(FactsOf(entity));
        var record = AppointmentProjection.Project(facts);
        var storedKey = entity.GetString("StaffKey");
        record = StaffAliases.AsStored(record, storedKey); // an id-less record filed under a user id through an alias (StaffAliases.cs)
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
}
