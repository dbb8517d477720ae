using System.Text;
using System.Text.Json;

namespace AskPro.Functions.Tests.Appointments;

/// <summary>How a generated lifecycle's bodies arrive: out of order, some twice, some again with a later <c>createdAt</c>.</summary>
public static class DeliveryShuffler
{
    /// <summary>
    /// A delivery of <paramref name="inOrder"/>: the bodies in a random order (sometimes exactly reversed), some of them
    /// twice with the same bytes, some delivered again with a later <c>createdAt</c> and otherwise the same content.
    /// </summary>
    public static List<byte[]> Delivery(Random random, IReadOnlyList<GeneratedEvent> inOrder, double duplicateRate = 0.25, double redeliveryRate = 0.2)
    {
        ArgumentNullException.ThrowIfNull(random);
        ArgumentNullException.ThrowIfNull(inOrder);
        var bodies = new List<byte[]>(inOrder.Count * 2);
        foreach (var e in inOrder)
        {
            bodies.Add(e.Body);
            if (random.NextDouble() < duplicateRate)
            {
                bodies.Add(e.Body);
            }

            if (random.NextDouble() < redeliveryRate)
            {
                bodies.Add(WithCreatedAt(e.Body, e.CreatedAt.AddMilliseconds(random.Next(1, 3 * 24 * 3600 * 1000))));
            }
        }

        if (random.NextDouble() < 0.1)
        {
            bodies.Reverse();
        }
        else
        {
            random.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(bodies));
        }

        return bodies;
    }

    /// <summary>The same body with another top-level <c>createdAt</c>; every other byte stays as it was.</summary>
    public static byte[] WithCreatedAt(byte[] body, DateTimeOffset createdAt)
    {
        ArgumentNullException.ThrowIfNull(body);
        var reader = new Utf8JsonReader(body);
        while (reader.Read())
        {
            if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == 1 && reader.ValueTextEquals("createdAt"u8))
            {
                reader.Read();
                var start = (int)reader.TokenStartIndex;
                var end = (int)reader.BytesConsumed;
                var value = Encoding.UTF8.GetBytes($"\"{SeatBodies.Iso(createdAt)}\"");
                return [.. body.AsSpan(0, start), .. value, .. body.AsSpan(end)];
            }

            if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray && reader.CurrentDepth >= 1)
            {
                reader.Skip();
            }
        }

        throw new ArgumentException("the body has no top-level createdAt", nameof(body));
    }
}
