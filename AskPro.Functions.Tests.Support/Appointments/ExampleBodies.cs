using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using AskPro.Functions.Appointments;
using AskPro.Functions.Calcom;
using AskPro.Functions.Tests.Infrastructure;

namespace AskPro.Functions.Tests.Appointments;

/// <summary>The example bodies read as events, edited copies of them, and books built from them.</summary>
internal static class ExampleBodies
{
    private static readonly JsonSerializerOptions Compact = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static byte[] CalcomExample(string name) => Examples.Calcom(name + ".json");

    public static byte[] SeedExample(string name) => Examples.Seed(name + ".json");

    /// <summary>A copy of <paramref name="body"/> with <paramref name="edit"/> applied to its payload (or its root when flat).</summary>
    public static byte[] Edit(byte[] body, Action<JsonObject> edit)
    {
        var root = JsonNode.Parse(body)!.AsObject();
        edit(root["payload"] as JsonObject ?? root);
        return JsonSerializer.SerializeToUtf8Bytes(root, Compact);
    }

    /// <summary>A copy of an enveloped body sent as another trigger at another time, its payload edited.</summary>
    public static byte[] Retrigger(byte[] body, string trigger, string createdAt, Action<JsonObject>? edit = null)
    {
        var root = JsonNode.Parse(body)!.AsObject();
        root["triggerEvent"] = trigger;
        root["createdAt"] = createdAt;
        edit?.Invoke(root["payload"]!.AsObject());
        return JsonSerializer.SerializeToUtf8Bytes(root, Compact);
    }

    public static IEnumerable<T[]> Permutations<T>(T[] items) =>
        items.Length <= 1 ? [items] : items.SelectMany((x, i) => Permutations([.. items.Take(i), .. items.Skip(i + 1)]).Select(rest => (T[])[x, .. rest]));

    public static BookingEvent Read(byte[] body)
    {
        var read = CalcomWebhookReader.Read(body);
        Assert.True(read.Kind == WebhookKind.Booking, $"{read.Kind}: {string.Join("; ", read.Errors)}");
        return read.Event!;
    }

    public static Appointment Project(params byte[][] bodies) =>
        AppointmentProjection.Project(bodies.Select(Read).Aggregate(BookingFacts.Empty, (f, e) => f.With(e)));

    public static AppointmentBook Book(params byte[][] bodies)
    {
        var book = new AppointmentBook();
        foreach (var body in bodies)
        {
            book.Apply(Read(body));
        }

        return book;
    }

    /// <summary>The one record of a book that must hold exactly one.</summary>
    public static Appointment Single(AppointmentBook book) => Assert.Single(book.Records.Values).Record;

    public static DateTimeOffset Utc(string iso) => DateTimeOffset.Parse(iso, System.Globalization.CultureInfo.InvariantCulture);
}
