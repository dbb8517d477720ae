using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace AskPro.Send;

/// <summary>
/// Turns example bodies into a booking nobody has seen: every uid becomes a new Cal.com-like uid (22 random base58
/// characters) wherever it appears (also inside <c>iCalUID</c> and URLs), every booking id a new number, and every
/// time moves by one common offset (so the earliest <c>createdAt</c> is today, plus a random number of half hours).
/// One instance rewrites a whole story, so its bodies keep pointing at each other.
/// </summary>
public sealed partial class FreshBooking(Random random, TimeProvider time)
{
    private const string Base58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    private static readonly JsonSerializerOptions Compact = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly Dictionary<string, string> _uids = new(StringComparer.Ordinal);
    private readonly Dictionary<long, long> _bookingIds = [];
    private TimeSpan? _shift;

    public IReadOnlyDictionary<string, string> Uids => _uids;

    /// <summary>The story rewritten, as compact JSON (as Cal.com sends it: <c>JSON.stringify</c>, umlauts unescaped).</summary>
    public IReadOnlyList<Webhook> Rewrite(IReadOnlyList<Webhook> story)
    {
        ArgumentNullException.ThrowIfNull(story);
        var nodes = story.Select(w => JsonNode.Parse(w.Body) ?? throw new InvalidDataException($"{w.Name} is JSON null")).ToList();
        foreach (var node in nodes)
        {
            Collect(node, null);
        }

        _shift ??= ShiftFor(nodes);
        return [.. story.Zip(nodes, (w, n) => new Webhook(w.Name, JsonSerializer.SerializeToUtf8Bytes(Rewrite(n, null), Compact)))];
    }

    public string NewUid() => string.Create(22, random, static (chars, r) =>
    {
        for (var i = 0; i < chars.Length; i++)
        {
            chars[i] = Base58[r.Next(Base58.Length)];
        }
    });

    private static bool IsUidKey(string? key) => key is "uid" or "fromReschedule" || (key?.EndsWith("Uid", StringComparison.Ordinal) ?? false);

    private void Collect(JsonNode? node, string? key)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var (k, v) in o)
                {
                    Collect(v, k);
                }

                break;
            case JsonArray a:
                foreach (var v in a)
                {
                    Collect(v, key);
                }

                break;
            case JsonValue v when IsUidKey(key) && v.TryGetValue<string>(out var uid) && uid.Length > 0 && !_uids.ContainsKey(uid):
                _uids[uid] = NewUid();
                break;
            case JsonValue v when key == "bookingId" && v.TryGetValue<long>(out var id) && !_bookingIds.ContainsKey(id):
                _bookingIds[id] = random.NextInt64(10_000_000, 100_000_000);
                break;
        }

        // Flat MEETING_* bodies carry the booking id as the top-level "id".
        if (node is JsonObject root && root.Parent is null && root["payload"] is null && root["uid"] is not null
            && root["id"] is JsonValue rootId && rootId.TryGetValue<long>(out var flatId) && !_bookingIds.ContainsKey(flatId))
        {
            _bookingIds[flatId] = random.NextInt64(10_000_000, 100_000_000);
        }
    }

    private JsonNode? Rewrite(JsonNode? node, string? key)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var k in o.Select(p => p.Key).ToList())
                {
                    // Only new leaves are assigned: a node that is already the child cannot be set again.
                    if (Rewrite(o[k], k) is var value && !ReferenceEquals(value, o[k]))
                    {
                        o[k] = value;
                    }
                }

                return o;
            case JsonArray a:
                for (var i = 0; i < a.Count; i++)
                {
                    if (Rewrite(a[i], key) is var value && !ReferenceEquals(value, a[i]))
                    {
                        a[i] = value;
                    }
                }

                return a;
            case JsonValue v when v.TryGetValue<string>(out var text):
                return JsonValue.Create(Rewrite(text));
            case JsonValue v when key is "bookingId" or "id" && v.TryGetValue<long>(out var id) && _bookingIds.TryGetValue(id, out var fresh):
                return JsonValue.Create(fresh);
            default:
                return node;
        }
    }

    private string Rewrite(string text)
    {
        if (IsoTime().Match(text) is { Success: true } m)
        {
            return Shift(m);
        }

        foreach (var (old, fresh) in _uids)
        {
            text = text.Replace(old, fresh, StringComparison.Ordinal);
        }

        return text;
    }

    private string Shift(Match m)
    {
        var shifted = DateTimeOffset.Parse(m.Value, CultureInfo.InvariantCulture, DateTimeStyles.None) + _shift!.Value;
        var fraction = m.Groups["fraction"].Value;
        var format = "yyyy-MM-dd'T'HH:mm" + (m.Groups["seconds"].Success ? ":ss" : "") + (fraction.Length > 1 ? "." + new string('f', fraction.Length - 1) : "");
        var zone = m.Groups["zone"].Value == "Z" ? "Z" : shifted.ToString("zzz", CultureInfo.InvariantCulture);
        return shifted.ToString(format, CultureInfo.InvariantCulture) + zone;
    }

    private TimeSpan ShiftFor(List<JsonNode> nodes)
    {
        var earliest = nodes.Select(n => n["createdAt"]?.GetValue<string>())
            .Select(s => DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.None, out var t) ? t : (DateTimeOffset?)null)
            .Where(t => t is not null).Min() ?? time.GetUtcNow();
        var days = (time.GetUtcNow().UtcDateTime.Date - earliest.UtcDateTime.Date).Days;
        return TimeSpan.FromDays(days) + TimeSpan.FromMinutes(30 * random.Next(0, 60 * 48));
    }

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?<seconds>:\d{2}(?<fraction>\.\d+)?)?(?<zone>Z|[+-]\d{2}:\d{2})$", RegexOptions.CultureInvariant)]
    private static partial Regex IsoTime();
}
