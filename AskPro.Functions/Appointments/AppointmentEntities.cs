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

    public const string RowTypeAppointment = "appointment";
    public const string RowTypeUid = "uid";
    public const string RowTypeMerged = "merged";
    public const string RowTypeStaff = "staff";

    public static string AppointmentKey(string appointmentId) => AppointmentPrefix + appointmentId;
    public static string UidKey(string uid) => UidPrefix + uid;
    public static string StaffRowKey(string staffKey) => StaffPrefix + staffKey;

    /// <summary>One row of a record; <c>facts</c> is its compressed event set, made once for all the record's rows.</summary>
    public static TableEntity ToEntity(string rowKey, StoredAppointment stored, byte[] facts, DateTimeOffset createdAt, DateTimeOffset updatedAt)
    {
        ArgumentNullException.ThrowIfNull(stored);
        var a = stored.Record;
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
            ["HasConflict"] = stored.HasConflict,
            ["ConflictsWith"] = string.Join(',', stored.ConflictsWith),
            ["LastEventAt"] = a.LastEventAt,
            ["LastTriggerEvent"] = a.LastTriggerEvent,
            ["CreatedAt"] = createdAt,
            ["UpdatedAt"] = updatedAt,
            ["EventCount"] = stored.Facts.Count,
        }.WithFacts(facts);
    }

    /// <summary>A binary property holds 64 KiB: the compressed event set is split over Facts, Facts1, Facts2, … as needed.</summary>
    private const int FactsChunk = 64 * 1024;
    private const int MaxFactsChunks = 15;

    private static TableEntity WithFacts(this TableEntity entity, byte[] facts)
    {
        var chunks = (facts.Length + FactsChunk - 1) / FactsChunk;
        if (chunks > MaxFactsChunks)
        {
            throw new UnstorableEventException($"the event set of {entity.GetString("AppointmentId")} is {facts.Length} bytes compressed, more than one row holds");
        }

        for (var i = 0; i < Math.Max(chunks, 1); i++)
        {
            entity[i == 0 ? "Facts" : $"Facts{i}"] = facts.AsSpan(i * FactsChunk, Math.Min(FactsChunk, facts.Length - (i * FactsChunk))).ToArray();
        }

        return entity;
    }

    private static byte[] FactsOf(TableEntity entity)
    {
        var parts = new List<byte[]>();
        for (var i = 0; entity.GetBinary(i == 0 ? "Facts" : $"Facts{i}") is { } part; i++)
        {
            parts.Add(part);
        }

        return parts.Count == 1 ? parts[0] : [.. parts.SelectMany(p => p)];
    }

    /// <summary>The stored appointment of a record row: the record is re-derived from its facts (the projection is pure).</summary>
    public static StoredAppointment FromEntity(TableEntity entity)
    {
        ArgumentNullException.ThrowIfNull(entity);
        var facts = BookingFacts.FromBytes(FactsOf(entity));
        return new StoredAppointment(AppointmentProjection.Project(facts), facts, SplitIds(entity.GetString("ConflictsWith")));
    }

    public static TableEntity MergedEntity(string retiredId, string mergedInto, DateTimeOffset updatedAt) =>
        new(PartitionKey, AppointmentKey(retiredId))
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

    public static TableEntity StaffEntity(string staffKey, IReadOnlyList<StaffRange> ranges, DateTimeOffset updatedAt)
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(ranges.Select(r => new RangeDto(r.AppointmentId, r.Start, r.End, r.Uids)).ToList(), RangesJsonContext.Default.ListRangeDto);
        return new TableEntity(PartitionKey, StaffRowKey(staffKey))
        {
            ["RowType"] = RowTypeStaff,
            ["RangeCount"] = ranges.Count,
            ["Ranges"] = Brotli.Compress(json),
            ["UpdatedAt"] = updatedAt,
        };
    }

    public static List<StaffRange> RangesOf(TableEntity entity)
    {
        ArgumentNullException.ThrowIfNull(entity);
        if (entity.GetBinary("Ranges") is not { Length: > 0 } bytes)
        {
            return [];
        }

        using var input = Brotli.Decompress(bytes);
        var dtos = JsonSerializer.Deserialize(input, RangesJsonContext.Default.ListRangeDto) ?? [];
        return dtos.Select(d => new StaffRange(d.Id, d.Start, d.End, d.Uids)).ToList();
    }

    public static List<string> SplitIds(string? joined) =>
        string.IsNullOrEmpty(joined) ? [] : [.. joined.Split(',', StringSplitOptions.RemoveEmptyEntries)];

    internal sealed record RangeDto(
        [property: JsonPropertyName("id")] string Id,
        [property: JsonPropertyName("s")] DateTimeOffset Start,
        [property: JsonPropertyName("e")] DateTimeOffset End,
        [property: JsonPropertyName("u")] IReadOnlyList<string> Uids);
}

[JsonSerializable(typeof(List<AppointmentEntities.RangeDto>))]
internal sealed partial class RangesJsonContext : JsonSerializerContext;
