using AskPro.Functions.Appointments;
using AskPro.Functions.Reconciliation;

namespace AskPro.Functions.Tests.Reconciliation;

/// <summary>The Cal.com API rows a booking's stored record implies: what reconciliation would read for it.</summary>
public static class ApiSnapshot
{
    /// <summary>
    /// The rows the API shows for records in these states: the current uid in its state (with the uid it replaced), and
    /// the replaced uid as the cancelled row a reschedule leaves. Records whose events state no booking status yet
    /// (payment or no-show only) have no row.
    /// </summary>
    public static IEnumerable<(CalcomApiBooking Current, CalcomApiBooking? Previous)> ApiRows(IEnumerable<StoredAppointment> records, DateTimeOffset updatedAt)
    {
        foreach (var stored in records)
        {
            var record = stored.Record;
            var status = record.Status switch
            {
                AppointmentStatus.Confirmed => "accepted",
                AppointmentStatus.Requested => "pending",
                AppointmentStatus.Cancelled => "cancelled",
                AppointmentStatus.Rejected => "rejected",
                _ => null, // only payment or no-show events so far: nothing a booking row would state
            };
            if (status is null || record.StartTime is null)
            {
                continue;
            }

            var chain = record.CalcomUids;
            var host = new CalcomApiPerson { Id = record.StaffUserId, Email = record.StaffEmail, Name = record.StaffName };
            var current = new CalcomApiBooking
            {
                Id = record.CalcomBookingId,
                Uid = record.CalcomUid,
                Title = record.Title,
                Status = status,
                Start = record.StartTime,
                End = record.EndTime,
                UpdatedAt = updatedAt,
                Hosts = [host],
                Attendees = [new CalcomApiPerson { Name = record.CustomerName, Email = record.CustomerEmail, PhoneNumber = record.CustomerPhone }],
                Location = record.Location,
                EventTypeId = record.EventTypeId,
                CancellationReason = record.CancellationReason ?? record.RejectionReason,
                RescheduledFromUid = chain.Count > 1 ? chain[^2] : null,
            };
            // Every earlier uid of the chain is the cancelled row its reschedule left, linked both ways.
            CalcomApiBooking? previous = null;
            for (var i = chain.Count - 2; i >= 0; i--)
            {
                var (start, end) = i == chain.Count - 2 ? (record.PreviousStartTime, record.PreviousEndTime) : TimesOf(stored.Facts, chain[i]);
                var row = new CalcomApiBooking
                {
                    Uid = chain[i], Status = "cancelled", Start = start ?? record.StartTime, End = end ?? record.EndTime, UpdatedAt = updatedAt, Hosts = [host],
                    RescheduledToUid = chain[i + 1], RescheduledFromUid = i > 0 ? chain[i - 1] : null,
                };
                if (i == chain.Count - 2)
                {
                    previous = row;
                }
                else
                {
                    yield return (row, null);
                }
            }

            yield return (current, previous);
        }
    }

    /// <summary>The times a uid's own newest booking event states (for the older rows of a chain).</summary>
    private static (DateTimeOffset? Start, DateTimeOffset? End) TimesOf(BookingFacts facts, string uid) =>
        facts.Events.Where(e => e.Uid == uid && e.StartTime is not null).OrderByDescending(e => e.CreatedAt).Select(e => (e.StartTime, e.EndTime)).FirstOrDefault();
}
