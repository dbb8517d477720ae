using System.Text.Json;
using System.Text.Json.Serialization;
using AskPro.Functions.Storage;
using Azure.Data.Tables;

namespace AskPro.Functions.Appointments;

/// <summary>The staff calendar row kind: <c>stf_{staffKey}</c> with the compressed ranges or an alias row that names the user key an e-mail key stands for.</summary>
public static partial class AppointmentEntities
{
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
            var dropped = StaffCalendar.EarliestEnding(kept, drop).ToHashSet();
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


    /// <summary>Column of an alias row (an e-mail key's <c>stf_</c> row after StaffAliases.cs made it an alias): the user key the e-mail key stands for.</summary>
    public const string AliasColumn = "AliasOf";
    /// <summary>Column of a user key's calendar: the e-mail keys settled for it (aliased to it, or to an earlier id).</summary>
    public const string EmailKeysColumn = "EmailKeys";
    public const string RowTypeAlias = "staff-alias";

    /// <summary>The alias row: no ranges, the user key it stands for.</summary>
    public static TableEntity AliasEntity(string emailKey, string userKey, DateTimeOffset updatedAt) =>
        new(PartitionKey, StaffRowKey(emailKey))
        {
            ["RowType"] = RowTypeAlias,
            [AliasColumn] = userKey,
            ["UpdatedAt"] = updatedAt,
        };

    public static string? AliasOf(TableEntity row)
    {
        ArgumentNullException.ThrowIfNull(row);
        return row.GetString(AliasColumn) is { Length: > 0 } target ? target : null;
    }

    /// <summary>A calendar row with the e-mail keys settled for it.</summary>
    public static TableEntity WithEmailKeys(TableEntity staffRow, IReadOnlyCollection<string> emailKeys)
    {
        ArgumentNullException.ThrowIfNull(staffRow);
        ArgumentNullException.ThrowIfNull(emailKeys);
        if (emailKeys.Count > 0)
        {
            staffRow[EmailKeysColumn] = string.Join(',', emailKeys);
        }

        return staffRow;
    }

    public static List<string> EmailKeysOf(TableEntity staffRow)
    {
        ArgumentNullException.ThrowIfNull(staffRow);
        return SplitIds(staffRow.GetString(EmailKeysColumn));
    }

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
