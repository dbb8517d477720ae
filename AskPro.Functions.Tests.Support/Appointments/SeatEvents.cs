using AskPro.Functions.Calcom;
using T = AskPro.Functions.Calcom.CalcomTriggers;

namespace AskPro.Functions.Tests.Appointments;

/// <summary>Seat events as the reader makes them from Cal.com's seated bodies: three slots, one first booker, any attendees.</summary>
public static class SeatEvents
{
    public const string O = "SeatSlotOriginal0000001";
    public const string N = "SeatSlotNewBooking00001";
    public const string Tgt = "SeatSlotTargetBooking01";
    public static readonly DateTimeOffset Ten = new(2026, 12, 14, 10, 0, 0, TimeSpan.Zero);
    public static readonly DateTimeOffset Day = new(2026, 12, 1, 8, 0, 0, TimeSpan.Zero);

    public static BookingEvent Seat(string trigger, string uid, int minute, params string[] emails) => new()
    {
        TriggerEvent = trigger,
        Uid = uid,
        CreatedAt = Day.AddMinutes(minute),
        BookingId = 5100001,
        StartTime = uid == O ? Ten : uid == N ? Ten.AddHours(2) : Ten.AddHours(4),
        EndTime = (uid == O ? Ten : uid == N ? Ten.AddHours(2) : Ten.AddHours(4)).AddMinutes(45),
        SeatsPerTimeSlot = 6,
        Organizer = new Person("Dr. Weber", "praxis@example.de", null),
        OrganizerId = 4711,
        // Cal.com rebuilds `responses` from the booking row: they name the first booker, whoever the event is about.
        Customer = new Person("Anna Erste", "anna@example.de", null),
        Attendees = [.. emails.Select(e => new Attendee(e.Split('@')[0], e, null, null, null))],
        Status = trigger == T.BookingCancelled ? "CANCELLED" : "ACCEPTED",
    };
}
