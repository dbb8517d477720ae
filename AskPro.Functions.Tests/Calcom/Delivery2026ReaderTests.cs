using System.Text;
using System.Text.Json.Nodes;
using AskPro.Functions.Appointments;
using AskPro.Functions.Calcom;
using AskPro.Functions.Tests.Infrastructure;

namespace AskPro.Functions.Tests.Calcom;

/// <summary>The reader on what Cal.com sends since 2026: new fields, new triggers, the payload version.</summary>
public sealed class Delivery2026ReaderTests
{
    public static TheoryData<string> NotAppliedTriggers => [.. CalcomTriggers.KnownNotApplied, "SOMETHING_CAL_COM_ADDS_IN_2027"];

    [Theory]
    [MemberData(nameof(NotAppliedTriggers))]
    public void A_trigger_that_is_not_a_booking_change_reads_as_ignored_whatever_its_payload_looks_like(string trigger)
    {
        string[] shapes =
        [
            $$$"""{"triggerEvent":"{{{trigger}}}","createdAt":"2026-11-02T08:00:00.000Z","payload":{"uid":"k3VbP9qWm2xYc7RtL5nD8a","startTime":"soon"}}""",
            $$$"""{"triggerEvent":"{{{trigger}}}","payload":[1,2,3]}""",
            $$$"""{"triggerEvent":"{{{trigger}}}","createdAt":1767225600000,"data":{"credentialId":7}}""",
            $$$"""{"triggerEvent":"{{{trigger}}}"}""",
        ];
        foreach (var shape in shapes)
        {
            var read = CalcomWebhookReader.Read(Encoding.UTF8.GetBytes(shape));

            Assert.True(read.Kind == WebhookKind.Ignored, $"{shape} read as {read.Kind}: {string.Join("; ", read.Errors)}");
            Assert.Equal(trigger, read.TriggerEvent);
            Assert.Null(read.Event);
        }
    }

    [Theory]
    [InlineData("[98766]", "[98765]")]
    [InlineData("[\"98766\"]", "[]")]
    [InlineData("[{\"id\":98766}, null]", "null")]
    [InlineData("\"98766\"", "{}")]
    public void A_reassignment_reads_whatever_shape_its_host_id_lists_have(string added, string removed)
    {
        var body = Edit("booking_created_web.json", "BOOKING_REASSIGNED", p =>
        {
            p["addedHostUserIds"] = JsonNode.Parse(added);
            p["removedHostUserIds"] = JsonNode.Parse(removed);
        });

        var read = CalcomWebhookReader.Read(body);

        Assert.True(read.Kind == WebhookKind.Booking, string.Join("; ", read.Errors));
        Assert.Equal(98765, read.Event!.OrganizerId);
    }

    [Fact]
    public void A_reassignment_keeps_the_host_ids_it_can_read()
    {
        var body = Edit("booking_created_web.json", "BOOKING_REASSIGNED", p =>
        {
            p["addedHostUserIds"] = JsonNode.Parse("[98766, \"98767\", true]");
            p["removedHostUserIds"] = JsonNode.Parse("[98765]");
        });

        var e = CalcomWebhookReader.Read(body).Event!;

        Assert.Equal([98766L, 98767L], e.AddedHostUserIds);
        Assert.Equal([98765L], e.RemovedHostUserIds);
    }

    [Theory]
    [InlineData("previousLocation", "\"Alte Praxis, Ringstraße 3\"")]
    [InlineData("previousLocation", "{\"type\":\"inPerson\",\"address\":\"Ringstraße 3\"}")]
    [InlineData("updatedLocation", "\"Hauptstraße 12, 10115 Berlin\"")]
    [InlineData("updatedLocation", "{\"type\":\"integrations:daily\"}")]
    public void A_location_update_reads_with_either_companion_field_in_any_shape(string field, string value)
    {
        var body = Edit("booking_created_web.json", "BOOKING_LOCATION_UPDATED", p => p[field] = JsonNode.Parse(value));

        var read = CalcomWebhookReader.Read(body);

        Assert.True(read.Kind == WebhookKind.Booking, string.Join("; ", read.Errors));
        Assert.Equal("Hauptstraße 12, 10115 Berlin", read.Event!.Location);
    }

    [Fact]
    public void A_location_update_that_names_the_new_place_only_as_updatedLocation_still_states_it()
    {
        var body = Edit("booking_created_web.json", "BOOKING_LOCATION_UPDATED", p =>
        {
            p.Remove("location");
            p["responses"]!.AsObject().Remove("location");
            p["updatedLocation"] = "integrations:daily";
        });

        Assert.Equal("integrations:daily", CalcomWebhookReader.Read(body).Event!.Location);
    }

    [Theory]
    [InlineData("true", true)]
    [InlineData("false", false)]
    [InlineData(null, false)]
    public void A_cancel_reads_requestReschedule(string? value, bool expected)
    {
        var body = Edit("booking_cancelled.json", "BOOKING_CANCELLED", p =>
        {
            if (value is null)
            {
                p.Remove("requestReschedule");
            }
            else
            {
                p["requestReschedule"] = JsonNode.Parse(value);
            }
        });

        Assert.Equal(expected, CalcomWebhookReader.Read(body).Event!.RequestReschedule);
    }

    [Theory]
    [InlineData("webhookVersion", "\"2026-07-27\"", "2026-07-27")]
    [InlineData("version", "\"2021-10-20\"", "2021-10-20")]
    [InlineData("version", "20261020", null)]
    [InlineData("version", "\"2026-07-27; DROP\"", null)]
    public void A_payload_version_in_the_body_is_read_when_it_is_a_plain_token(string field, string value, string? expected)
    {
        var node = JsonNode.Parse(Examples.Calcom("booking_created_web.json"))!;
        node[field] = JsonNode.Parse(value);

        var read = CalcomWebhookReader.Read(Encoding.UTF8.GetBytes(node.ToJsonString()));

        Assert.Equal(WebhookKind.Booking, read.Kind);
        Assert.Equal(expected, read.PayloadVersion);
    }

    [Theory]
    [InlineData("2026-07-27", null, "2026-07-27")]
    [InlineData(" 2026-07-27 ", "2021-10-20", "2026-07-27")]
    [InlineData(null, "2021-10-20", "2021-10-20")]
    [InlineData("2026-07-27,2021-10-20", null, null)]
    [InlineData("<script>", "2026-07-27", "2026-07-27")]
    [InlineData("", null, null)]
    public void The_header_wins_over_the_body_and_only_a_plain_token_counts(string? header, string? body, string? expected) =>
        Assert.Equal(expected, PayloadVersion.Of(header, body));

    [Fact]
    public void Both_payload_versions_of_every_booking_trigger_give_the_same_fact()
    {
        foreach (var trigger in new[] { "BOOKING_CREATED", "BOOKING_RESCHEDULED", "BOOKING_REASSIGNED", "BOOKING_CANCELLED", "BOOKING_PAID" })
        {
            var v2021 = Edit("booking_created_web.json", trigger, _ => { });
            var v2026 = Edit("booking_created_web.json", trigger, p =>
            {
                p["attendeeIcsContent"] = "BEGIN:VCALENDAR\r\nATTENDEE;CN=Max Mustermann:mailto:max.mustermann@example.com\r\nEND:VCALENDAR\r\n";
                p["organizerIcsContent"] = "BEGIN:VCALENDAR\r\nORGANIZER;CN=Dr. Anna Schmidt:mailto:anna.schmidt@praxis-example.de\r\nEND:VCALENDAR\r\n";
            });

            Assert.Equal(BookingFacts.Fingerprint(CalcomWebhookReader.Read(v2021).Event!), BookingFacts.Fingerprint(CalcomWebhookReader.Read(v2026).Event!));
            Assert.Equal(v2021, CalendarContent.Remove(v2026));
        }
    }

    private static byte[] Edit(string example, string trigger, Action<JsonObject> edit)
    {
        var node = JsonNode.Parse(Examples.Calcom(example))!.AsObject();
        node["triggerEvent"] = trigger;
        edit(node["payload"]!.AsObject());
        return Encoding.UTF8.GetBytes(node.ToJsonString());
    }
}
