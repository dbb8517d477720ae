namespace AskPro.Functions.Appointments;

/// <summary>An appointment as stored: its record, its facts and who it conflicts with.</summary>
public sealed record StoredAppointment(Appointment Record, BookingFacts Facts, IReadOnlyList<string> ConflictsWith)
{
    public bool HasConflict => ConflictsWith.Count > 0;

    /// <summary>
    /// The staff key the stored row was written under, when it differs from what the projection now derives (rows
    /// written before staff were keyed by user id): its calendar is loaded too, so the range moves to the new key.
    /// </summary>
    public string? StoredStaffKey { get; init; }

    /// <summary>
    /// Every uid of the fact set: the chain (original first, current last), then uids off the chain (a second branch
    /// from one original) in ordinal order. Each has a row and reaches this record.
    /// </summary>
    public IReadOnlyList<string> Uids
    {
        get
        {
            // Cached per (record, facts): a `with` copy that changes either recomputes.
            if (_uids is not { } cached || !ReferenceEquals(cached.Record, Record) || !ReferenceEquals(cached.Facts, Facts))
            {
                var chain = Record.CalcomUids;
                IReadOnlyList<string> all = Facts.Count == 0 ? chain : [.. chain, .. Facts.Uids.Where(u => !chain.Contains(u)).Order(StringComparer.Ordinal)];
                _uids = cached = (Record, Facts, all);
            }

            return cached.Uids;
        }
    }

    private (Appointment Record, BookingFacts Facts, IReadOnlyList<string> Uids)? _uids;

    /// <summary>A seated booking's conflicts, per slot (slot id → ids of the overlapping appointments or slots).</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> SlotConflicts { get; init; } = NoSlotConflicts;

    private static readonly Dictionary<string, IReadOnlyList<string>> NoSlotConflicts = new(StringComparer.Ordinal);

    /// <summary>True when the set is about a seated event type: its records are <see cref="Seats"/>, one per seat.</summary>
    public bool IsSeated => SeatProjection.IsSeated(Facts);

    /// <summary>One stored appointment per seat (its conflicts are its slot's); empty for a booking without seats.</summary>
    public IReadOnlyList<StoredAppointment> Seats => IsSeated
        ? [.. SeatProjection.Project(Facts).Select(seat => new StoredAppointment(seat, Facts, SlotConflicts.GetValueOrDefault(seat.SlotId!) ?? []))]
        : [];

    /// <summary>A seated booking's slots (one per uid); empty for a booking without seats.</summary>
    public IReadOnlyList<SeatSlot> Slots => IsSeated ? SeatProjection.Slots(Facts) : [];

    /// <summary>
    /// The ranges this appointment holds in staff calendars: its own while active, or, seated, one per active slot
    /// (the slot once, however many seats); a plain range lists every uid so a conflict patch reaches every row, a slot's
    /// range names its booking's group row and its seats instead.
    /// </summary>
    public IReadOnlyList<StaffRange> Ranges => IsSeated
        ? [.. Slots.Where(s => s.IsActive).Select(s => new StaffRange(s.SlotId, s.Start!.Value, s.End!.Value, []) { StaffKey = s.StaffKey, Group = Record.AppointmentId, Seats = s.ActiveSeatIds })]
        : Record.HasActiveRange ? [new StaffRange(Record.AppointmentId, Record.StartTime!.Value, Record.EndTime!.Value, Uids) { StaffKey = Record.StaffKey }] : [];

    /// <summary>Every staff key this appointment's rows or slots name (active or not): the calendars a change may touch.</summary>
    public IEnumerable<string> StaffKeys => (IsSeated ? Slots.Select(s => s.StaffKey) : [Record.StaffKey]).Append(StoredStaffKey).OfType<string>();
}
