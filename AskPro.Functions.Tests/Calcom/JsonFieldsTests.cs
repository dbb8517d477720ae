using System.Text;
using System.Text.Json;
using AskPro.Functions.Calcom;

namespace AskPro.Functions.Tests.Calcom;

/// <summary>The reader's two helpers: typed field reads that name the JSON path, and the booking form's answers.</summary>
public sealed class JsonFieldsTests
{
    [Fact]
    public void Every_wrongly_typed_field_is_reported_once_by_its_JSON_path_in_reading_order()
    {
        const string body = """
            {"triggerEvent":"BOOKING_CREATED","createdAt":"2026-01-20T10:21:07Z","payload":{
              "uid":"k3VbP9qWm2xYc7RtL5nD8a","status":5,"organizer":"x","user":{"name":3},
              "attendees":[5,{"email":1,"bookingSeat":{"referenceUid":2}}],
              "metadata":{"askpro_appointment_id":true}}}
            """;

        var read = CalcomWebhookReader.Read(Encoding.UTF8.GetBytes(body));

        Assert.Equal(WebhookKind.Invalid, read.Kind);
        string[] expected =
        [
            "payload.status must be a string, not a number",
            "payload.organizer must be an object, not a string",
            "payload.attendees[0] must be an object, not a number",
            "payload.attendees[1].email must be a string, not a number",
            "payload.attendees[1].bookingSeat.referenceUid must be a string, not a number",
            // The first attendee object stands for the customer and is read under attendees[0], as it always was.
            "payload.attendees[0].email must be a string, not a number",
            // A flat row's `user` is read under the organizer's path.
            "payload.organizer.name must be a string, not a number",
            "payload.metadata.askpro_appointment_id must be a string or a number, not a boolean",
        ];
        Assert.Equal(expected, read.Errors);
    }

    [Fact]
    public void A_field_that_is_absent_or_null_reads_as_null_without_an_error()
    {
        using var json = JsonDocument.Parse("""{"a":null,"n":"12","t":"2026-01-27 09:00:00","bad":"2026-01-27"}""");
        var errors = new List<string>();
        var fields = new JsonFields(json.RootElement, "payload.", errors);

        Assert.Null(fields.String("a"));
        Assert.Null(fields.Object("missing"));
        Assert.Null(fields.Bool("a"));
        Assert.Equal(12, fields.Id("n"));
        Assert.Equal(new DateTimeOffset(2026, 1, 27, 9, 0, 0, TimeSpan.Zero), fields.Time("t"));
        Assert.Empty(errors);
        Assert.Null(fields.Time("bad"));
        Assert.Equal("payload.bad must be an ISO 8601 date-time such as 2026-01-27T09:00:00Z", Assert.Single(errors));
    }

    [Theory]
    [InlineData("""{"name":{"label":"your_name","value":"Max Muster","isHidden":false}}""", "name", "Max Muster")]
    [InlineData("""{"name":"Max Muster"}""", "name", "Max Muster")]
    [InlineData("""{"name":{"label":"your_name","value":{"firstName":"Max","lastName":"Muster"}}}""", "name", "Max Muster")]
    [InlineData("""{"location":{"label":"location","value":{"value":"inPerson","optionValue":"Hauptstr. 1"}}}""", "location", "Hauptstr. 1")]
    [InlineData("""{"location":{"value":{"value":"Hauptstr. 1","optionValue":""}}}""", "location", "Hauptstr. 1")]
    [InlineData("""{"guests":{"label":"guests","value":["a@example.com","b@example.com"]}}""", "guests", "a@example.com, b@example.com")]
    [InlineData("""{"rescheduleReason":{"label":"reason_for_reschedule","isHidden":false}}""", "rescheduleReason", null)]
    [InlineData("""{"notes":{"label":"additional_notes","value":"  "}}""", "notes", null)]
    [InlineData("""{"age":{"label":"Alter","value":42}}""", "age", "42")]
    public void A_form_answer_reads_as_its_text_whatever_shape_it_has(string responses, string key, string? expected)
    {
        using var json = JsonDocument.Parse(responses);

        Assert.Equal(expected, new FormAnswers(json.RootElement).Text(key));
    }
}
