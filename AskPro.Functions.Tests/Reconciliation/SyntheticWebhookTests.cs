using System.Text.Json;
using System.Text.Json.Nodes;
using AskPro.Functions.Calcom;
using AskPro.Functions.Reconciliation;

namespace AskPro.Functions.Tests.Reconciliation;

/// <summary>A booking read from the API becomes a body the webhook reader takes as the matching Cal.com event.</summary>
public sealed class SyntheticWebhookTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 27, 9, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Updated = new(2026, 1, 21, 8, 15, 0, TimeSpan.Zero);

    private static CalcomApiBooking Api(JsonObject json) =>
        JsonSerializer.Deserialize<CalcomApiBooking>(json.ToJsonString()) ?? throw new InvalidOperationException("not a booking");

    private static BookingEvent Read(byte[] body)
    {
        var read = CalcomWebhookReader.Read(body);
        Assert.True(read.Kind == WebhookKind.Booking, $"{read.Kind}: {string.Join("; ", read.Errors)}");
        return read.Event!;
    }

    [Theory]
    [InlineData("accepted", CalcomTriggers.BookingCreated, "ACCEPTED")]
    [InlineData("pending", CalcomTriggers.BookingRequested, "PENDING")]
    [InlineData("awaiting_host", CalcomTriggers.BookingRequested, "PENDING")]
    [InlineData("cancelled", CalcomTriggers.BookingCancelled, "CANCELLED")]
    [InlineData("rejected", CalcomTriggers.BookingRejected, "REJECTED")]
    public void Each_status_becomes_the_event_that_brings_a_record_to_it(string status, string trigger, string payloadStatus)
    {
        var json = FakeCalcomApi.Booking("k3VbP9qWm2xYc7RtL5nD8a", T0, Updated, status);
        json["cancellationReason"] = status is "cancelled" or "rejected" ? "Termin passt nicht." : "";
        var booking = Api(json);

        Assert.Equal(trigger, SyntheticWebhook.TriggerFor(booking));
        var e = Read(SyntheticWebhook.Body(booking, trigger, "pass-1", Updated.AddMinutes(5)));

        Assert.Equal(trigger, e.TriggerEvent);
        Assert.Equal("k3VbP9qWm2xYc7RtL5nD8a", e.Uid);
        Assert.Equal(payloadStatus, e.Status);
        Assert.Equal(T0, e.StartTime);
        Assert.Equal(T0.AddMinutes(30), e.EndTime);
        // As old as the state it shows: a real change made after the snapshot stays newer.
        Assert.Equal(Updated, e.CreatedAt);
        Assert.Equal("anna.schmidt@praxis-example.de", e.Organizer?.Email);
        Assert.Equal("max.mustermann@example.com", e.Customer?.Email);
        Assert.Equal(booking.Id, e.BookingId);
        Assert.Equal(status == "cancelled" ? "Termin passt nicht." : null, e.CancellationReason);
        Assert.Equal(status == "rejected" ? "Termin passt nicht." : null, e.RejectionReason);
    }

    [Fact]
    public void A_rescheduled_booking_links_back_to_the_one_it_replaced_in_Caldotcoms_direction()
    {
        var old = FakeCalcomApi.Booking("Qm7ZtXo4Lp2WcN9vR1sK6e", T0.AddDays(-1), Updated, "cancelled");
        old["rescheduledToUid"] = "Tz8cYw3RbN6kLq1PmV5xHd";
        var next = FakeCalcomApi.Booking("Tz8cYw3RbN6kLq1PmV5xHd", T0, Updated);
        next["rescheduledFromUid"] = "Qm7ZtXo4Lp2WcN9vR1sK6e";
        next["rescheduledByEmail"] = "erika.musterfrau@example.org";

        Assert.Null(SyntheticWebhook.TriggerFor(Api(old)));
        Assert.Equal(CalcomTriggers.BookingRescheduled, SyntheticWebhook.TriggerFor(Api(next)));
        var e = Read(SyntheticWebhook.Body(Api(next), CalcomTriggers.BookingRescheduled, "pass-1", Updated, replaced: Api(old)));

        Assert.Equal("Tz8cYw3RbN6kLq1PmV5xHd", e.Uid);
        Assert.Equal("Qm7ZtXo4Lp2WcN9vR1sK6e", e.RescheduleUid);
        Assert.Equal(T0.AddDays(-1), e.RescheduleStartTime);
        Assert.Equal("erika.musterfrau@example.org", e.RescheduledBy);
    }

    [Fact]
    public void The_body_is_marked_as_reconciliation_with_its_pass_and_keeps_the_metadata()
    {
        var json = FakeCalcomApi.Booking("Hb2NwQ8kZr5TyL1mXc4Vp9", T0, Updated);
        json["metadata"] = new JsonObject { ["askpro_appointment_id"] = "apt_91d0be44" };
        var body = SyntheticWebhook.Body(Api(json), CalcomTriggers.BookingCreated, "pass-20260121T0815", Updated);

        var root = JsonNode.Parse(body)!;
        Assert.Equal(SyntheticWebhook.Origin, (string?)root["askpro"]!["origin"]);
        Assert.Equal("pass-20260121T0815", (string?)root["askpro"]!["passId"]);
        Assert.Equal("apt_91d0be44", Read(body).AskProAppointmentId);
    }

    [Fact]
    public void Absent_marks_become_a_no_show_update()
    {
        var json = FakeCalcomApi.Booking("k3VbP9qWm2xYc7RtL5nD8a", T0, Updated);
        json["attendees"]![0]!["absent"] = true;

        var e = Read(SyntheticWebhook.NoShowBody(Api(json), "pass-1", Updated));

        Assert.Equal(CalcomTriggers.BookingNoShowUpdated, e.TriggerEvent);
        var mark = Assert.Single(e.NoShowAttendees);
        Assert.True(mark.NoShow);
        Assert.Equal("max.mustermann@example.com", mark.Email);
    }

    private static readonly FakeCalcomApi.Seat[] Seats =
    [
        new("Max Mustermann", "max.mustermann@example.com", "seatA1xQ9LpR2wKc7VnB4mZ", "+49 151 23456789"),
        new("Erika Musterfrau", "erika.musterfrau@example.org", "seatB2yR8KqS3xLd6WmC5nY"),
        new("Jonas Beispiel", "jonas.beispiel@example.net", "seatC3zS7JrT4yMe5XnD6pX"),
    ];

    [Fact]
    public void A_booked_seat_reads_back_as_a_seated_event_about_that_attendee_only()
    {
        var slot = Api(FakeCalcomApi.SeatedBooking("Gs5TqW8nLp2XcR7vK1mB4d", T0, Updated, Seats));
        Assert.True(slot.IsSeated);
        var at = Updated.AddMinutes(3);

        var e = Read(SyntheticWebhook.SeatBody(slot, CalcomTriggers.BookingCreated, [slot.Attendees![1]], 8, at, "pass-1"));

        Assert.Equal((CalcomTriggers.BookingCreated, "Gs5TqW8nLp2XcR7vK1mB4d", "ACCEPTED"), (e.TriggerEvent, e.Uid, e.Status));
        Assert.True(e.IsSeated);
        Assert.Equal(8, e.SeatsPerTimeSlot);
        Assert.Equal("seatB2yR8KqS3xLd6WmC5nY", e.AttendeeSeatId);
        var attendee = Assert.Single(e.Attendees!);
        Assert.Equal(("Erika Musterfrau", "erika.musterfrau@example.org", "seatB2yR8KqS3xLd6WmC5nY"), (attendee.Name, attendee.Email, attendee.SeatId));
        // The seat's own answers, with the e-mail the API strips from them: the customer is this attendee, not the first booker.
        Assert.Equal(("Erika Musterfrau", "erika.musterfrau@example.org"), (e.Customer?.Name, e.Customer?.Email));
        Assert.Equal("Erste Teilnahme", e.Notes);
        Assert.Equal(at, e.CreatedAt);
        Assert.Equal((T0, T0.AddMinutes(90)), (e.StartTime, e.EndTime));
        Assert.Equal(98765, e.OrganizerId);
    }

    [Fact]
    public void A_lost_seat_cancel_reads_back_as_Caldotcoms_seat_cancel_for_that_attendee()
    {
        var slot = Api(FakeCalcomApi.SeatedBooking("Gs5TqW8nLp2XcR7vK1mB4d", T0, Updated, Seats[..2]));
        var gone = new CalcomApiPerson { Name = "Jonas Beispiel", Email = "jonas.beispiel@example.net" };

        var e = Read(SyntheticWebhook.SeatBody(slot, CalcomTriggers.BookingCancelled, [gone], 3, Updated.AddHours(1), "pass-1"));

        Assert.Equal((CalcomTriggers.BookingCancelled, "CANCELLED"), (e.TriggerEvent, e.Status));
        Assert.True(e.IsSeated);
        Assert.Equal("jonas.beispiel@example.net", Assert.Single(e.Attendees!).Email);
        // Like Cal.com's: no seat id and no reason of the booking (which stays live for the others).
        Assert.Null(e.AttendeeSeatId);
        Assert.Null(e.CancellationReason);
        Assert.Equal(Updated.AddHours(1), e.CreatedAt);
    }

    [Fact]
    public void A_cancelled_slot_lists_every_seat_and_carries_the_reason()
    {
        var json = FakeCalcomApi.SeatedBooking("Gs5TqW8nLp2XcR7vK1mB4d", T0, Updated, Seats, "cancelled");
        json["cancellationReason"] = "Kurs fällt aus.";
        var slot = Api(json);

        var e = Read(SyntheticWebhook.SeatBody(slot, CalcomTriggers.BookingCancelled, slot.Attendees!, 8, Updated, "pass-1"));

        Assert.Equal(Seats.Select(x => x.Email), e.Attendees!.Select(a => a.Email));
        Assert.Equal("Kurs fällt aus.", e.CancellationReason);
    }

    [Fact]
    public void A_change_of_the_whole_slot_lists_no_attendee_and_moves_the_slot_in_place()
    {
        var slot = Api(FakeCalcomApi.SeatedBooking("Gs5TqW8nLp2XcR7vK1mB4d", T0.AddHours(2), Updated, Seats));

        var e = Read(SyntheticWebhook.SeatBody(slot, CalcomTriggers.BookingRescheduled, [], 8, Updated, "pass-1", rescheduleUid: "Gs5TqW8nLp2XcR7vK1mB4d"));

        Assert.Null(e.Attendees);
        Assert.True(e.IsSeated);
        Assert.Equal("Gs5TqW8nLp2XcR7vK1mB4d", e.RescheduleUid);
        Assert.Equal(T0.AddHours(2), e.StartTime);
        Assert.Null(e.AttendeeSeatId);
    }
}
