namespace AskPro.Functions.Appointments;

// TEMPORARY STUB (seats-a): the contract's signatures only, so the seat tests compile before the lead's
// implementation lands. Replaced by main's version at merge.

/// <summary>Per-seat records of a seated booking (issue 8). Stub: every member throws.</summary>
public static class SeatProjection
{
    public static bool IsSeated(BookingFacts facts) => throw new NotImplementedException("SeatProjection stub (seats-a)");

    public static string SeatIdOf(string rootUid, string? email) => throw new NotImplementedException("SeatProjection stub (seats-a)");

    public static IReadOnlyList<Appointment> Project(BookingFacts facts) => throw new NotImplementedException("SeatProjection stub (seats-a)");

    public static IReadOnlyList<SeatSlot> Slots(BookingFacts facts) => throw new NotImplementedException("SeatProjection stub (seats-a)");
}

/// <summary>A seated booking's time slot. Stub.</summary>
public sealed record SeatSlot(string Uid, string SlotId, DateTimeOffset? Start, DateTimeOffset? End, string? StaffKey, IReadOnlyList<string> ActiveSeatIds)
{
    public bool IsActive => ActiveSeatIds.Count > 0 && Start is not null && End is not null && StaffKey is not null;
}
