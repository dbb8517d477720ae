namespace AskPro.Functions.Appointments;

/// <summary>
/// Everything applying events changed in a book since it was loaded: the value the store turns into writes
/// (Storage/AppointmentWriter.cs). Immutable; the book hands out a new one with each <see cref="ApplyResult"/>.
/// </summary>
public sealed record BookChanges
{
    public static readonly BookChanges None = new();

    /// <summary>Records to write, by id, as they are now (a retired id is in <see cref="Retired"/> instead).</summary>
    public IReadOnlyDictionary<string, StoredAppointment> Written { get; init; } = Empty<StoredAppointment>();

    /// <summary>Records joined into another one: id → the id they live on as (their rows become redirects).</summary>
    public IReadOnlyDictionary<string, string> Retired { get; init; } = Empty<string>();

    /// <summary>Every record as it was loaded (before any event was applied): what the writer compares against.</summary>
    public IReadOnlyDictionary<string, StoredAppointment> Before { get; init; } = Empty<StoredAppointment>();

    /// <summary>Staff calendars that changed, by staff key, as they are now.</summary>
    public IReadOnlyDictionary<string, StaffCalendar> Calendars { get; init; } = Empty<StaffCalendar>();

    /// <summary>The e-mail keys settled for each changed calendar (StaffAliases.cs): the calendar row lists them.</summary>
    public IReadOnlyDictionary<string, IReadOnlyCollection<string>> EmailKeys { get; init; } = Empty<IReadOnlyCollection<string>>();

    /// <summary>Staff aliases this book made: e-mail key → user key (alias rows to write, replacing e-mail calendars).</summary>
    public IReadOnlyDictionary<string, string> NewAliases { get; init; } = Empty<string>();

    /// <summary>Partners not loaded whose conflict flags change: id → the new flags and the rows that carry them.</summary>
    public IReadOnlyDictionary<string, ConflictUpdate> Partners { get; init; } = Empty<ConflictUpdate>();

    /// <summary>Every changed record id (written or retired), in ordinal order: the order rows are written in.</summary>
    public IEnumerable<string> RecordIds => Written.Keys.Concat(Retired.Keys).Order(StringComparer.Ordinal);

    public bool IsEmpty => Written.Count == 0 && Retired.Count == 0 && Calendars.Count == 0 && NewAliases.Count == 0 && Partners.Count == 0;

    private static Dictionary<string, T> Empty<T>() => new(StringComparer.Ordinal);
}
