using System.Text;
using System.Text.Json.Nodes;
using AskPro.Functions.Appointments;
using AskPro.Functions.Calcom;
using AskPro.Functions.Tests.Infrastructure;

namespace AskPro.Functions.Tests.Calcom;

/// <summary>
/// Payload version 2026-07-27 adds whole iCalendar files to booking bodies; intake removes them before queuing and
/// leaves every other byte as received.
/// </summary>
public sealed class CalendarContentTests
{
    [Fact]
    public void The_2026_example_without_its_calendar_files_is_byte_for_byte_the_2021_example()
    {
        var v2026 = Examples.Calcom("booking_created_web_v2026.json");
        Assert.Contains("BEGIN:VCALENDAR", Encoding.UTF8.GetString(v2026), StringComparison.Ordinal);

        var minimised = CalendarContent.Remove(v2026);

        Assert.Equal(Examples.Calcom("booking_created_web.json"), minimised);
    }

    [Fact]
    public void Both_versions_read_as_the_same_event()
    {
        var v2021 = CalcomWebhookReader.Read(Examples.Calcom("booking_created_web.json")).Event!;
        var v2026 = CalcomWebhookReader.Read(Examples.Calcom("booking_created_web_v2026.json"));

        Assert.Equal(WebhookKind.Booking, v2026.Kind);
        Assert.Equal(BookingFacts.Fingerprint(v2021), BookingFacts.Fingerprint(v2026.Event!));
        Assert.Equal(v2021.CreatedAt, v2026.Event!.CreatedAt);
    }

    [Theory]
    [InlineData("booking_created_web.json")]
    [InlineData("booking_cancelled.json")]
    [InlineData("meeting_ended.json")]
    [InlineData("ping.compact.txt")]
    public void A_body_without_calendar_files_is_returned_as_the_same_array(string example)
    {
        var body = Examples.Calcom(example);

        Assert.Same(body, CalendarContent.Remove(body));
    }

    [Fact]
    public void Calendar_members_deeper_than_the_payload_are_left_alone()
    {
        // Metadata is the booker's: nothing reads an iCalendar member there, and it is not Cal.com's field.
        var body = Encoding.UTF8.GetBytes("""{"triggerEvent":"BOOKING_CREATED","payload":{"uid":"u1","metadata":{"attendeeIcsContent":"x"}}}""");

        Assert.Same(body, CalendarContent.Remove(body));
    }

    /// <summary>
    /// Random objects (compact and indented, members in any position, runs of calendar members first, last, alone and
    /// in between, at the top level and in payload) against a reference that removes them from a parsed tree: the
    /// result is valid JSON with the same remaining members and values, and no calendar member.
    /// </summary>
    [Fact]
    public void Removing_calendar_members_anywhere_in_the_object_or_payload_leaves_valid_json_with_everything_else()
    {
        const int seed = 20261204;
        var random = new Random(seed);
        for (var i = 0; i < 2000; i++)
        {
            var text = RandomBody(random, out var expected);
            var body = Encoding.UTF8.GetBytes(text);

            var result = CalendarContent.Remove(body);

            var context = $"seed {seed}, case {i}: {text}";
            JsonNode? parsed;
            try
            {
                parsed = JsonNode.Parse(result);
            }
            catch (System.Text.Json.JsonException ex)
            {
                throw new Xunit.Sdk.XunitException($"{context}\nresult is not JSON ({ex.Message}): {Encoding.UTF8.GetString(result)}");
            }

            Assert.True(JsonNode.DeepEquals(expected, parsed), $"{context}\nexpected {expected!.ToJsonString()}\ngot {Encoding.UTF8.GetString(result)}");
            Assert.DoesNotContain("BEGIN:VCALENDAR", Encoding.UTF8.GetString(result), StringComparison.Ordinal);
        }
    }

    private static string RandomBody(Random random, out JsonNode? expected)
    {
        var payload = RandomMembers(random, includePayload: false);
        var top = RandomMembers(random, includePayload: true);
        var indent = random.Next(2) == 0 ? "" : "\n  ";
        string Render(List<(string Name, string Value)> members, string? payloadText) =>
            "{" + string.Join(",", members.Select(m => $"{indent}\"{m.Name}\" {(random.Next(2) == 0 ? ":" : " : ")} {(m.Name == "payload" ? payloadText : m.Value)}")) + (indent.Length > 0 ? "\n" : "") + "}";
        var payloadText = Render(payload, null);
        var text = Render(top, payloadText);

        var reference = JsonNode.Parse(text)!.AsObject();
        foreach (var name in reference.Select(p => p.Key).Where(CalendarContent.IsCalendarMember).ToList())
        {
            reference.Remove(name);
        }

        if (reference["payload"] is JsonObject p)
        {
            foreach (var name in p.Select(m => m.Key).Where(CalendarContent.IsCalendarMember).ToList())
            {
                p.Remove(name);
            }
        }

        expected = reference;
        return text;
    }

    private static List<(string Name, string Value)> RandomMembers(Random random, bool includePayload)
    {
        string[] values = ["1", "\"Grüße, \\\"Test\\\" {x}\"", "null", "[1,{\"a\":\"b\"},[]]", "{\"attendeeIcsContent\":\"kept, nested\"}", "true", "\"\""];
        var count = random.Next(0, 6);
        var members = new List<(string, string)>();
        var used = new HashSet<string>();
        for (var i = 0; i < count; i++)
        {
            var calendar = random.Next(3) == 0;
            var name = calendar ? (random.Next(2) == 0 ? "attendeeIcsContent" : "organizerIcsContent") : "f" + random.Next(10);
            if (used.Add(name))
            {
                members.Add((name, calendar ? "\"BEGIN:VCALENDAR\\r\\nATTENDEE;CN=Max:mailto:max@example.com\\r\\nEND:VCALENDAR\"" : values[random.Next(values.Length)]));
            }
        }

        if (includePayload)
        {
            members.Insert(random.Next(members.Count + 1), ("payload", ""));
        }

        return members;
    }
}
