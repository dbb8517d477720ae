using Azure.Data.Tables;

namespace AskPro.Functions.Appointments;

/// <summary>The redirect row kind (a retired id that lives on as another) and the conflict patch that merges into any record row.</summary>
public static partial class AppointmentEntities
{
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
}
