using System.Buffers;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace AskPro.Functions.Tests.Appointments;

public sealed partial class LifecycleGenerator
{
    private enum TimeStyle
    {
        /// <summary>New bookings: <c>2026-01-27T09:00:00Z</c>.</summary>
        Plain,
        /// <summary>Cancellations: server-local with offset, <c>2026-01-30T10:00:00+00:00</c>.</summary>
        Offset,
        /// <summary>Rejections, confirmations, stored rows, the seed: <c>2026-02-03T08:30:00.000Z</c>.</summary>
        Millis,
    }

    private enum Meta
    {
        None,
        Full,
        VideoOnly,
    }

    /// <summary>The booking as a body states it, taken when the body is written (a story's state moves on after each step).</summary>
    private sealed record BookingView(
        LifecycleShape Shape,
        EventType Type,
        StaffMember Staff,
        string OrganizerEmail,
        Customer Customer,
        DateTimeOffset Start,
        DateTimeOffset End,
        string Location,
        string? Notes,
        string ICalUid,
        long BookingId,
        object? AskProId,
        string? Source,
        string? CompanyId,
        DateTimeOffset BookingCreatedAt,
        string Uid);

    /// <summary>
    /// The JSON of a non-seated booking's webhooks in Cal.com's shapes (envelope, booking payload, flat MEETING_ENDED row)
    /// and in the seed page's; no randomness here, so the stories decide every varying byte.
    /// </summary>
    private static class CalcomBodyWriter
    {
        private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

        public static string Iso(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

        /// <summary>The envelope <c>{triggerEvent, createdAt, payload}</c> around what <paramref name="payload"/> writes.</summary>
        public static byte[] Envelope(string trigger, DateTimeOffset createdAt, Action<Utf8JsonWriter> payload)
        {
            var buffer = new ArrayBufferWriter<byte>(2048);
            using (var w = new Utf8JsonWriter(buffer, WriterOptions))
            {
                w.WriteStartObject();
                w.WriteString("triggerEvent", trigger);
                w.WriteString("createdAt", Iso(createdAt));
                w.WriteStartObject("payload");
                payload(w);
                w.WriteEndObject();
                w.WriteEndObject();
            }

            return buffer.WrittenSpan.ToArray();
        }

        public static void CalcomBooking(Utf8JsonWriter w, BookingView v, string uid, string? status, Meta meta, TimeStyle times, Action<Utf8JsonWriter>? extra, string? rescheduleReason)
        {
            w.WriteString("bookerUrl", "https://cal.com");
            w.WriteString("title", $"{v.Type.Name} zwischen {v.Staff.Name} und {v.Customer.Name}");
            w.WriteString("startTime", Time(v.Start, times));
            w.WriteString("endTime", Time(v.End, times));
            if (v.Notes is null)
            {
                w.WriteNull("additionalNotes");
            }
            else
            {
                w.WriteString("additionalNotes", v.Notes);
            }

            w.WriteString("type", v.Type.Slug);
            w.WriteNumber("eventTypeId", v.Type.Id);
            w.WriteStartObject("organizer");
            w.WriteNumber("id", v.Staff.Id);
            w.WriteString("name", v.Staff.Name);
            w.WriteString("email", v.OrganizerEmail);
            w.WriteString("username", v.Staff.Username);
            w.WriteString("timeZone", "Europe/Berlin");
            w.WriteString("timeFormat", "HH:mm");
            w.WriteNumber("utcOffset", 60);
            w.WriteEndObject();
            w.WriteStartArray("attendees");
            w.WriteStartObject();
            w.WriteString("email", v.Customer.AttendeeEmail);
            w.WriteString("name", v.Customer.Name);
            w.WriteString("phoneNumber", v.Customer.Phone);
            w.WriteString("firstName", v.Customer.SplitName ? v.Customer.First : "");
            w.WriteString("lastName", v.Customer.SplitName ? v.Customer.Last : "");
            w.WriteString("timeZone", v.Customer.TimeZone);
            w.WriteNumber("utcOffset", 60);
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteStartObject("responses");
            w.WriteStartObject("name");
            w.WriteString("label", "your_name");
            if (v.Customer.SplitName)
            {
                w.WriteStartObject("value");
                w.WriteString("firstName", v.Customer.First);
                w.WriteString("lastName", v.Customer.Last);
                w.WriteEndObject();
            }
            else
            {
                w.WriteString("value", v.Customer.Name);
            }

            w.WriteBoolean("isHidden", false);
            w.WriteEndObject();
            w.WriteStartObject("email");
            w.WriteString("label", "email_address");
            if (v.Customer.Email is not null)
            {
                w.WriteString("value", v.Customer.Email);
            }

            w.WriteBoolean("isHidden", v.Customer.Email is null);
            w.WriteEndObject();
            w.WriteStartObject("attendeePhoneNumber");
            w.WriteString("label", "phone_number");
            w.WriteString("value", v.Customer.Phone);
            w.WriteBoolean("isHidden", false);
            w.WriteEndObject();
            w.WriteStartObject("location");
            w.WriteString("label", "location");
            w.WriteStartObject("value");
            w.WriteString("value", v.Location);
            w.WriteString("optionValue", "");
            w.WriteEndObject();
            w.WriteBoolean("isHidden", false);
            w.WriteEndObject();
            w.WriteStartObject("notes");
            w.WriteString("label", "additional_notes");
            if (v.Notes is not null)
            {
                w.WriteString("value", v.Notes);
            }

            w.WriteBoolean("isHidden", false);
            w.WriteEndObject();
            w.WriteStartObject("guests");
            w.WriteString("label", "additional_guests");
            w.WriteStartArray("value");
            w.WriteEndArray();
            w.WriteBoolean("isHidden", false);
            w.WriteEndObject();
            w.WriteStartObject("rescheduleReason");
            w.WriteString("label", "reason_for_reschedule");
            if (rescheduleReason is not null)
            {
                w.WriteString("value", rescheduleReason);
            }

            w.WriteBoolean("isHidden", false);
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteString("location", v.Location);
            w.WriteString("iCalUID", v.ICalUid);
            w.WriteString("uid", uid);
            w.WriteString("eventTitle", v.Type.Name);
            w.WriteBoolean("requiresConfirmation", v.Type.RequiresConfirmation);
            w.WriteNumber("price", v.Type.Price);
            w.WriteString("currency", "eur");
            w.WriteNumber("length", v.Type.Length);
            w.WriteNumber("bookingId", v.BookingId);
            extra?.Invoke(w);
            WriteMetadata(w, v, uid, meta);
            if (status is not null)
            {
                w.WriteString("status", status);
            }
        }

        public static void SeedBooking(Utf8JsonWriter w, BookingView v, string uid, string? status, Meta meta, Action<Utf8JsonWriter>? extra)
        {
            w.WriteString("uid", uid);
            extra?.Invoke(w);
            w.WriteNumber("bookingId", v.BookingId);
            w.WriteNumber("eventTypeId", v.Type.Id);
            w.WriteString("title", v.Type.Name);
            w.WriteString("startTime", Time(v.Start, TimeStyle.Millis));
            w.WriteString("endTime", Time(v.End, TimeStyle.Millis));
            if (status is not null)
            {
                w.WriteString("status", status);
            }

            w.WriteStartObject("organizer");
            w.WriteString("name", v.Staff.Name);
            w.WriteString("email", v.Staff.Email);
            w.WriteString("timeZone", "Europe/Berlin");
            w.WriteEndObject();
            w.WriteStartArray("attendees");
            w.WriteStartObject();
            w.WriteString("name", v.Customer.Name);
            w.WriteString("email", v.Customer.AttendeeEmail);
            w.WriteString("timeZone", v.Customer.TimeZone);
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteStartObject("responses");
            w.WriteString("name", v.Customer.Name);
            if (v.Customer.Email is not null)
            {
                w.WriteString("email", v.Customer.Email);
            }

            w.WriteString("phone", v.Customer.Phone);
            if (v.Notes is not null)
            {
                w.WriteString("notes", v.Notes);
            }

            w.WriteEndObject();
            w.WriteString("location", v.Location);
            if (meta == Meta.Full && v.AskProId is not null)
            {
                w.WriteStartObject("metadata");
                WriteAskProId(w, v);
                if (v.Source is not null)
                {
                    w.WriteString("source", v.Source);
                }

                w.WriteEndObject();
            }
        }

        private static void WriteMetadata(Utf8JsonWriter w, BookingView v, string uid, Meta meta)
        {
            if (meta == Meta.None)
            {
                return;
            }

            w.WriteStartObject("metadata");
            if (v.Location == "integrations:daily")
            {
                w.WriteString("videoCallUrl", $"https://app.cal.com/video/{uid}");
            }

            if (meta == Meta.Full)
            {
                if (v.AskProId is not null)
                {
                    WriteAskProId(w, v);
                }

                if (v.CompanyId is not null)
                {
                    w.WriteString("askpro_company_id", v.CompanyId);
                }

                if (v.Source is not null)
                {
                    w.WriteString("source", v.Source);
                }
            }

            w.WriteEndObject();
        }

        private static void WriteAskProId(Utf8JsonWriter w, BookingView v)
        {
            if (v.AskProId is int number)
            {
                w.WriteNumber("askpro_appointment_id", number);
            }
            else
            {
                w.WriteString("askpro_appointment_id", (string)v.AskProId!);
            }
        }

        /// <summary>MEETING_ENDED from the scheduled path: the booking row itself, its createdAt the booking's creation time.</summary>
        public static byte[] FlatMeetingRow(BookingView v)
        {
            var buffer = new ArrayBufferWriter<byte>(2048);
            using (var w = new Utf8JsonWriter(buffer, WriterOptions))
            {
                w.WriteStartObject();
                w.WriteString("triggerEvent", "MEETING_ENDED");
                w.WriteNumber("id", v.BookingId);
                w.WriteString("uid", v.Uid);
                w.WriteNumber("userId", v.Staff.Id);
                w.WriteString("userPrimaryEmail", v.Staff.Email);
                w.WriteNumber("eventTypeId", v.Type.Id);
                w.WriteString("title", $"{v.Type.Name} zwischen {v.Staff.Name} und {v.Customer.Name}");
                w.WriteString("startTime", Time(v.Start, TimeStyle.Millis));
                w.WriteString("endTime", Time(v.End, TimeStyle.Millis));
                w.WriteString("location", v.Location);
                w.WriteString("createdAt", Iso(v.BookingCreatedAt));
                w.WriteString("updatedAt", Iso(v.BookingCreatedAt));
                w.WriteString("status", "ACCEPTED");
                w.WriteBoolean("paid", v.Type.Price > 0);
                w.WriteNull("cancellationReason");
                w.WriteNull("rejectionReason");
                w.WriteStartObject("metadata");
                w.WriteEndObject();
                w.WriteBoolean("noShowHost", false);
                w.WriteStartObject("user");
                w.WriteString("email", v.Staff.Email);
                w.WriteString("name", v.Staff.Name);
                w.WriteString("timeZone", "Europe/Berlin");
                w.WriteString("username", v.Staff.Username);
                w.WriteEndObject();
                w.WriteStartArray("attendees");
                w.WriteStartObject();
                w.WriteString("email", v.Customer.AttendeeEmail);
                w.WriteString("name", v.Customer.Name);
                w.WriteString("timeZone", v.Customer.TimeZone);
                w.WriteString("phoneNumber", v.Customer.Phone);
                w.WriteNumber("bookingId", v.BookingId);
                w.WriteBoolean("noShow", false);
                w.WriteEndObject();
                w.WriteEndArray();
                w.WriteEndObject();
            }

            return buffer.WrittenSpan.ToArray();
        }

        public static string Time(DateTimeOffset t, TimeStyle style) => style switch
        {
            TimeStyle.Plain => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
            TimeStyle.Offset => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'+00:00'", CultureInfo.InvariantCulture),
            _ => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture),
        };
    }
}
