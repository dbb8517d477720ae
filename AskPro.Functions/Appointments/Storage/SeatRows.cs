using Azure.Data.Tables;
using E = AskPro.Functions.Appointments.AppointmentEntities;

namespace AskPro.Functions.Appointments;

/// <summary>
/// A seated booking's rows for table readers (Storage/AppointmentWriter.cs derives them): one row per slot and per
/// seat, each seat with its own history, and redirects for seat ids that no longer exist.
/// </summary>
public static class SeatRows
{
    /// <summary>
    /// A seated booking's slot and seat rows that changed (or are new) against the records loaded, each seat with its
    /// own history; a seat id that no longer exists (its chain learnt an earlier uid) becomes a redirect to its successor.
    /// </summary>
    public static void Derive(StoredAppointment stored, List<StoredAppointment> previous, IReadOnlyDictionary<string, IReadOnlyList<HistoryEntry>> histories,
        HistoryEntry? entry, bool withEntry, DateTimeOffset created, DateTimeOffset now, Action<TableEntity, TableTransactionActionType> derive)
    {
        ArgumentNullException.ThrowIfNull(stored);
        ArgumentNullException.ThrowIfNull(previous);
        ArgumentNullException.ThrowIfNull(histories);
        ArgumentNullException.ThrowIfNull(derive);
        var id = stored.Record.AppointmentId;
        var oldSeats = previous.SelectMany(p => p.Seats).GroupBy(s => s.Record.AppointmentId, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        var oldSlots = previous.SelectMany(p => p.Slots.Select(s => (Slot: s, Conflicts: p.SlotConflicts.GetValueOrDefault(s.SlotId) ?? [])))
            .GroupBy(s => s.Slot.SlotId, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        var history = AppointmentHistory.Merge(histories.Where(h => previous.Any(p => p.Record.AppointmentId == h.Key)).Select(h => h.Value), withEntry ? entry : null);
        foreach (var slot in stored.Slots)
        {
            var conflicts = stored.SlotConflicts.GetValueOrDefault(slot.SlotId) ?? [];
            if (!oldSlots.TryGetValue(slot.SlotId, out var old) || !SameSlot(old.Slot, slot) || !old.Conflicts.SequenceEqual(conflicts))
            {
                derive(E.SlotEntity(slot, id, conflicts, now), TableTransactionActionType.UpsertReplace);
            }
        }

        var seats = stored.Seats;
        foreach (var seat in seats)
        {
            var seatId = seat.Record.AppointmentId;
            var touched = withEntry && (entry?.Seats?.Contains(seatId) ?? false);
            if (!oldSeats.TryGetValue(seatId, out var old) || old.Record != seat.Record || !old.ConflictsWith.SequenceEqual(seat.ConflictsWith) || touched)
            {
                derive(E.SeatEntity(seat, id, created, now).WithHistory(AppointmentHistory.ToJson(AppointmentHistory.OfSeat(history, seatId))), TableTransactionActionType.UpsertReplace);
                // A seat whose address has capitals had another id while seat e-mails were folded to lower case: the row
                // written under it then would keep its old status beside this one, so it becomes a redirect here.
                var legacy = SeatProjection.LegacySeatIdOf(seat.Record.RootUid, seat.Record.CustomerEmail);
                if (legacy != seatId && !seats.Any(s => s.Record.AppointmentId == legacy) && legacy != id)
                {
                    derive(E.MergedEntity(legacy, seatId, now), TableTransactionActionType.UpsertReplace);
                }
            }
        }

        foreach (var gone in oldSeats.Keys.Where(k => !seats.Any(s => s.Record.AppointmentId == k)))
        {
            var was = oldSeats[gone].Record;
            var successor = seats.FirstOrDefault(s => SeatProjection.Normal(s.Record.CustomerEmail) == SeatProjection.Normal(was.CustomerEmail)
                && s.Record.CalcomUids.Contains(was.CalcomUid))?.Record.AppointmentId ?? id;
            derive(E.MergedEntity(gone, successor, now), TableTransactionActionType.UpsertReplace);
        }
    }

    private static bool SameSlot(SeatSlot a, SeatSlot b) => a.Uid == b.Uid && a.Start == b.Start && a.End == b.End && a.StaffKey == b.StaffKey && a.ActiveSeatIds.SequenceEqual(b.ActiveSeatIds);
}
