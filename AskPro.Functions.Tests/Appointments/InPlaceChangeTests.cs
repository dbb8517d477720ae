using System.Text.Json.Nodes;
using AskPro.Functions.Appointments;
using static AskPro.Functions.Tests.Appointments.ExampleBodies;

namespace AskPro.Functions.Tests.Appointments;

/// <summary>
/// Changes Cal.com makes to a booking in place (same uid): a host reassignment, a location update, and the staff
/// identity they rest on. Delivered in every order, they must give one record, and an older event must never undo them.
/// </summary>
public sealed class InPlaceChangeTests
{
    private const string Anna = "anna.schmidt@praxis-example.de";
    private const string Jan = "jan.berger@praxis-seed.de";
    private const string WebUid = "k3VbP9qWm2xYc7RtL5nD8a";
    private static readonly string WebId = AppointmentProjection.AppointmentIdOf(WebUid);
    private static readonly string AnnaOverlapId = AppointmentProjection.AppointmentIdOf("AnnaOverlap00000000001");
    private static readonly string JanSlotId = AppointmentProjection.AppointmentIdOf("JanSlot000000000000001");

    /// <summary>Another booking 09:15 to 09:45 (the web example is 09:00 to 09:30) with the given host.</summary>
    private static byte[] Booking(string uid, long hostId, string hostEmail, string hostName, string start = "2026-01-27T09:15:00Z", string end = "2026-01-27T09:45:00Z") =>
        Edit(CalcomExample("booking_created_web"), p =>
        {
            p["uid"] = uid;
            p["bookingId"] = 4560000 + (uid.GetHashCode(StringComparison.Ordinal) & 0xffff);
            p["startTime"] = start;
            p["endTime"] = end;
            p["organizer"]!["id"] = hostId;
            p["organizer"]!["email"] = hostEmail;
            p["organizer"]!["name"] = hostName;
        });

    /// <summary>The web booking handed from Anna (98765) to Jan (98766) by round robin, a day after it was made.</summary>
    private static byte[] Reassigned(string createdAt = "2026-01-21T08:00:00.000Z") =>
        Retrigger(CalcomExample("booking_created_web"), "BOOKING_REASSIGNED", createdAt, p =>
        {
            p["organizer"]!["id"] = 98766;
            p["organizer"]!["email"] = Jan;
            p["organizer"]!["name"] = "Dr. Jan Berger";
            p["addedHostUserIds"] = new JsonArray(98766);
            p["removedHostUserIds"] = new JsonArray(98765);
        });

    private static byte[] LocationUpdated(string location, string previous, string createdAt) =>
        Retrigger(CalcomExample("booking_created_web"), "BOOKING_LOCATION_UPDATED", createdAt, p =>
        {
            p["location"] = location;
            p["previousLocation"] = previous;
            p["responses"]!["location"]!["value"]!["value"] = location;
        });

    [Fact]
    public void A_reassignment_and_two_location_updates_in_every_order_give_the_newest_host_and_location_and_move_the_conflict()
    {
        byte[][] bodies =
        [
            CalcomExample("booking_created_web"),
            Booking("AnnaOverlap00000000001", 98765, Anna, "Dr. Anna Schmidt"),
            Booking("JanSlot000000000000001", 98766, Jan, "Dr. Jan Berger", "2026-01-27T09:20:00Z", "2026-01-27T09:50:00Z"),
            Reassigned(),
            LocationUpdated("integrations:daily", "Hauptstraße 12, 10115 Berlin", "2026-01-22T08:00:00.000Z"),
            LocationUpdated("Praxis Berger, Lindenweg 3", "integrations:daily", "2026-01-23T08:00:00.000Z"),
        ];

        var orders = 0;
        foreach (var order in Permutations(Enumerable.Range(0, bodies.Length).ToArray()))
        {
            // Every order, and the create delivered once more at the end (a re-send must not undo the changes).
            var book = Book([.. order.Select(i => bodies[i]), bodies[0]]);
            var web = book.Records[WebId];
            var context = string.Join(",", order);
            Assert.True(web.Record.StaffEmail == Jan, $"{context}: staff {web.Record.StaffEmail}");
            Assert.Equal(("u98766", 98766L, "Dr. Jan Berger"), (web.Record.StaffKey, web.Record.StaffUserId!.Value, web.Record.StaffName));
            Assert.Equal("Praxis Berger, Lindenweg 3", web.Record.Location);
            Assert.Equal(AppointmentStatus.Confirmed, web.Record.Status); // neither change touches the status
            Assert.Equal(Utc("2026-01-27T09:00:00Z"), web.Record.StartTime);
            // Conflicts recomputed on both hosts: with Jan's booking now, no longer with Anna's.
            Assert.True(web.ConflictsWith.SequenceEqual([JanSlotId]), $"{context}: web conflicts [{string.Join(",", web.ConflictsWith)}]");
            Assert.Equal([WebId], book.Records[JanSlotId].ConflictsWith);
            Assert.Empty(book.Records[AnnaOverlapId].ConflictsWith);
            Assert.DoesNotContain(book.Calendars.GetValueOrDefault("u98765") ?? StaffCalendar.Empty, r => r.AppointmentId == WebId);
            orders++;
        }

        Assert.Equal(720, orders);
    }

    [Fact]
    public void A_reassignment_only_is_pending_and_names_the_new_host()
    {
        var r = Single(Book(Reassigned()));

        Assert.Equal(AppointmentStatus.Pending, r.Status);
        Assert.Equal(Jan, r.StaffEmail);
    }

    [Fact]
    public void The_same_doctor_under_two_addresses_with_one_user_id_is_one_calendar_and_the_overlap_is_flagged()
    {
        // Cal.com sends the destination calendar's address for one event type and the account address for another.
        var other = Booking("AnnaOverlap00000000001", 98765, "a.schmidt@kalender.example", "Dr. Anna Schmidt");

        foreach (var order in new[] { new[] { CalcomExample("booking_created_web"), other }, [other, CalcomExample("booking_created_web")] })
        {
            var book = Book(order);

            Assert.Equal([AnnaOverlapId], book.Records[WebId].ConflictsWith);
            Assert.Equal([WebId], book.Records[AnnaOverlapId].ConflictsWith);
            Assert.Equal("u98765", Assert.Single(book.Calendars, c => c.Value.Count > 0).Key);
        }
    }

    [Fact]
    public void An_id_less_event_learns_the_user_id_from_an_id_bearing_event_of_the_same_booking()
    {
        var idLess = Edit(CalcomExample("booking_cancelled"), p =>
        {
            p["uid"] = WebUid;
            p["organizer"]!.AsObject().Remove("id");
            p["startTime"] = "2026-01-27T09:00:00+00:00";
            p["endTime"] = "2026-01-27T09:30:00+00:00";
        });

        Assert.Equal("u98765", Single(Book(idLess, CalcomExample("meeting_ended"))).StaffKey); // flat row: userId
        Assert.Null(Single(Book(idLess)).StaffUserId);
        Assert.Equal(AppointmentProjection.StaffKeyOf(Anna), Single(Book(idLess)).StaffKey); // e-mail only as a fallback
    }

    [Fact]
    public void Host_no_show_comes_from_Cal_Video_or_a_no_show_update_naming_the_host_never_from_a_meeting_row()
    {
        var hostNoShow = Retrigger(CalcomExample("booking_no_show_updated"), "AFTER_HOSTS_CAL_VIDEO_NO_SHOW", "2026-01-27T09:20:00.000Z", p =>
        {
            p.Remove("attendees");
            p.Remove("message");
            p["hostEmail"] = Anna;
            p["noShowHost"] = true;
        });
        var hostCameAfterAll = Retrigger(CalcomExample("booking_no_show_updated"), "BOOKING_NO_SHOW_UPDATED", "2026-01-28T09:00:00.000Z", p =>
        {
            p["attendees"] = new JsonArray();
            p["noShowHost"] = false;
        });
        var guestsMissing = Retrigger(CalcomExample("booking_no_show_updated"), "AFTER_GUESTS_CAL_VIDEO_NO_SHOW", "2026-01-27T09:21:00.000Z", p => p.Remove("message"));

        Assert.Null(Single(Book(CalcomExample("booking_created_web"), CalcomExample("meeting_ended"))).HostNoShow);
        foreach (var order in Permutations([CalcomExample("booking_created_web"), CalcomExample("meeting_ended"), hostNoShow, guestsMissing]))
        {
            var r = Single(Book(order));
            Assert.True(r.HostNoShow);
            Assert.True(r.CustomerNoShow);
            Assert.Equal(AppointmentStatus.Confirmed, r.Status);
        }

        Assert.False(Single(Book(hostCameAfterAll, hostNoShow, CalcomExample("booking_created_web"))).HostNoShow);
    }
}
