using System.Text;
using AskPro.Functions.Calcom;
using AskPro.Functions.Tests.Infrastructure;

namespace AskPro.Functions.Tests.Calcom;

/// <summary>The pure reader on the real and seed shapes: what the HTTP function validates and the queue function applies.</summary>
public sealed class CalcomWebhookReaderTests
{
    private static BookingEvent Booking(byte[] body)
    {
        var read = CalcomWebhookReader.Read(body);
        Assert.True(read.Kind == WebhookKind.Booking, $"{read.Kind}: {string.Join("; ", read.Errors)}");
        return read.Event!;
    }

    [Fact]
    public void Ping_without_a_uid_reads_as_Ping()
    {
        var read = CalcomWebhookReader.Read(Examples.Calcom("ping.compact.txt"));

        Assert.Equal(WebhookKind.Ping, read.Kind);
        Assert.Equal("PING", read.TriggerEvent);
        Assert.Null(read.Event);
    }

    [Fact]
    public void A_web_booking_reads_the_customer_from_responses_and_times_offset_aware()
    {
        var e = Booking(Examples.Calcom("booking_created_web.json"));

        Assert.Equal("k3VbP9qWm2xYc7RtL5nD8a", e.Uid);
        Assert.Equal(new DateTimeOffset(2026, 1, 27, 9, 0, 0, TimeSpan.Zero), e.StartTime);
        Assert.Equal(new DateTimeOffset(2026, 1, 27, 9, 30, 0, TimeSpan.Zero), e.EndTime);
        Assert.Equal(new Person("Max Mustermann", "max.mustermann@example.com", "+4915112345678"), e.Customer);
        Assert.Equal("Europe/Berlin", e.TimeZone);
        Assert.Equal(4567890, e.BookingId);
    }

    [Fact]
    public void A_reschedule_carries_the_new_uid_and_the_original_as_rescheduleUid()
    {
        var e = Booking(Examples.Calcom("booking_rescheduled.json"));

        Assert.Equal("Tz8cYw3RbN6kLq1PmV5xHd", e.Uid);
        Assert.Equal("Qm7ZtXo4Lp2WcN9vR1sK6e", e.RescheduleUid);
    }

    [Fact]
    public void The_flat_MEETING_ENDED_reads_its_top_level_uid_and_booking_id()
    {
        var e = Booking(Examples.Calcom("meeting_ended.json"));

        Assert.Equal("MEETING_ENDED", e.TriggerEvent);
        Assert.Equal("k3VbP9qWm2xYc7RtL5nD8a", e.Uid);
        Assert.Equal(4567890, e.BookingId);
    }

    [Fact]
    public void The_enveloped_MEETING_ENDED_reads_the_same_as_the_flat_one()
    {
        var flat = Booking(Examples.Calcom("meeting_ended.json"));
        var enveloped = Booking(TestBodies.Read("meeting_ended_enveloped.json"));

        Assert.Equal(flat.Uid, enveloped.Uid);
        Assert.Equal(flat.StartTime, enveloped.StartTime);
        Assert.Equal(flat.Customer, enveloped.Customer);
    }

    [Fact]
    public void A_no_show_update_reads_bookingUid_and_the_marked_attendees()
    {
        var e = Booking(Examples.Calcom("booking_no_show_updated.json"));

        Assert.Equal("k3VbP9qWm2xYc7RtL5nD8a", e.Uid);
        Assert.Equal([new NoShowMark("max.mustermann@example.com", true)], e.NoShowAttendees);
    }

    [Fact]
    public void The_seeds_numeric_appointment_id_and_flat_responses_are_read_as_text()
    {
        var e = Booking(Examples.Seed("seed_booking_created.json"));

        Assert.Equal("789", e.AskProAppointmentId);
        Assert.Equal("askpro_phone", e.Source);
        Assert.Equal(new Person("Lena Vogel", "lena.vogel@example.com", "+4916011122233"), e.Customer);
    }

    [Fact]
    public void A_cancellation_times_with_an_offset_are_read_as_the_same_instant()
    {
        var e = Booking(Examples.Calcom("booking_cancelled.json"));

        Assert.Equal("Tz8cYw3RbN6kLq1PmV5xHd", e.Uid);
        Assert.False(e.HasMetadata);
        Assert.Equal(TimeSpan.Zero, e.StartTime!.Value.Offset);
    }

    [Fact]
    public void A_phone_only_booking_placeholder_email_becomes_a_phone_number()
    {
        var body = Encoding.UTF8.GetBytes("""
            {"triggerEvent":"BOOKING_CREATED","payload":{"uid":"abc","attendees":[{"name":"Ali","email":"4915112345678@sms.cal.com"}]}}
            """);

        var e = Booking(body);

        Assert.Equal(new Person("Ali", null, "+4915112345678"), e.Customer);
    }

    [Fact]
    public void A_no_show_update_with_a_plain_uid_instead_of_bookingUid_is_still_read()
    {
        var body = Encoding.UTF8.GetBytes("""{"triggerEvent":"BOOKING_NO_SHOW_UPDATED","payload":{"uid":"abc","attendees":[]}}""");

        Assert.Equal("abc", Booking(body).Uid);
    }

    [Theory]
    [InlineData("2026-01-27T09:00:00Z")]
    [InlineData("2026-01-27T10:00:00+01:00")]
    [InlineData("2026-01-27T09:00:00.000Z")]
    [InlineData("2026-01-27T09:00:00")]
    public void Times_in_every_form_Cal_com_uses_parse_to_the_same_instant(string text)
    {
        Assert.True(CalcomWebhookReader.TryParseTime(text, out var time));
        Assert.Equal(new DateTimeOffset(2026, 1, 27, 9, 0, 0, TimeSpan.Zero), time);
    }

    [Theory]
    [InlineData("yesterday")]
    [InlineData("2026-01-27")]
    [InlineData("")]
    [InlineData("1768904467884")]
    public void Text_that_is_not_an_ISO_date_time_does_not_parse(string text) =>
        Assert.False(CalcomWebhookReader.TryParseTime(text, out _));
    [Fact]
    public void The_organizer_user_id_the_attendees_and_seat_fields_are_read()
    {
        var body = Encoding.UTF8.GetBytes("""
            {"triggerEvent":"BOOKING_CREATED","createdAt":"2026-01-20T10:21:07.884Z","payload":{"uid":"abc","seatsPerTimeSlot":6,"attendeeSeatId":"seat-1",
             "organizer":{"id":98765,"name":"Dr. Anna Schmidt","email":"anna@example.de"},
             "attendees":[{"name":"Max","email":"Max@Example.com","phoneNumber":"+4915112345678","noShow":false},{"name":"Erika","email":"erika@example.org"}]}}
            """);

        var e = Booking(body);

        Assert.Equal(98765, e.OrganizerId);
        Assert.Equal(6, e.SeatsPerTimeSlot);
        Assert.Equal("seat-1", e.AttendeeSeatId);
        Assert.True(e.IsSeated);
        Assert.Equal([new Attendee("Max", "Max@Example.com", "+4915112345678", false, null), new Attendee("Erika", "erika@example.org", null, null, null)], e.Attendees!);
        Assert.False(Booking(Examples.Calcom("booking_created_web.json")).IsSeated); // "seatsPerTimeSlot": null
    }

    [Fact]
    public void A_flat_meeting_row_gives_the_user_id_and_no_host_no_show()
    {
        var e = Booking(Examples.Calcom("meeting_ended.json"));

        Assert.Equal(98765, e.OrganizerId);
        Assert.Null(e.NoShowHost); // noShowHost: false there is the state when the job was scheduled
    }

    [Theory]
    [InlineData("BOOKING_REASSIGNED")]
    [InlineData("BOOKING_LOCATION_UPDATED")]
    public void In_place_changes_are_applied_and_read_their_extra_fields(string trigger)
    {
        var body = Encoding.UTF8.GetBytes($$$"""
            {"triggerEvent":"{{{trigger}}}","createdAt":"2026-01-21T08:00:00.000Z","payload":{"uid":"abc","organizer":{"id":98766,"email":"jan@example.de"},
             "addedHostUserIds":[98766],"removedHostUserIds":["98765"],"location":"integrations:daily","previousLocation":"Hauptstraße 12"}}
            """);

        var e = Booking(body);

        Assert.Equal(trigger, e.TriggerEvent);
        Assert.Equal([98766L], e.AddedHostUserIds!);
        Assert.Equal([98765L], e.RemovedHostUserIds!);
        Assert.Equal("Hauptstraße 12", e.PreviousLocation);
    }

    [Fact]
    public void Cal_Video_no_show_signals_name_the_booking_bookingUid()
    {
        var host = Booking(Encoding.UTF8.GetBytes("""{"triggerEvent":"AFTER_HOSTS_CAL_VIDEO_NO_SHOW","createdAt":"2026-01-27T09:20:00.000Z","payload":{"bookingUid":"abc","hostEmail":"anna@example.de"}}"""));
        var guests = Booking(Encoding.UTF8.GetBytes("""{"triggerEvent":"AFTER_GUESTS_CAL_VIDEO_NO_SHOW","createdAt":"2026-01-27T09:20:00.000Z","payload":{"bookingUid":"abc","attendees":[{"email":"max@example.com"}]}}"""));

        Assert.Equal(("abc", true, "anna@example.de"), (host.Uid, host.NoShowHost!.Value, host.HostEmail));
        Assert.Equal([new NoShowMark("max@example.com", true)], guests.NoShowAttendees);
    }

    [Fact]
    public void A_metadata_value_is_clipped_like_other_free_text()
    {
        var body = Encoding.UTF8.GetBytes("{\"triggerEvent\":\"BOOKING_CREATED\",\"payload\":{\"uid\":\"abc\",\"metadata\":{\"source\":\"" + new string('x', 40_000) + "\"}}}");

        Assert.Equal(CalcomWebhookReader.MaxTextLength, Booking(body).Source!.Length);
    }
}
