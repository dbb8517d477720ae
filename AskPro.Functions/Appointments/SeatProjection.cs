namespace AskPro.Functions.Appointments;

// TEMPORARY STUB (branch seats-b): the signatures of the lead's SeatProjection (issue 8, SEATS-CONTRACT), so that
// reconciliation's seat code compiles before the real projection is merged. The lead's file replaces this one.
public static class SeatProjection
{
    public static bool IsSeated(BookingFacts facts) => throw new NotImplementedException("stub: the real SeatProjection comes with issue 8");

    public static string SeatIdOf(string rootUid, string? email) => throw new NotImplementedException("stub: the real SeatProjection comes with issue 8");

    public static IReadOnlyList<Appointment> Project(BookingFacts facts) => throw new NotImplementedException("stub: the real SeatProjection comes with issue 8");

    public static IReadOnlyList<SeatSlot> Slots(BookingFacts facts) => throw new NotImplementedException("stub: the real SeatProjection comes with issue 8");
}

public sealed record SeatSlot(string Uid, string SlotId, DateTimeOffset? Start, DateTimeOffset? End, string? StaffKey, IReadOnlyList<string> ActiveSeatIds)
{
    public bool IsActive => ActiveSeatIds.Count > 0;
}
