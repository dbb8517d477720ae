using AskPro.Functions.Appointments;
using static AskPro.Functions.Tests.Appointments.ExampleBodies;

namespace AskPro.Functions.Tests.Appointments;

/// <summary>What one <see cref="AppointmentBook.Apply"/> hands the writer: one immutable result of everything it changed.</summary>
public sealed class BookChangesTests
{
    private static readonly string WebId = AppointmentProjection.AppointmentIdOf("k3VbP9qWm2xYc7RtL5nD8a");

    [Fact]
    public void A_create_writes_its_record_and_its_staff_calendar()
    {
        var result = new AppointmentBook().Apply(Read(CalcomExample("booking_created_web")));

        var changes = result.Changes;
        var written = Assert.Single(changes.Written);
        Assert.Equal(WebId, written.Key);
        Assert.Empty(changes.Before);
        Assert.Empty(changes.Retired);
        var calendar = Assert.Single(changes.Calendars);
        Assert.Equal(written.Value.Record.StaffKey, calendar.Key);
        Assert.Equal([WebId], calendar.Value.Select(r => r.AppointmentId));
        Assert.Same(written.Value, result.Record);
    }

    [Fact]
    public void A_reschedule_that_joins_two_records_retires_one_into_the_other_and_keeps_both_before_states()
    {
        var book = new AppointmentBook();
        var created = book.Apply(Read(CalcomExample("booking_created_api_metadata")));
        var stored = book.Records[created.AppointmentId];
        var loaded = new AppointmentBook();
        loaded.Load(stored);
        var cancelled = new AppointmentBook();
        cancelled.Apply(Read(CalcomExample("booking_cancelled")));
        loaded.Load(Assert.Single(cancelled.Records.Values));

        var result = loaded.Apply(Read(CalcomExample("booking_rescheduled")));

        var changes = result.Changes;
        Assert.Equal(2, changes.Before.Count);
        var (retired, into) = Assert.Single(changes.Retired);
        Assert.Equal(result.AppointmentId, into);
        Assert.Equal(result.RetiredIds, [retired]);
        Assert.DoesNotContain(retired, changes.Written.Keys);
        Assert.Equal(changes.Written.Keys.Append(retired).Order(StringComparer.Ordinal), changes.RecordIds);
    }

    [Fact]
    public void The_same_body_again_changes_nothing_in_a_book_loaded_from_the_table()
    {
        var book = new AppointmentBook();
        book.Load(Assert.Single(Book(CalcomExample("booking_created_web")).Records.Values));

        var again = book.Apply(Read(CalcomExample("booking_created_web")));

        Assert.Equal(ApplyOutcome.Unchanged, again.Outcome);
        Assert.True(again.Changes.IsEmpty);
        Assert.NotNull(again.Record);
    }

    [Fact]
    public void An_overlapping_booking_flags_a_partner_that_was_not_loaded_through_its_calendar()
    {
        var first = new AppointmentBook().Apply(Read(CalcomExample("booking_created_web")));
        var calendar = Assert.Single(first.Changes.Calendars);
        var book = new AppointmentBook();
        var overlapping = Read(Edit(CalcomExample("booking_created_web"), p =>
        {
            p["uid"] = "OverlapUid000000000001";
            p["bookingId"] = 4569999;
            p["startTime"] = "2026-01-27T09:15:00Z";
            p["endTime"] = "2026-01-27T09:45:00Z";
        }));
        Assert.Equal([new StaffCalendarKey(calendar.Key)], book.CalendarsNeeded(overlapping));
        book.LoadCalendar(new StaffCalendarKey(calendar.Key), new StaffCalendarRow(calendar.Value, null, [.. first.Changes.EmailKeys[calendar.Key]]));

        var result = book.Apply(overlapping);

        Assert.Equal([WebId], result.ConflictsWith);
        var partner = Assert.Single(result.Changes.Partners);
        Assert.Equal(WebId, partner.Key);
        Assert.Equal([result.AppointmentId], partner.Value.ConflictsWith);
        Assert.Equal(["k3VbP9qWm2xYc7RtL5nD8a"], partner.Value.Uids);
    }
}
