using System.Text.Json;
using System.Text.Json.Serialization;
using Azure.Data.Tables;

namespace AskPro.Functions.Appointments;

/// <summary>What reached an appointment, for the operator's "what happened to this booking?" (docs/operating.md#what-happened-to-booking-x).</summary>
public static class HistoryOutcome
{
    /// <summary>The event changed the record.</summary>
    public const string Applied = "applied";
    /// <summary>Nothing new: the same event content had arrived before under another delivery.</summary>
    public const string Duplicate = "duplicate";
    /// <summary>An AskPro-made booking: only the uid link is kept.</summary>
    public const string Skipped = "skipped";
    /// <summary>Applied, and the appointment now overlaps another one of the same staff member.</summary>
    public const string Conflict = "conflict";
    /// <summary>Written by a reconciliation pass (Cal.com API), not by a webhook delivery.</summary>
    public const string Reconciled = "reconciled";
    /// <summary>The booking was erased: the event was dropped (a log and metric outcome; no record keeps it).</summary>
    public const string Erased = "erased";

    public static string Of(ApplyResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return result.Outcome switch
        {
            ApplyOutcome.Unchanged => Duplicate,
            ApplyOutcome.Skipped => Skipped,
            ApplyOutcome.Erased => Erased,
            _ when result.ConflictsWith.Count > 0 => Conflict,
            _ => Applied,
        };
    }
}

/// <summary>Where an event came from: a webhook delivery (its id) or a reconciliation pass (its pass id).</summary>
public sealed record ApplySource(string Id, string Kind = ApplySource.Delivery)
{
    /// <summary>Cal.com's payload version of the delivery, when it said one.</summary>
    public string? PayloadVersion { get; init; }

    public const string Delivery = "delivery";
    public const string Reconciliation = "reconciliation";
}

/// <summary>One line of an appointment's history. No personal data: ids, trigger and times only.</summary>
public sealed record HistoryEntry(
    [property: JsonPropertyName("src")] string? SourceId,
    [property: JsonPropertyName("kind")] string SourceKind,
    [property: JsonPropertyName("trigger")] string TriggerEvent,
    [property: JsonPropertyName("createdAt")] DateTimeOffset? CalcomCreatedAt,
    [property: JsonPropertyName("appliedAt")] DateTimeOffset AppliedAt,
    [property: JsonPropertyName("outcome")] string Outcome)
{
    /// <summary>Cal.com's payload version of the delivery (<c>2021-10-20</c>, <c>2026-07-27</c>); absent when not said.</summary>
    [JsonPropertyName("ver")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? PayloadVersion { get; init; }

    /// <summary>The tenant whose delivery or pass this was (docs/tenants.md#what-a-tenant-is); absent for the default tenant.</summary>
    [JsonPropertyName("tenant")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Tenant { get; init; }

    /// <summary>A seated booking: the seats the event was about (null: the whole booking). A seat's history is its entries.</summary>
    [JsonPropertyName("seats")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? Seats { get; init; }

    /// <summary>Equality by value, the seat list by content (histories are merged with Distinct).</summary>
    public bool Equals(HistoryEntry? other) => other is not null && SourceId == other.SourceId && SourceKind == other.SourceKind
        && TriggerEvent == other.TriggerEvent && CalcomCreatedAt == other.CalcomCreatedAt && AppliedAt == other.AppliedAt && Outcome == other.Outcome
        && (Seats ?? []).SequenceEqual(other.Seats ?? []);

    public override int GetHashCode() => HashCode.Combine(SourceId, SourceKind, TriggerEvent, CalcomCreatedAt, AppliedAt, Outcome);
}

/// <summary>
/// An appointment's bounded history, stored as one string property (<see cref="PropertyName"/>, JSON) on the record's
/// rows and written in the same transaction as the record, so it can never disagree with it. Only the newest
/// <see cref="MaxEntries"/> entries are kept: at about 200 characters each that is under 16 KB, far inside a row's
/// 1 MiB and a string property's 64 KiB, however long the appointment lives.
/// </summary>
public static class AppointmentHistory
{
    /// <summary>
    /// The entries of one seat: those naming it (naming only it: a seat's row need not list every other seat of a
    /// slot-wide event) and those about the whole booking.
    /// </summary>
    public static IReadOnlyList<HistoryEntry> OfSeat(IReadOnlyList<HistoryEntry> history, string seatId)
    {
        ArgumentNullException.ThrowIfNull(history);
        return [.. history.Where(h => h.Seats is null || h.Seats.Contains(seatId)).Select(h => h.Seats is { Count: > 1 } ? h with { Seats = [seatId] } : h)];
    }

    public const string PropertyName = "History";
    public const int MaxEntries = 50;

    /// <summary>
    /// A string property holds 64 KiB of UTF-16: the history's JSON stays within 48 KiB of it (as UTF-16), oldest
    /// entries going first, whatever the entries list (a slot-wide event of a big slot lists every seat id).
    /// </summary>
    public const int MaxBytes = 48 * 1024;

    public static IReadOnlyList<HistoryEntry> Read(TableEntity row)
    {
        ArgumentNullException.ThrowIfNull(row);
        if (row.GetString(PropertyName) is not { Length: > 0 } json)
        {
            return [];
        }

        try
        {
            return JsonSerializer.Deserialize(json, HistoryJsonContext.Default.ListHistoryEntry) ?? [];
        }
        catch (JsonException)
        {
            // A damaged history must never block applying events: it restarts from here.
            return [];
        }
    }

    /// <summary>The union of several records' histories (a chain join) plus <paramref name="added"/>, oldest first, newest <see cref="MaxEntries"/>.</summary>
    public static List<HistoryEntry> Merge(IEnumerable<IReadOnlyList<HistoryEntry>> histories, HistoryEntry? added)
    {
        ArgumentNullException.ThrowIfNull(histories);
        var all = histories.SelectMany(h => h).Concat(added is null ? [] : [added]).Distinct().OrderBy(h => h.AppliedAt).ToList();
        var kept = all.Count <= MaxEntries ? all : all.GetRange(all.Count - MaxEntries, MaxEntries);
        return WithinBytes(kept);
    }

    /// <summary>
    /// The newest entries whose JSON fits <see cref="MaxBytes"/> (UTF-16, as the table counts). One entry alone over a
    /// quarter of it keeps the first seat ids that fit (a slot of thousands of seats); it is never dropped for that.
    /// </summary>
    private static List<HistoryEntry> WithinBytes(List<HistoryEntry> entries)
    {
        static int Size(HistoryEntry h) => 2 * (JsonSerializer.Serialize(h, HistoryJsonContext.Default.HistoryEntry).Length + 1);
        var result = new List<HistoryEntry>();
        var total = 4;
        for (var i = entries.Count - 1; i >= 0; i--)
        {
            var entry = entries[i];
            var size = Size(entry);
            if (size > MaxBytes / 4 && entry.Seats is { Count: > 0 } seats)
            {
                var room = ((MaxBytes / 4) - Size(entry with { Seats = [] })) / 2;
                var take = 0;
                for (var used = 0; take < seats.Count && used + seats[take].Length + 3 <= room; take++)
                {
                    used += seats[take].Length + 3;
                }

                entry = entry with { Seats = [.. seats.Take(take)] };
                size = Size(entry);
            }

            if (total + size > MaxBytes)
            {
                break;
            }

            total += size;
            result.Add(entry);
        }

        result.Reverse();
        return result;
    }

    public static bool Contains(IReadOnlyList<HistoryEntry> history, ApplySource source)
    {
        ArgumentNullException.ThrowIfNull(history);
        ArgumentNullException.ThrowIfNull(source);
        return history.Any(h => h.SourceId == source.Id && h.SourceKind == source.Kind);
    }

    public static string ToJson(IReadOnlyList<HistoryEntry> history) =>
        JsonSerializer.Serialize(history as List<HistoryEntry> ?? [.. history], HistoryJsonContext.Default.ListHistoryEntry);

    /// <summary>Sets the history property (its JSON, made once for all of a record's rows) on a row about to be written.</summary>
    public static TableEntity WithHistory(this TableEntity entity, string historyJson)
    {
        ArgumentNullException.ThrowIfNull(entity);
        entity[PropertyName] = historyJson;
        return entity;
    }
}

[JsonSerializable(typeof(List<HistoryEntry>))]
[JsonSerializable(typeof(HistoryEntry))]
internal sealed partial class HistoryJsonContext : JsonSerializerContext;
