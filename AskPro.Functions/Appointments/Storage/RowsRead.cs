using Azure;
using Azure.Data.Tables;
using E = AskPro.Functions.Appointments.AppointmentEntities;

namespace AskPro.Functions.Appointments;

/// <summary>
/// What the store learnt about the rows it read for one event, besides the records it loaded into the book: each row's
/// ETag (the guard of the write), the rows known to exist without being read, and each record's history and creation
/// time. Filled by <see cref="AppointmentTableStore"/> while reading, then read by <see cref="AppointmentWriter"/>.
/// </summary>
public sealed class RowsRead
{
    private readonly Dictionary<string, ETag> _etags = new(StringComparer.Ordinal);
    private readonly HashSet<string> _existing = new(StringComparer.Ordinal);
    private readonly Dictionary<string, IReadOnlyList<HistoryEntry>> _histories = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTimeOffset> _createdAt = new(StringComparer.Ordinal);

    public IReadOnlyDictionary<string, ETag> ETags => _etags;

    /// <summary>Rows that exist: read themselves, or part of a record read through another of its rows.</summary>
    public IReadOnlySet<string> Existing => _existing;

    /// <summary>Each loaded record's history, by AppointmentId.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<HistoryEntry>> Histories => _histories;

    public IReadOnlyDictionary<string, DateTimeOffset> CreatedAt => _createdAt;

    /// <summary>A row was read: its ETag guards the write.</summary>
    public void Read(TableEntity row)
    {
        ArgumentNullException.ThrowIfNull(row);
        _etags[row.RowKey] = row.ETag;
        _existing.Add(row.RowKey);
    }

    /// <summary>A record's row was read and loaded: every row of the record exists; its history and creation time are kept.</summary>
    public void Loaded(TableEntity row, StoredAppointment stored, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(row);
        ArgumentNullException.ThrowIfNull(stored);
        var id = stored.Record.AppointmentId;
        _createdAt[id] = row.GetDateTimeOffset("CreatedAt") ?? now;
        _histories[id] = AppointmentHistory.Read(row);
        _existing.UnionWith(stored.Uids.Select(E.UidKey));
        _existing.Add(row.RowKey.StartsWith(E.GroupPrefix, StringComparison.Ordinal) ? row.RowKey : E.AppointmentKey(id));
    }
}
