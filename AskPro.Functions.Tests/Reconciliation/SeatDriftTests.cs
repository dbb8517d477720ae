using System.Text.Json;
using AskPro.Functions.Appointments;
using AskPro.Functions.Calcom;
using AskPro.Functions.Reconciliation;

namespace AskPro.Functions.Tests.Reconciliation;

/// <summary>
/// The seat-by-seat decision, pure: a seated booking as the API shows it against hand-made seat records and their
/// event set. Which seats are booked, cancelled or left alone, with which event and which date.
/// </summary>
public sealed class SeatDriftTests
{
    private const string Slot = "Gs5TqW8nLp2XcR7vK1mB4d";
    private const string Other = "Hm6UrX9oMq3YdS8wL2nC5e";
    private static readonly DateTimeOffset Start = new(2026, 2, 10, 17, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Booked = new(2026, 1, 20, 8, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Updated = Booked.AddHours(2);
    private static readonly DateTimeOffset ReadAt = Booked.AddDays(3);
    private static readonly TimeSpan Margin = TimeSpan.FromMinutes(5);

    private static readonly FakeCalcomApi.Seat Max = new("Max Mustermann", "max.mustermann@example.com", "seatA1xQ9LpR2wKc7VnB4mZ");
    private static readonly FakeCalcomApi.Seat Erika = new("Erika Musterfrau", "erika.musterfrau@example.org", "seatB2yR8KqS3xLd6WmC5nY");
    private static readonly FakeCalcomApi.Seat Jonas = new("Jonas Beispiel", "jonas.beispiel@example.net", "seatC3zS7JrT4yMe5XnD6pX");

    private static CalcomApiBooking Api(IEnumerable<FakeCalcomApi.Seat> seats, string status = "accepted", DateTimeOffset? start = null,
        long hostId = 98765, string location = "Hauptstraße 12, 10115 Berlin", Action<System.Text.Json.Nodes.JsonObject>? edit = null)
    {
        var json = FakeCalcomApi.SeatedBooking(Slot, start ?? Start, Updated, seats, status, hostId: hostId, location: location);
        edit?.Invoke(json);
        return JsonSerializer.Deserialize(json.ToJsonString(), CalcomApiJsonContext.Default.CalcomApiBooking)!;
    }

    /// <summary>A seat record as the projection makes it: the slot's times, host and location, the attendee's own customer fields.</summary>
    private static Appointment Seat(FakeCalcomApi.Seat who, string status = AppointmentStatus.Confirmed, string[]? chain = null) => new()
    {
        AppointmentId = "apt_" + who.SeatUid[..8].ToLowerInvariant(),
        RootUid = (chain ?? [Slot])[0],
        CalcomUid = (chain ?? [Slot])[^1],
        CalcomUids = chain ?? [Slot],
        Status = status,
        Source = AppointmentProjection.DirectSource,
        CustomerName = who.Name,
        CustomerEmail = who.Email,
        StartTime = Start,
        EndTime = Start.AddMinutes(90),
        StaffUserId = 98765,
        StaffEmail = "anna.schmidt@praxis-example.de",
        Location = "Hauptstraße 12, 10115 Berlin",
        SeatsPerTimeSlot = 8,
    };

    /// <summary>The seated event Cal.com sent about <paramref name="who"/>.</summary>
    private static BookingEvent Event(string trigger, FakeCalcomApi.Seat who, DateTimeOffset at, string uid = Slot) => new()
    {
        TriggerEvent = trigger,
        Uid = uid,
        CreatedAt = at,
        StartTime = Start,
        EndTime = Start.AddMinutes(90),
        SeatsPerTimeSlot = 8,
        Attendees = [new Attendee(who.Name, who.Email, null, null, trigger == CalcomTriggers.BookingCreated ? who.SeatUid : null)],
    };

    private static BookingFacts Facts(params BookingEvent[] events) => events.Aggregate(BookingFacts.Empty, (f, e) => f.With(e));

    private static readonly BookingFacts TwoBooked = Facts(Event(CalcomTriggers.BookingCreated, Max, Booked), Event(CalcomTriggers.BookingCreated, Erika, Booked.AddMinutes(10)));
    private static readonly BookingFacts ThreeBooked = TwoBooked.With(Event(CalcomTriggers.BookingCreated, Jonas, Booked.AddMinutes(20)));

    private static SeatComparison Compare(CalcomApiBooking api, IReadOnlyList<Appointment> seats, BookingFacts facts, DateTimeOffset? readAt = null) =>
        SeatDrift.Compare(api, seats, facts, readAt ?? ReadAt, Margin);

    [Fact]
    public void Seats_the_records_hold_as_the_API_shows_them_are_no_drift()
    {
        var result = Compare(Api([Max, Erika, Jonas]), [Seat(Max), Seat(Erika), Seat(Jonas)], ThreeBooked);

        Assert.Equal(Drift.None, result.Drift);
        Assert.Empty(result.Repairs);
    }

    [Fact]
    public void An_attendee_without_a_seat_record_gets_a_booking_of_that_seat_only()
    {
        var result = Compare(Api([Max, Erika, Jonas]), [Seat(Max), Seat(Erika)], TwoBooked);

        Assert.Equal(DriftKind.Different, result.Drift.Kind);
        var repair = Assert.Single(result.Repairs);
        Assert.Equal((CalcomTriggers.BookingCreated, "seat_missing", (string?)null), (repair.Trigger, repair.Field, repair.RescheduleUid));
        Assert.Equal([Jonas.SeatUid], repair.Attendees.Select(a => a.SeatUid));
        Assert.Equal(Updated, repair.CreatedAt); // nothing known about that seat: the snapshot's own age
        Assert.Equal(8, result.SeatsPerTimeSlot); // as the slot's events stated it: the API output does not show it
    }

    [Fact]
    public void A_seat_the_API_no_longer_lists_on_a_live_slot_is_cancelled_for_that_attendee_only()
    {
        // Jonas booked after the slot row last changed; his seat cancel did not change it either.
        var facts = Facts(Event(CalcomTriggers.BookingCreated, Max, Booked), Event(CalcomTriggers.BookingCreated, Erika, Booked.AddMinutes(10)),
            Event(CalcomTriggers.BookingCreated, Jonas, Updated.AddHours(5)));

        var result = Compare(Api([Max, Erika]), [Seat(Max), Seat(Erika), Seat(Jonas)], facts);

        var repair = Assert.Single(result.Repairs);
        Assert.Equal((CalcomTriggers.BookingCancelled, "seat_lost"), (repair.Trigger, repair.Field));
        Assert.Equal([Jonas.Email], repair.Attendees.Select(a => a.Email));
        // Dated just after what the record knows of that seat, not by updatedAt, which its own booking already passed.
        Assert.Equal(Updated.AddHours(5).AddMilliseconds(1), repair.CreatedAt);
        Assert.Equal(["seat_lost"], result.Drift.Fields);
    }

    [Fact]
    public void A_lost_seat_cancel_of_a_seat_older_than_the_slots_last_change_is_dated_by_updatedAt()
    {
        var result = Compare(Api([Max, Erika]), [Seat(Max), Seat(Erika), Seat(Jonas)], ThreeBooked);

        Assert.Equal(Updated, Assert.Single(result.Repairs).CreatedAt);
    }

    [Fact]
    public void Two_seats_whose_emails_differ_only_in_letter_case_are_two_seats_and_a_lost_cancel_ends_only_the_one_the_API_dropped()
    {
        // Cal.com compares attendee e-mails exactly, so these are two seats there; the API no longer lists the second.
        var twin = new FakeCalcomApi.Seat("Erika Zwilling", "Erika.Musterfrau@EXAMPLE.org", "seatD4aT6HsU5zNf4YoE7qW");
        var facts = ThreeBooked.With(Event(CalcomTriggers.BookingCreated, twin, Booked.AddMinutes(30)));

        var result = Compare(Api([Max, Erika, Jonas]), [Seat(Max), Seat(Erika), Seat(Jonas), Seat(twin)], facts);

        var repair = Assert.Single(result.Repairs);
        Assert.Equal((CalcomTriggers.BookingCancelled, "seat_lost"), (repair.Trigger, repair.Field));
        Assert.Equal([twin.Email], repair.Attendees.Select(a => a.Email));
    }

    [Fact]
    public void A_seat_that_moved_to_another_slot_is_not_cancelled_here()
    {
        var moved = Seat(Jonas, chain: [Slot, Other]);

        var result = Compare(Api([Max, Erika]), [Seat(Max), Seat(Erika), moved], ThreeBooked);

        Assert.Equal(Drift.None, result.Drift);
        Assert.Empty(result.Repairs);
    }

    [Fact]
    public void A_stale_read_that_still_lists_a_seat_the_record_moved_away_books_nothing_here()
    {
        var moved = Seat(Jonas, chain: [Slot, Other]);

        Assert.Empty(Compare(Api([Max, Erika, Jonas]), [Seat(Max), Seat(Erika), moved], ThreeBooked).Repairs);
    }

    [Fact]
    public void An_already_cancelled_seat_the_API_does_not_list_is_no_drift()
    {
        var facts = ThreeBooked.With(Event(CalcomTriggers.BookingCancelled, Jonas, Updated.AddHours(1)));

        Assert.Equal(Drift.None, Compare(Api([Max, Erika]), [Seat(Max), Seat(Erika), Seat(Jonas, AppointmentStatus.Cancelled)], facts).Drift);
    }

    [Fact]
    public void An_attendee_listed_again_after_a_cancel_the_record_holds_is_booked_again_after_that_cancel()
    {
        var cancelled = Updated.AddHours(1);
        var facts = ThreeBooked.With(Event(CalcomTriggers.BookingCancelled, Jonas, cancelled));

        var result = Compare(Api([Max, Erika, Jonas with { SeatUid = "seatD4aT6KsU5zNf4YoE7qW" }]), [Seat(Max), Seat(Erika), Seat(Jonas, AppointmentStatus.Cancelled)], facts);

        var repair = Assert.Single(result.Repairs);
        Assert.Equal((CalcomTriggers.BookingCreated, "seat_status", cancelled.AddMilliseconds(1)), (repair.Trigger, repair.Field, repair.CreatedAt));
        Assert.Equal("seatD4aT6KsU5zNf4YoE7qW", Assert.Single(repair.Attendees).SeatUid);
    }

    [Fact]
    public void A_seat_change_the_record_learnt_within_the_margin_of_the_read_is_left_for_a_later_pass()
    {
        // Jonas booked a minute before the pass read the API: a replica may not show him yet.
        var facts = TwoBooked.With(Event(CalcomTriggers.BookingCreated, Jonas, ReadAt.AddMinutes(-1)));

        var result = Compare(Api([Max, Erika]), [Seat(Max), Seat(Erika), Seat(Jonas)], facts);

        Assert.Empty(result.Repairs);
        Assert.Equal(1, result.Deferred);
        Assert.Equal(["seat_lost"], result.Drift.Fields); // still counted as drift
        // Once the read is later than that by more than the margin, the same state is repaired.
        Assert.Single(Compare(Api([Max, Erika]), [Seat(Max), Seat(Erika), Seat(Jonas)], facts, ReadAt.AddMinutes(10)).Repairs);
    }

    [Fact]
    public void A_live_slot_that_lists_no_attendees_cancels_nobody()
    {
        Assert.Empty(Compare(Api([]), [Seat(Max), Seat(Erika), Seat(Jonas)], ThreeBooked).Repairs);
    }

    [Theory]
    [InlineData("cancelled", CalcomTriggers.BookingCancelled)]
    [InlineData("rejected", CalcomTriggers.BookingRejected)]
    public void A_cancelled_or_rejected_slot_ends_every_seat_still_active_here_in_one_event(string status, string trigger)
    {
        var facts = ThreeBooked.With(Event(CalcomTriggers.BookingCancelled, Jonas, Booked.AddHours(1)));
        var seats = new[] { Seat(Max), Seat(Erika), Seat(Jonas, AppointmentStatus.Cancelled), Seat(new("Lena Neu", "lena.neu@example.com", "seatE5bU5LtV6aOg3ZpF8rV"), chain: [Slot, Other]) };

        var result = Compare(Api([Max, Erika], status), seats, facts);

        var repair = Assert.Single(result.Repairs);
        Assert.Equal((trigger, "status", Updated), (repair.Trigger, repair.Field, repair.CreatedAt));
        Assert.Equal([Max.Email, Erika.Email], repair.Attendees.Select(a => a.Email));
    }

    [Fact]
    public void A_slot_whose_seats_are_all_ended_already_is_no_drift_when_cancelled()
    {
        var seats = new[] { Seat(Max, AppointmentStatus.Cancelled), Seat(Erika, AppointmentStatus.Cancelled) };

        Assert.Equal(Drift.None, Compare(Api([Max, Erika], "cancelled"), seats, ThreeBooked).Drift);
    }

    [Fact]
    public void A_new_time_for_the_whole_slot_is_one_move_in_place_listing_no_attendee()
    {
        var result = Compare(Api([Max, Erika, Jonas], start: Start.AddHours(1)), [Seat(Max), Seat(Erika), Seat(Jonas)], ThreeBooked);

        var repair = Assert.Single(result.Repairs);
        Assert.Equal((CalcomTriggers.BookingRescheduled, Slot, Updated), (repair.Trigger, repair.RescheduleUid, repair.CreatedAt));
        Assert.Empty(repair.Attendees);
        Assert.Equal(["start", "end"], result.Drift.Fields);
    }

    [Fact]
    public void A_new_host_or_location_for_the_slot_is_one_slot_level_event()
    {
        var host = Compare(Api([Max, Erika, Jonas], hostId: 55555), [Seat(Max), Seat(Erika), Seat(Jonas)], ThreeBooked);
        var place = Compare(Api([Max, Erika, Jonas], location: "Gartenweg 3, 10115 Berlin"), [Seat(Max), Seat(Erika), Seat(Jonas)], ThreeBooked);

        Assert.Equal(CalcomTriggers.BookingReassigned, Assert.Single(host.Repairs).Trigger);
        Assert.Equal(CalcomTriggers.BookingLocationUpdated, Assert.Single(place.Repairs).Trigger);
        Assert.All(host.Repairs.Concat(place.Repairs), r => Assert.Empty(r.Attendees));
    }

    [Fact]
    public void A_seat_that_is_still_in_the_slot_the_booking_came_from_moves_rather_than_doubles()
    {
        var api = Api([Jonas], edit: j => j["rescheduledFromUid"] = Other);
        var atOther = Seat(Jonas, chain: [Other]);

        var repair = Assert.Single(Compare(api, [atOther], Facts(Event(CalcomTriggers.BookingCreated, Jonas, Booked, Other))).Repairs);

        Assert.Equal((CalcomTriggers.BookingRescheduled, Other), (repair.Trigger, repair.RescheduleUid));
        Assert.Equal([Jonas.Email], repair.Attendees.Select(a => a.Email));
    }

    [Fact]
    public void A_slot_nothing_is_known_about_is_missing_and_every_seat_is_booked()
    {
        var result = Compare(Api([Max, Erika, Jonas]), [], BookingFacts.Empty);

        Assert.Equal(DriftKind.Missing, result.Drift.Kind);
        Assert.Equal([Max.Email, Erika.Email, Jonas.Email], result.Repairs.Select(r => Assert.Single(r.Attendees).Email));
        Assert.All(result.Repairs, r => Assert.Equal(CalcomTriggers.BookingCreated, r.Trigger));
        Assert.Equal(3, result.SeatsPerTimeSlot); // no event stated the size: as many as are known
    }

    [Fact]
    public void A_pending_slot_books_a_missing_seat_as_a_request()
    {
        Assert.Equal(CalcomTriggers.BookingRequested,
            Assert.Single(Compare(Api([Max], "pending"), [], BookingFacts.Empty).Repairs).Trigger);
    }

    [Fact]
    public void Every_repair_reads_back_as_a_seated_event_about_exactly_its_attendees()
    {
        var api = Api([Max, Jonas]);
        var result = Compare(api, [Seat(Max), Seat(Erika)], TwoBooked);
        Assert.Equal(2, result.Repairs.Count);

        foreach (var repair in result.Repairs)
        {
            var e = CalcomWebhookReader.Read(SyntheticWebhook.SeatBody(api, repair.Trigger, repair.Attendees, result.SeatsPerTimeSlot, repair.CreatedAt, "pass-1", repair.RescheduleUid)).Event!;
            Assert.True(e.IsSeated);
            Assert.Equal((repair.Trigger, Slot, repair.CreatedAt), (e.TriggerEvent, e.Uid, e.CreatedAt));
            Assert.Equal(repair.Attendees.Select(a => a.Email), e.Attendees!.Select(a => a.Email));
        }

        Assert.Equal([(CalcomTriggers.BookingCreated, Jonas.Email), (CalcomTriggers.BookingCancelled, Erika.Email)],
            result.Repairs.Select(r => (r.Trigger, r.Attendees[0].Email)));
    }

    [Fact]
    public void The_cancel_of_a_rebooked_seat_names_that_seat_so_it_is_not_taken_for_the_earlier_cancel()
    {
        // Jonas cancelled (a repaired cancel, in the facts), rebooked with a new seat, then cancelled again, webhook lost.
        var earlier = Compare(Api([Max, Erika]), [Seat(Max), Seat(Erika), Seat(Jonas)], ThreeBooked).Repairs.Single();
        var rebooked = Jonas with { SeatUid = "seatD4aT6KsU5zNf4YoE7qW" };
        var facts = ThreeBooked.With(Read(earlier, Api([Max, Erika]))).With(Event(CalcomTriggers.BookingCreated, rebooked, Updated.AddHours(3)));

        var again = Compare(Api([Max, Erika]), [Seat(Max), Seat(Erika), Seat(Jonas)], facts).Repairs.Single();

        Assert.Equal(("seat_lost", "seatD4aT6KsU5zNf4YoE7qW", Updated.AddHours(3).AddMilliseconds(1)), (again.Field, again.Attendees[0].SeatUid, again.CreatedAt));
        Assert.False(facts.Contains(Read(again, Api([Max, Erika]))), "the second cancel reads as the first one, which the record already holds");
    }

    [Fact]
    public void A_cancelled_slot_at_another_time_than_the_record_knows_is_moved_too()
    {
        var seats = new[] { Seat(Max, AppointmentStatus.Cancelled), Seat(Erika, AppointmentStatus.Cancelled) };

        var result = Compare(Api([Max, Erika], "cancelled", start: Start.AddDays(1)), seats, ThreeBooked);

        var repair = Assert.Single(result.Repairs);
        Assert.Equal((CalcomTriggers.BookingRescheduled, Slot), (repair.Trigger, repair.RescheduleUid));
        Assert.Empty(repair.Attendees); // about the slot: it changes no seat's status
    }

    private static BookingEvent Read(SeatRepair repair, CalcomApiBooking api) =>
        CalcomWebhookReader.Read(SyntheticWebhook.SeatBody(api, repair.Trigger, repair.Attendees, 8, repair.CreatedAt, "pass-1", repair.RescheduleUid)).Event!;
}
