using System.Text.Json.Nodes;
using AskPro.Functions.Appointments;
using static AskPro.Functions.Tests.Appointments.ExampleBodies;

namespace AskPro.Functions.Tests.Appointments;

/// <summary>What applying one event to the book answers and changes: outcomes, idempotency, links and conflicts.</summary>
public sealed class AppointmentBookTests
{
    private static readonly string WebId = AppointmentProjection.AppointmentIdOf("k3VbP9qWm2xYc7RtL5nD8a");
    private static readonly string OverlapId = AppointmentProjection.AppointmentIdOf("OverlapUid000000000001");

    /// <summary>Another web booking with the same staff member, 09:15 to 09:45 (the example is 09:00 to 09:30).</summary>
    private static byte[] Overlapping(string uid = "OverlapUid000000000001", string start = "2026-01-27T09:15:00Z", string end = "2026-01-27T09:45:00Z") =>
        Edit(CalcomExample("booking_created_web"), p =>
        {
            p["uid"] = uid;
            p["bookingId"] = 4569999;
            p["startTime"] = start;
            p["endTime"] = end;
            p["responses"]!["name"]!["value"] = "Erika Musterfrau";
            p["responses"]!["email"]!["value"] = "erika.musterfrau@example.org";
        });

    private static byte[] CancelOf(string uid, string start, string end) =>
        Edit(CalcomExample("booking_cancelled"), p =>
        {
            p["uid"] = uid;
            p["startTime"] = start;
            p["endTime"] = end;
        });

    private static byte[] RescheduleOf(string oldUid, string newUid, string oldStart, string oldEnd, string start, string end) =>
        Edit(CalcomExample("booking_rescheduled"), p =>
        {
            p["uid"] = newUid;
            p["rescheduleUid"] = oldUid;
            p["rescheduleStartTime"] = oldStart;
            p["rescheduleEndTime"] = oldEnd;
            p["startTime"] = start;
            p["endTime"] = end;
            p.Remove("metadata");
        });

    [Fact]
    public void An_external_web_booking_is_created_confirmed()
    {
        var result = new AppointmentBook().Apply(Read(CalcomExample("booking_created_web")));

        Assert.Equal(ApplyOutcome.Created, result.Outcome);
        Assert.Equal(AppointmentStatus.Confirmed, result.Status);
        Assert.Equal(WebId, result.AppointmentId);
    }

    [Theory]
    [InlineData("booking_created_api_metadata")]
    [InlineData("seed_booking_created")]
    public void An_internal_booking_is_skipped_but_its_record_and_link_are_kept(string name)
    {
        var body = name.StartsWith("seed", StringComparison.Ordinal) ? SeedExample(name) : CalcomExample(name);
        var book = new AppointmentBook();

        var result = book.Apply(Read(body));

        Assert.Equal(ApplyOutcome.Skipped, result.Outcome);
        var record = Single(book);
        Assert.True(record.IsInternal);
        Assert.Equal(record.AppointmentId, book.UidIndex[record.CalcomUid]);
        Assert.Equal(AppointmentStatus.Confirmed, record.Status);
    }

    [Fact]
    public void The_same_body_twice_is_unchanged_the_second_time()
    {
        var book = new AppointmentBook();
        book.Apply(Read(CalcomExample("booking_created_web")));
        var before = Single(book);

        var again = book.Apply(Read(CalcomExample("booking_created_web")));

        Assert.Equal(ApplyOutcome.Unchanged, again.Outcome);
        Assert.Same(before, Single(book));
    }

    [Theory]
    [InlineData("booking_created_web")]
    [InlineData("meeting_ended")]
    [InlineData("booking_no_show_updated")]
    [InlineData("booking_cancelled")]
    public void The_same_content_with_a_later_createdAt_is_unchanged(string name)
    {
        var body = CalcomExample(name);
        var book = new AppointmentBook();
        var first = Read(body);
        book.Apply(first);
        var before = Single(book);

        var again = book.Apply(Read(DeliveryShuffler.WithCreatedAt(body, first.CreatedAt!.Value.AddMinutes(5))));

        Assert.Equal(ApplyOutcome.Unchanged, again.Outcome);
        Assert.Same(before, Single(book));
    }

    [Fact]
    public void A_reschedule_updates_the_same_appointment_and_indexes_both_uids()
    {
        var book = Book(CalcomExample("booking_created_api_metadata"));
        var id = Single(book).AppointmentId;

        var result = book.Apply(Read(CalcomExample("booking_rescheduled")));

        Assert.Equal(ApplyOutcome.Updated, result.Outcome);
        Assert.Equal(id, result.AppointmentId);
        Assert.Equal(id, book.UidIndex["Qm7ZtXo4Lp2WcN9vR1sK6e"]);
        Assert.Equal(id, book.UidIndex["Tz8cYw3RbN6kLq1PmV5xHd"]);
    }

    [Fact]
    public void A_cancel_before_its_reschedule_and_create_is_joined_and_stays_cancelled()
    {
        var book = Book(CalcomExample("booking_cancelled"));
        Assert.Equal(AppointmentStatus.Cancelled, Single(book).Status);

        var joined = book.Apply(Read(CalcomExample("booking_rescheduled")));
        var created = book.Apply(Read(CalcomExample("booking_created_api_metadata")));

        Assert.Equal(AppointmentProjection.AppointmentIdOf("Qm7ZtXo4Lp2WcN9vR1sK6e"), joined.AppointmentId);
        Assert.Equal([AppointmentProjection.AppointmentIdOf("Tz8cYw3RbN6kLq1PmV5xHd")], joined.RetiredIds);
        Assert.Equal(AppointmentStatus.Cancelled, joined.Status);
        Assert.Equal(AppointmentStatus.Cancelled, created.Status);
        Assert.Equal(ApplyOutcome.Skipped, created.Outcome);
        Assert.Equal("Tz8cYw3RbN6kLq1PmV5xHd", Single(book).CalcomUid);
    }

    [Fact]
    public void A_rejection_before_its_request_stays_rejected()
    {
        var book = Book(CalcomExample("booking_rejected"), CalcomExample("booking_requested"));

        Assert.Equal(AppointmentStatus.Rejected, Single(book).Status);
    }

    [Fact]
    public void A_no_show_update_before_the_create_is_kept_and_does_not_make_a_second_appointment()
    {
        var book = Book(CalcomExample("booking_no_show_updated"));
        Assert.Equal(AppointmentStatus.Pending, Single(book).Status);

        book.Apply(Read(CalcomExample("booking_created_web")));

        var r = Single(book);
        Assert.Equal(AppointmentStatus.Confirmed, r.Status);
        Assert.True(r.CustomerNoShow);
    }

    [Fact]
    public void A_host_request_reschedule_marks_it_and_a_later_reschedule_from_that_uid_revives_it_at_the_new_time()
    {
        var requested = Edit(CalcomExample("booking_cancelled"), p =>
        {
            p["uid"] = "k3VbP9qWm2xYc7RtL5nD8a";
            p["requestReschedule"] = true;
            p["cancelledBy"] = "anna.schmidt@praxis-example.de";
        });
        var book = Book(CalcomExample("booking_created_web"), requested);
        var cancelled = Single(book);
        Assert.Equal((AppointmentStatus.Cancelled, true), (cancelled.Status, cancelled.RescheduleRequested));

        book.Apply(Read(RescheduleOf("k3VbP9qWm2xYc7RtL5nD8a", "RevivedUid000000000001", "2026-01-27T09:00:00Z", "2026-01-27T09:30:00Z", "2026-01-29T15:00:00Z", "2026-01-29T15:30:00Z")));

        var revived = Single(book);
        Assert.Equal(WebId, revived.AppointmentId);
        Assert.Equal("RevivedUid000000000001", revived.CalcomUid);
        Assert.Equal(AppointmentStatus.Confirmed, revived.Status);
        Assert.False(revived.RescheduleRequested);
        Assert.Equal(Utc("2026-01-29T15:00:00Z"), revived.StartTime);
        Assert.Equal(Utc("2026-01-27T09:00:00Z"), revived.PreviousStartTime);
    }

    [Fact]
    public void Payment_events_record_the_payment_without_confirming()
    {
        var initiated = Edit(CalcomExample("booking_requested"), p => p["price"] = 8000);
        var root = JsonNode.Parse(initiated)!.AsObject();
        root["triggerEvent"] = "BOOKING_PAYMENT_INITIATED";
        root["payload"]!["status"] = "ACCEPTED";
        var book = Book(System.Text.Encoding.UTF8.GetBytes(root.ToJsonString()));
        Assert.Equal((AppointmentStatus.Pending, "initiated"), (Single(book).Status, Single(book).PaymentStatus));

        root["triggerEvent"] = "BOOKING_PAID";
        book.Apply(Read(System.Text.Encoding.UTF8.GetBytes(root.ToJsonString())));
        Assert.Equal((AppointmentStatus.Pending, "paid"), (Single(book).Status, Single(book).PaymentStatus));

        book.Apply(Read(CalcomExample("booking_requested")));
        Assert.Equal((AppointmentStatus.Requested, "paid"), (Single(book).Status, Single(book).PaymentStatus));
    }

    [Fact]
    public void Overlapping_appointments_of_the_same_staff_member_are_flagged_on_both()
    {
        var book = Book(CalcomExample("booking_created_web"));

        var result = book.Apply(Read(Overlapping()));

        Assert.Equal([WebId], result.ConflictsWith);
        Assert.Equal([OverlapId], book.Records[WebId].ConflictsWith);
        Assert.Equal([WebId], book.Records[OverlapId].ConflictsWith);
    }

    [Fact]
    public void Appointments_that_only_touch_or_belong_to_other_staff_do_not_conflict()
    {
        var touching = Overlapping(start: "2026-01-27T09:30:00Z", end: "2026-01-27T10:00:00Z");
        var otherStaff = Edit(Overlapping("OtherStaffUid000000001"), p =>
        {
            p["organizer"]!["email"] = "jan.berger@praxis-seed.de";
            p["organizer"]!["id"] = 98766;
        });

        var book = Book(CalcomExample("booking_created_web"), touching, otherStaff);

        Assert.All(book.Records.Values, r => Assert.Empty(r.ConflictsWith));
    }

    [Fact]
    public void A_cancel_clears_the_conflict_on_both()
    {
        var book = Book(CalcomExample("booking_created_web"), Overlapping());

        book.Apply(Read(CancelOf("OverlapUid000000000001", "2026-01-27T09:15:00+00:00", "2026-01-27T09:45:00+00:00")));

        Assert.Empty(book.Records[WebId].ConflictsWith);
        Assert.Empty(book.Records[OverlapId].ConflictsWith);
    }

    [Fact]
    public void A_reschedule_away_clears_the_conflict_and_a_reschedule_into_it_flags_it_again()
    {
        var book = Book(CalcomExample("booking_created_web"), Overlapping());

        book.Apply(Read(RescheduleOf("OverlapUid000000000001", "MovedAwayUid0000000001", "2026-01-27T09:15:00Z", "2026-01-27T09:45:00Z", "2026-01-27T11:00:00Z", "2026-01-27T11:30:00Z")));

        Assert.Empty(book.Records[WebId].ConflictsWith);
        Assert.Empty(book.Records[OverlapId].ConflictsWith);

        book.Apply(Read(RescheduleOf("MovedAwayUid0000000001", "MovedBackUid0000000001", "2026-01-27T11:00:00Z", "2026-01-27T11:30:00Z", "2026-01-27T09:20:00Z", "2026-01-27T09:40:00Z")));

        Assert.Equal([OverlapId], book.Records[WebId].ConflictsWith);
        Assert.Equal([WebId], book.Records[OverlapId].ConflictsWith);
    }

    [Fact]
    public void A_cancel_that_arrives_before_the_overlapping_create_never_flags_a_conflict()
    {
        var book = Book(CancelOf("OverlapUid000000000001", "2026-01-27T09:15:00+00:00", "2026-01-27T09:45:00+00:00"), CalcomExample("booking_created_web"), Overlapping());

        Assert.All(book.Records.Values, r => Assert.Empty(r.ConflictsWith));
        Assert.Equal(AppointmentStatus.Cancelled, book.Records[OverlapId].Record.Status);
    }
}
