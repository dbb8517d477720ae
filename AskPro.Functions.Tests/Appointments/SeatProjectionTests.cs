using AskPro.Functions.Appointments;
using AskPro.Functions.Calcom;
using T = AskPro.Functions.Calcom.CalcomTriggers;
using static AskPro.Functions.Tests.Appointments.SeatEvents;

namespace AskPro.Functions.Tests.Appointments;

/// <summary>The pure per-seat projection, on events as the reader makes them from Cal.com's seated bodies.</summary>
public sealed class SeatProjectionTests
{
    private static BookingFacts Facts(params BookingEvent[] events) => events.Aggregate(BookingFacts.Empty, (f, e) => f.With(e));

    [Fact]
    public void One_seat_cancel_cancels_only_that_seat_and_each_seat_keeps_its_own_customer()
    {
        var seats = SeatProjection.Project(Facts(
            Seat(T.BookingCreated, O, 0, "anna@example.de"),
            Seat(T.BookingCreated, O, 5, "bert@example.de"),
            Seat(T.BookingCreated, O, 9, "carla@example.de"),
            Seat(T.BookingCancelled, O, 30, "bert@example.de")));

        Assert.Equal(3, seats.Count);
        var byEmail = seats.ToDictionary(s => s.CustomerEmail!, StringComparer.Ordinal);
        Assert.Equal(AppointmentStatus.Cancelled, byEmail["bert@example.de"].Status);
        Assert.Equal(AppointmentStatus.Confirmed, byEmail["anna@example.de"].Status);
        Assert.Equal(AppointmentStatus.Confirmed, byEmail["carla@example.de"].Status);
        Assert.Equal("carla", byEmail["carla@example.de"].CustomerName);
        Assert.Equal(SeatProjection.SeatIdOf(O, "bert@example.de"), byEmail["bert@example.de"].AppointmentId);
        var slot = Assert.Single(SeatProjection.Slots(Facts(
            Seat(T.BookingCreated, O, 0, "anna@example.de"), Seat(T.BookingCancelled, O, 30, "anna@example.de"), Seat(T.BookingCreated, O, 40, "dora@example.de"))));
        Assert.Equal([SeatProjection.SeatIdOf(O, "dora@example.de")], slot.ActiveSeatIds);
    }

    [Fact]
    public void Two_e_mails_differing_only_in_letter_case_are_two_seats_and_a_cancel_of_one_leaves_the_other()
    {
        // Cal.com's duplicate check is `===`: Bert@Example.de and bert@example.de can hold two seats of one slot.
        var seats = SeatProjection.Project(Facts(
            Seat(T.BookingCreated, O, 5, "bert@example.de"),
            Seat(T.BookingCreated, O, 9, "Bert@Example.de"),
            Seat(T.BookingCancelled, O, 30, "Bert@Example.de")));

        Assert.Equal(2, seats.Count);
        var byEmail = seats.ToDictionary(s => s.CustomerEmail!, StringComparer.Ordinal);
        Assert.Equal(AppointmentStatus.Confirmed, byEmail["bert@example.de"].Status);
        Assert.Equal(AppointmentStatus.Cancelled, byEmail["Bert@Example.de"].Status);
        Assert.NotEqual(byEmail["bert@example.de"].AppointmentId, byEmail["Bert@Example.de"].AppointmentId);
    }

    [Fact]
    public void A_move_carrying_a_seat_reference_moves_only_the_attendee_that_reference_was_booked_for()
    {
        // The target's own events are lost, so the listing alone cannot tell the mover from the target's earlier attendee;
        // Cal.com's attendeeSeatId on the move (the reference bert's seat was booked with) can.
        var move = Seat(T.BookingRescheduled, Tgt, 20, "bert@example.de", "emil@example.de") with
        {
            RescheduleUid = O, RescheduleStartTime = Ten, RescheduleEndTime = Ten.AddMinutes(45), AttendeeSeatId = "ref-bert",
        };
        var seats = SeatProjection.Project(Facts(
            Seat(T.BookingCreated, O, 0, "bert@example.de") with { AttendeeSeatId = "ref-bert" },
            Seat(T.BookingCreated, O, 1, "emil@example.de") with { AttendeeSeatId = "ref-emil" },
            move));

        var byEmail = seats.Where(s => s.CalcomUids[0] == O).ToDictionary(s => s.CustomerEmail!, StringComparer.Ordinal);
        Assert.Equal([O, Tgt], byEmail["bert@example.de"].CalcomUids);
        Assert.Equal(AppointmentStatus.Confirmed, byEmail["bert@example.de"].Status);
        Assert.Equal([O], byEmail["emil@example.de"].CalcomUids);
        Assert.Equal(AppointmentStatus.Confirmed, byEmail["emil@example.de"].Status);
    }

    [Fact]
    public void A_lower_case_address_seat_id_is_the_one_seat_ids_always_had()
    {
        // Ids of rows written before seat e-mails were compared exactly: SHA-256 of root uid, newline, lower-cased e-mail.
        static string Legacy(string root, string email) =>
            "apt_" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(root + "\n" + email.Trim().ToLowerInvariant())).AsSpan(0, 10));

        Assert.Equal(Legacy(O, "anna@example.de"), SeatProjection.SeatIdOf(O, "anna@example.de"));
        Assert.Equal(Legacy(O, " anna@example.de "), SeatProjection.SeatIdOf(O, " anna@example.de "));
        Assert.NotEqual(SeatProjection.SeatIdOf(O, "anna@example.de"), SeatProjection.SeatIdOf(O, "Anna@example.de"));
    }

    [Fact]
    public void A_host_cancel_listing_everyone_cancels_every_seat()
    {
        var seats = SeatProjection.Project(Facts(
            Seat(T.BookingCreated, O, 0, "anna@example.de"),
            Seat(T.BookingCreated, O, 5, "bert@example.de"),
            Seat(T.BookingCancelled, O, 30, "anna@example.de", "bert@example.de")));

        Assert.All(seats, s => Assert.Equal(AppointmentStatus.Cancelled, s.Status));
        Assert.False(Assert.Single(SeatProjection.Slots(Facts(Seat(T.BookingCancelled, O, 30, "anna@example.de")))).IsActive);
    }

    [Fact]
    public void A_seat_moved_to_an_empty_slot_takes_only_its_holder_along()
    {
        var move = Seat(T.BookingRescheduled, N, 20, "bert@example.de") with { RescheduleUid = O };
        var facts = Facts(Seat(T.BookingCreated, O, 0, "anna@example.de"), Seat(T.BookingCreated, O, 5, "bert@example.de"), move);
        var byEmail = SeatProjection.Project(facts).ToDictionary(s => s.CustomerEmail!);

        Assert.Equal([O, N], byEmail["bert@example.de"].CalcomUids);
        Assert.Equal(SeatProjection.SeatIdOf(O, "bert@example.de"), byEmail["bert@example.de"].AppointmentId);
        Assert.Equal(Ten.AddHours(2), byEmail["bert@example.de"].StartTime);
        Assert.Equal(Ten, byEmail["bert@example.de"].PreviousStartTime);
        Assert.Equal([O], byEmail["anna@example.de"].CalcomUids);
        Assert.Equal(AppointmentStatus.Confirmed, byEmail["anna@example.de"].Status);
        var slots = SeatProjection.Slots(facts).ToDictionary(s => s.Uid);
        Assert.Equal([SeatProjection.SeatIdOf(O, "anna@example.de")], slots[O].ActiveSeatIds);
        Assert.Equal([SeatProjection.SeatIdOf(O, "bert@example.de")], slots[N].ActiveSeatIds);
    }

    [Fact]
    public void A_seat_moved_into_another_booking_joins_it_and_leaves_its_seats_alone()
    {
        var move = Seat(T.BookingRescheduled, Tgt, 20, "bert@example.de", "emil@example.de") with { RescheduleUid = O, RescheduleStartTime = Ten, RescheduleEndTime = Ten.AddMinutes(45) };
        var events = new[] { Seat(T.BookingCreated, O, 0, "anna@example.de"), Seat(T.BookingCreated, O, 5, "bert@example.de"), Seat(T.BookingCreated, Tgt, 7, "emil@example.de"), move };
        foreach (var order in new[] { events, events.Reverse().ToArray() })
        {
            var byEmail = SeatProjection.Project(Facts(order)).ToDictionary(s => s.CustomerEmail!);
            Assert.Equal([O, Tgt], byEmail["bert@example.de"].CalcomUids);
            Assert.Equal([Tgt], byEmail["emil@example.de"].CalcomUids);
            Assert.Equal(SeatProjection.SeatIdOf(Tgt, "emil@example.de"), byEmail["emil@example.de"].AppointmentId);
            Assert.All(byEmail.Values, s => Assert.Equal(AppointmentStatus.Confirmed, s.Status));
        }
    }

    [Fact]
    public void The_owner_moving_the_whole_booking_moves_every_seat_but_revives_none()
    {
        var ownerMove = Seat(T.BookingRescheduled, O, 40, "anna@example.de", "bert@example.de") with { RescheduleUid = O, StartTime = Ten.AddDays(1), EndTime = Ten.AddDays(1).AddMinutes(45) };
        var seats = SeatProjection.Project(Facts(Seat(T.BookingCreated, O, 0, "anna@example.de"), Seat(T.BookingCreated, O, 5, "bert@example.de"),
            Seat(T.BookingCreated, O, 6, "carla@example.de"), Seat(T.BookingCancelled, O, 10, "carla@example.de"), ownerMove));

        Assert.All(seats, s => Assert.Equal(Ten.AddDays(1), s.StartTime));
        Assert.Equal(AppointmentStatus.Cancelled, seats.Single(s => s.CustomerEmail == "carla@example.de").Status);
        Assert.Equal(2, seats.Count(s => s.Status == AppointmentStatus.Confirmed));
    }

    [Fact]
    public void The_same_person_booking_again_after_cancelling_holds_a_seat_again()
    {
        var seats = SeatProjection.Project(Facts(Seat(T.BookingCreated, O, 0, "anna@example.de"), Seat(T.BookingCancelled, O, 10, "anna@example.de"),
            Seat(T.BookingCreated, O, 20, "anna@example.de") with { AttendeeSeatId = "seat-2" }));

        Assert.Equal(AppointmentStatus.Confirmed, Assert.Single(seats).Status);
    }
}
