using AskPro.Functions.Appointments;
using static AskPro.Functions.Tests.Appointments.ExampleBodies;

namespace AskPro.Functions.Tests.Appointments;

/// <summary>
/// The record each example story documents (TestData/calcom and TestData/seed), delivered in order and
/// reversed: the projection is a function of the set of events, so both must give the same record.
/// </summary>
public sealed class ProjectionTests
{
    private static Appointment Final(bool reversed, params byte[][] bodies)
    {
        var ordered = reversed ? bodies.Reverse().ToArray() : bodies;
        var record = Single(Book(ordered));
        var projected = Project(bodies);
        Assert.Equal(projected.CalcomUids, record.CalcomUids);
        Assert.Equal(projected, record with { CalcomUids = projected.CalcomUids });
        return record;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void The_API_booking_rescheduled_then_cancelled_is_one_cancelled_appointment_on_the_newest_uid(bool reversed)
    {
        var r = Final(reversed, CalcomExample("booking_created_api_metadata"), CalcomExample("booking_rescheduled"), CalcomExample("booking_cancelled"));

        Assert.Equal(AppointmentProjection.AppointmentIdOf("Qm7ZtXo4Lp2WcN9vR1sK6e"), r.AppointmentId);
        Assert.Equal("Qm7ZtXo4Lp2WcN9vR1sK6e", r.RootUid);
        Assert.Equal("Tz8cYw3RbN6kLq1PmV5xHd", r.CalcomUid);
        Assert.Equal(["Qm7ZtXo4Lp2WcN9vR1sK6e", "Tz8cYw3RbN6kLq1PmV5xHd"], r.CalcomUids);
        Assert.Equal(AppointmentStatus.Cancelled, r.Status);
        Assert.Equal("Termin passt leider nicht mehr.", r.CancellationReason);
        Assert.Equal("erika.musterfrau@example.org", r.CancelledBy);
        Assert.False(r.RescheduleRequested);
        Assert.Equal(Utc("2026-01-30T10:00:00Z"), r.StartTime);
        Assert.Equal(Utc("2026-01-30T10:20:00Z"), r.EndTime);
        Assert.Equal(Utc("2026-01-28T14:00:00Z"), r.PreviousStartTime);
        Assert.Equal(Utc("2026-01-28T14:20:00Z"), r.PreviousEndTime);
        Assert.Equal("erika.musterfrau@example.org", r.RescheduledBy);
        Assert.Equal("apt_7f3c2a91", r.AskProAppointmentId);
        Assert.True(r.IsInternal);
        Assert.Equal(AppointmentProjection.DirectSource, r.Source);
        Assert.Equal(4568377, r.CalcomBookingId);
        Assert.Equal(1234568, r.EventTypeId);
        Assert.Equal(("Erika Musterfrau", "erika.musterfrau@example.org", "+4917098765432"), (r.CustomerName, r.CustomerEmail, r.CustomerPhone));
        Assert.Equal(("Dr. Anna Schmidt", "anna.schmidt@praxis-example.de"), (r.StaffName, r.StaffEmail));
        Assert.Equal("integrations:daily", r.Location);
        Assert.Equal("Europe/Berlin", r.TimeZone);
        Assert.Equal("BOOKING_CANCELLED", r.LastTriggerEvent);
        Assert.Equal(Utc("2026-01-25T07:48:19.066Z"), r.LastEventAt);
        Assert.False(r.HasActiveRange);
    }

    [Fact]
    public void Before_the_cancel_the_rescheduled_API_booking_keeps_its_id_and_moves_to_the_new_uid_and_time()
    {
        var created = Single(Book(CalcomExample("booking_created_api_metadata")));
        var rescheduled = Single(Book(CalcomExample("booking_created_api_metadata"), CalcomExample("booking_rescheduled")));

        Assert.Equal(AppointmentStatus.Confirmed, created.Status);
        Assert.Equal("Qm7ZtXo4Lp2WcN9vR1sK6e", created.CalcomUid);
        Assert.Null(created.PreviousStartTime);
        Assert.Equal(created.AppointmentId, rescheduled.AppointmentId);
        Assert.Equal("Tz8cYw3RbN6kLq1PmV5xHd", rescheduled.CalcomUid);
        Assert.Equal(AppointmentStatus.Confirmed, rescheduled.Status);
        Assert.Equal(Utc("2026-01-30T10:00:00Z"), rescheduled.StartTime);
        Assert.Equal(created.StartTime, rescheduled.PreviousStartTime);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void The_requested_booking_that_was_rejected_is_rejected_with_its_reason(bool reversed)
    {
        var r = Final(reversed, CalcomExample("booking_requested"), CalcomExample("booking_rejected"));

        Assert.Equal("Hb2NwQ8kZr5TyL1mXc4Vp9", r.CalcomUid);
        Assert.Equal(["Hb2NwQ8kZr5TyL1mXc4Vp9"], r.CalcomUids);
        Assert.Equal(AppointmentStatus.Rejected, r.Status);
        Assert.Equal("Zu diesem Termin leider keine Kapazität.", r.RejectionReason);
        Assert.Null(r.CancellationReason);
        Assert.Equal("apt_91d0be44", r.AskProAppointmentId); // from the request: the rejection carries no metadata
        Assert.Equal(("Jonas Beispiel", "jonas.beispiel@example.net", (string?)null), (r.CustomerName, r.CustomerEmail, r.CustomerPhone));
        Assert.Equal(Utc("2026-02-03T08:30:00Z"), r.StartTime);
        Assert.Equal("Europe/Vienna", r.TimeZone);
        Assert.Equal("Hauptstraße 12, 10115 Berlin", r.Location);
    }

    [Fact]
    public void A_request_alone_is_requested()
    {
        Assert.Equal(AppointmentStatus.Requested, Single(Book(CalcomExample("booking_requested"))).Status);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void The_web_booking_whose_meeting_ended_with_a_no_show_is_confirmed_ended_and_no_show(bool reversed)
    {
        var r = Final(reversed, CalcomExample("booking_created_web"), CalcomExample("meeting_ended"), CalcomExample("booking_no_show_updated"));

        Assert.Equal("k3VbP9qWm2xYc7RtL5nD8a", r.CalcomUid);
        Assert.Equal(AppointmentStatus.Confirmed, r.Status);
        Assert.True(r.MeetingEnded);
        Assert.True(r.CustomerNoShow);
        Assert.Null(r.HostNoShow); // MEETING_ENDED's noShowHost: false is stale scheduling state, not a statement
        Assert.Null(r.PaymentStatus);
        Assert.False(r.IsInternal);
        Assert.Equal(AppointmentProjection.DirectSource, r.Source);
        Assert.Equal(("Max Mustermann", "max.mustermann@example.com", "+4915112345678"), (r.CustomerName, r.CustomerEmail, r.CustomerPhone));
        Assert.Equal("Bitte Rückruf vorab, falls sich etwas ändert.", r.Notes);
        Assert.Equal("Hauptstraße 12, 10115 Berlin", r.Location);
        Assert.Equal(Utc("2026-01-27T09:00:00Z"), r.StartTime);
        Assert.Equal(Utc("2026-01-27T09:30:00Z"), r.EndTime);
        Assert.Equal(4567890, r.CalcomBookingId);
        Assert.Equal("BOOKING_NO_SHOW_UPDATED", r.LastTriggerEvent);
        Assert.True(r.HasActiveRange);
    }

    [Fact]
    public void Seed_internal_booking_has_the_numeric_AskPro_id_the_metadata_source_and_flat_responses()
    {
        var r = Single(Book(SeedExample("seed_booking_created")));

        Assert.Equal("789", r.AskProAppointmentId);
        Assert.Equal("askpro_phone", r.Source);
        Assert.Equal(AppointmentStatus.Confirmed, r.Status);
        Assert.Equal(("Lena Vogel", "lena.vogel@example.com", "+4916011122233"), (r.CustomerName, r.CustomerEmail, r.CustomerPhone));
        Assert.Equal(("Dr. Jan Berger", "jan.berger@praxis-seed.de"), (r.StaffName, r.StaffEmail));
        Assert.Equal("Praxis Berger, Lindenweg 3", r.Location);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Seed_request_then_BOOKING_CONFIRMED_is_confirmed_at_the_confirmation_time(bool reversed)
    {
        var r = Final(reversed, SeedExample("seed_booking_requested"), SeedExample("seed_booking_confirmed"));

        Assert.Equal(AppointmentStatus.Confirmed, r.Status);
        Assert.Equal(Utc("2026-02-03T07:29:58Z"), r.ConfirmedAt);
        Assert.Equal("seedUidRequest001", r.CalcomUid);
        Assert.Equal(Utc("2026-02-12T13:00:00Z"), r.StartTime);
        Assert.Equal("Mia Roth", r.CustomerName);
        Assert.Equal(AppointmentProjection.DirectSource, r.Source);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Seed_reschedule_with_uid_existing_and_rescheduleUid_new_then_cancel_is_one_cancelled_appointment(bool reversed)
    {
        var r = Final(reversed, SeedExample("seed_booking_created_external"), SeedExample("seed_booking_rescheduled"), SeedExample("seed_booking_cancelled"));

        Assert.Equal(AppointmentProjection.AppointmentIdOf("seedUidExternal01"), r.AppointmentId);
        Assert.Equal(["seedUidExternal01", "seedUidExternal02"], r.CalcomUids);
        Assert.Equal("seedUidExternal02", r.CalcomUid);
        Assert.Equal(AppointmentStatus.Cancelled, r.Status);
        Assert.Equal("Krank", r.CancellationReason);
        Assert.Equal("tom.kraus@example.com", r.CancelledBy);
        Assert.Equal(Utc("2026-02-13T10:00:00Z"), r.StartTime);
        Assert.Equal(Utc("2026-02-11T09:00:00Z"), r.PreviousStartTime);
        Assert.Equal(Utc("2026-02-11T09:30:00Z"), r.PreviousEndTime);
        Assert.Equal(7004, r.CalcomBookingId);
        Assert.Equal(("Tom Kraus", "tom.kraus@example.com", "+4917033344455"), (r.CustomerName, r.CustomerEmail, r.CustomerPhone));
        Assert.Null(r.AskProAppointmentId);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_second_seed_style_reschedule_continues_the_chain_from_the_uid_the_first_one_introduced(bool reversed)
    {
        var second = Edit(SeedExample("seed_booking_rescheduled"), p =>
        {
            p["uid"] = "seedUidExternal02";
            p["rescheduleUid"] = "seedUidExternal03";
            p["startTime"] = "2026-02-16T08:00:00.000Z";
            p["endTime"] = "2026-02-16T08:30:00.000Z";
            p["bookingId"] = 7005;
        });

        var r = Final(reversed, SeedExample("seed_booking_created_external"), SeedExample("seed_booking_rescheduled"), second);

        Assert.Equal(["seedUidExternal01", "seedUidExternal02", "seedUidExternal03"], r.CalcomUids);
        Assert.Equal("seedUidExternal03", r.CalcomUid);
        Assert.Equal(Utc("2026-02-16T08:00:00Z"), r.StartTime);
        Assert.Equal(Utc("2026-02-13T10:00:00Z"), r.PreviousStartTime);
        Assert.Equal(AppointmentStatus.Confirmed, r.Status);
    }

    [Fact]
    public void Seed_external_booking_is_confirmed_with_its_notes()
    {
        var r = Single(Book(SeedExample("seed_booking_created_external")));

        Assert.Equal(AppointmentStatus.Confirmed, r.Status);
        Assert.Equal("Erstes Mal in der Praxis", r.Notes);
        Assert.Null(r.AskProAppointmentId);
        Assert.Equal(AppointmentProjection.DirectSource, r.Source);
    }

    [Fact]
    public void The_customer_comes_from_response_keys_not_labels()
    {
        // Labels swapped and misleading: only the keys may decide.
        var body = Edit(CalcomExample("booking_created_web"), p =>
        {
            p["responses"]!["name"]!["label"] = "email";
            p["responses"]!["email"]!["label"] = "name";
            p["attendees"]![0]!["name"] = "Somebody Else";
        });

        var r = Single(Book(body));

        Assert.Equal(("Max Mustermann", "max.mustermann@example.com"), (r.CustomerName, r.CustomerEmail));
    }

    [Fact]
    public void Without_responses_the_customer_is_the_first_attendee()
    {
        var body = Edit(CalcomExample("booking_created_web"), p => p.Remove("responses"));

        var r = Single(Book(body));

        Assert.Equal(("Max Mustermann", "max.mustermann@example.com", "+4915112345678"), (r.CustomerName, r.CustomerEmail, r.CustomerPhone));
    }

    [Fact]
    public void A_phone_only_booking_drops_the_sms_placeholder_email_and_keeps_the_phone()
    {
        var body = Edit(CalcomExample("booking_created_web"), p =>
        {
            p["responses"]!.AsObject().Remove("email");
            p["attendees"]![0]!["email"] = "4915112345678@sms.cal.com";
        });

        var r = Single(Book(body));

        Assert.Null(r.CustomerEmail);
        Assert.Equal("+4915112345678", r.CustomerPhone);
        Assert.Equal("Max Mustermann", r.CustomerName);
    }

    [Fact]
    public void The_source_is_metadata_source_when_present()
    {
        var body = Edit(CalcomExample("booking_created_web"), p => p["metadata"] = new System.Text.Json.Nodes.JsonObject { ["source"] = "website" });

        Assert.Equal("website", Single(Book(body)).Source);
    }
}
