using System.Text;
using System.Text.Json.Nodes;
using AskPro.Functions.Appointments;
using AskPro.Functions.Calcom;
using AskPro.Functions.Tests.Appointments;

namespace AskPro.Functions.Tests.Calcom;

/// <summary>
/// Cal.com builds each body when it sends it, so a retry can carry the same trigger, uid and createdAt as the first
/// try with other content (the booking changed in between). For generated lifecycles (seated ones included) where
/// many events also arrive as such a rebuilt twin, every delivery order gives the same appointment book.
/// </summary>
public sealed class RebuiltRetryPropertyTests
{
    private const int Seed = 20_261_204;
    private const int Cases = 600;

    [Fact]
    public void Events_that_also_arrive_rebuilt_with_other_content_converge_to_one_book_in_every_order()
    {
        var twins = 0;
        for (var i = 0; i < Cases; i++)
        {
            var random = new Random(unchecked((Seed * 1_000_003) + i));
            var scenario = new LifecycleGenerator(random, seatedRate: 0.15).NextScenario();
            var bodies = new List<byte[]>();
            foreach (var g in scenario.InOrder)
            {
                bodies.Add(g.Body);
                if (random.NextDouble() < 0.5 && Rebuilt(g.Body, random) is { } twin)
                {
                    bodies.Add(twin);
                    twins++;
                }
            }

            Dictionary<string, StoredAppointment>? reference = null;
            string? referenceOrder = null;
            for (var round = 0; round < 3; round++)
            {
                var order = round == 0 ? bodies : round == 1 ? Enumerable.Reverse(bodies).ToList() : [.. bodies.OrderBy(_ => random.Next())];
                var book = new AppointmentBook();
                foreach (var body in order)
                {
                    book.Apply(CalcomWebhookReader.Read(body).Event!);
                }

                var records = book.Records.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
                var trace = string.Join("\n", order.Select(Describe));
                if (reference is null)
                {
                    (reference, referenceOrder) = (records, trace);
                }
                else
                {
                    RecordAssert.AssertSameRecords(reference, records,
                        $"seed {Seed}, case {i}, round {round} ({scenario})\nfirst order:\n{referenceOrder}\nthis order:\n{trace}\n");
                }
            }
        }

        // The property means something only if many events really came twice with other content.
        Assert.True(twins > Cases * 3, $"only {twins} rebuilt twins in {Cases} cases");
    }

    /// <summary>
    /// The same event (trigger, uid, createdAt) built again after the booking changed in place: other location, title,
    /// notes, host, end time or attendee name. Null when the event carries none of them.
    /// </summary>
    private static byte[]? Rebuilt(byte[] body, Random random)
    {
        var root = JsonNode.Parse(body)!.AsObject();
        var b = root["payload"] as JsonObject ?? root;
        var changed = false;
        void Change(string name, JsonNode? value)
        {
            if (b.ContainsKey(name) && b[name] is not null)
            {
                b[name] = value;
                changed = true;
            }
        }

        var n = random.Next(1000);
        switch (random.Next(6))
        {
            case 0:
                Change("location", $"Praxis {n}, Ringstraße {n % 40}");
                break;
            case 1:
                Change("title", $"Termin {n}");
                break;
            case 2:
                Change("additionalNotes", $"Neue Notiz {n}");
                if (b["responses"] is JsonObject r && r["notes"] is JsonObject notes && notes.ContainsKey("value"))
                {
                    notes["value"] = $"Neue Notiz {n}";
                    changed = true;
                }

                break;
            case 3:
                if (b["organizer"] is JsonObject o)
                {
                    o["name"] = $"Dr. Vertretung {n}";
                    changed = true;
                }

                break;
            case 4:
                if (b["endTime"]?.GetValue<string>() is { } end && CalcomWebhookReader.TryParseTime(end, out var t))
                {
                    b["endTime"] = t.AddMinutes(15).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);
                    changed = true;
                }

                break;
            default:
                if (b["attendees"] is JsonArray { Count: > 0 } attendees && attendees[0] is JsonObject a && a.ContainsKey("name"))
                {
                    a["name"] = $"Neu Name {n}";
                    changed = true;
                }

                break;
        }

        if (!changed)
        {
            return null;
        }

        var twin = Encoding.UTF8.GetBytes(root.ToJsonString());
        var read = CalcomWebhookReader.Read(twin);
        return read.Kind == WebhookKind.Booking ? twin : null;
    }

    private static string Describe(byte[] body)
    {
        var e = CalcomWebhookReader.Read(body).Event!;
        return $"{e.TriggerEvent} {e.Uid}{(e.RescheduleUid is { } r ? "<" + r : "")} @{e.CreatedAt:O} #{BookingFacts.Fingerprint(e)[..8]}";
    }
}
