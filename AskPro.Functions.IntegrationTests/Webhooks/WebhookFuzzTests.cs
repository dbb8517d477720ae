using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using AskPro.Functions.Tests.Infrastructure;
using AskPro.Functions.Webhooks;
using Microsoft.Extensions.Primitives;
using Xunit.Abstractions;

namespace AskPro.Functions.Tests.Webhooks;

/// <summary>
/// Hostile input through the HTTP function on a real Azurite: at least 100,000 seeded requests — random bytes,
/// truncated and mutated real bodies, wrong types in every field, huge numbers, duplicate keys, deep nesting, invalid
/// UTF-8, lone surrogates, giant and repeated headers, bodies at and around the size limit, wrong Content-Length,
/// valid signatures over garbage. Every answer is a documented status with a well-formed JSON body, never a 500 (the
/// function does not throw); managed memory stays bounded; no log line carries a secret, a signature, a uid or
/// personal data. Runs in the last collection, so its log check also covers every line the suite captured before.
/// </summary>
[Collection(RunsAloneCollection.Name)]
public sealed partial class WebhookFuzzTests(ITestOutputHelper output) : IAsyncLifetime
{
    public const int Seed = 20261201;
    private const int Limit = 64 * 1024;
    private static readonly int Requests = int.TryParse(Environment.GetEnvironmentVariable("ASKPRO_FUZZ_REQUESTS"), out var n) ? n : 100_000;
    private static readonly HashSet<int> Documented = [200, 202, 400, 401, 413, 422];
    private static readonly HashSet<string> Codes =
        [ErrorCodes.PayloadTooLarge, ErrorCodes.IncompleteBody, ErrorCodes.MissingSignature, ErrorCodes.UnsignedDelivery, ErrorCodes.InvalidSignature, ErrorCodes.InvalidJson, ErrorCodes.InvalidPayload];

    private Azurite _azurite = null!;
    private TestApp _app = null!;
    private byte[][] _examples = [];

    public async Task InitializeAsync()
    {
        _azurite = await Azurite.StartAsync(allowExternal: false);
        _app = TestApp.Create(_azurite.ConnectionString, s => s["CalcomWebhook:MaxBodyBytes"] = Limit.ToString(System.Globalization.CultureInfo.InvariantCulture));
        _examples = [.. Examples.CalcomNames.Select(Examples.Calcom), .. Examples.SeedNames.Select(Examples.Seed)];
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        await _azurite.DisposeAsync();
    }

    [Fact]
    public async Task Every_hostile_request_gets_a_documented_answer_with_a_JSON_body_and_no_log_line_leaks()
    {
        var statuses = new ConcurrentDictionary<string, int>();
        var signatures = new ConcurrentDictionary<string, byte>(StringComparer.Ordinal);
        var failures = new ConcurrentQueue<string>();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var baseline = GC.GetTotalMemory(forceFullCollection: true);
        long peak = 0;
        var clock = System.Diagnostics.Stopwatch.StartNew();

        await Parallel.ForEachAsync(Enumerable.Range(0, Requests), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, _) =>
        {
            var random = new Random(Seed + i);
            var (kind, body, contentLength, headers) = Make(random);
            if (headers.TryGetValue(WebhookSignature.HeaderName, out var sig) && sig.Count == 1 && sig[0]!.Length == 64)
            {
                signatures.TryAdd(sig[0]!, 0);
            }

            WebhookResponse response;
            try
            {
                response = await WebhookCall.PostWithHeadersAsync(_app, new MemoryStream(body), contentLength, headers);
            }
            catch (Exception ex)
            {
                failures.Enqueue($"case {i} ({kind}, seed {Seed + i}): the function threw {ex.GetType().Name} (a 500): {ex.Message}");
                return;
            }

            var problem = Check(response);
            if (problem is not null && failures.Count < 20)
            {
                failures.Enqueue($"case {i} ({kind}, seed {Seed + i}): {problem}: {Clip(response.ToString())}");
            }

            statuses.AddOrUpdate($"{response.StatusCode} {kind}", 1, (_, c) => c + 1);
            if (i % 10_000 == 0)
            {
                var heap = GC.GetTotalMemory(forceFullCollection: false);
                InterlockedMax(ref peak, heap);
            }
        });

        GC.Collect();
        var after = GC.GetTotalMemory(forceFullCollection: true);
        output.WriteLine($"{Requests} requests (seed {Seed} + case index; ASKPRO_FUZZ_REQUESTS overrides the count) in {clock.Elapsed.TotalSeconds:F1} s; "
            + $"managed heap {baseline / 1e6:F0} MB before, peak {peak / 1e6:F0} MB, {after / 1e6:F0} MB after (log lines kept: {_app.Logs.Lines.Count})");
        foreach (var (key, count) in statuses.OrderBy(k => k.Key, StringComparer.Ordinal))
        {
            output.WriteLine($"  {key}: {count}");
        }

        Assert.True(failures.IsEmpty, string.Join('\n', failures));
        Assert.True(Requests < 100_000 || statuses.Values.Sum() >= 100_000);
        // Bounded: the captured log lines are the only thing kept per request (about 0.5 KB each).
        Assert.True(after - baseline < 200_000_000 && peak - baseline < 600_000_000, $"managed heap grew from {baseline} to {after} bytes (peak {peak})");

        // No signature any request carried is in a log line (64 hex digits that are not a delivery id).
        var leakedSignatures = _app.Logs.Lines.SelectMany(l => Hex64().Matches(l).Select(m => m.Value)).Where(signatures.ContainsKey).Take(5).ToList();
        Assert.Empty(leakedSignatures);
        // Nor a secret, uid, name, e-mail or phone of any example, here or in any other test's captured lines.
        Assert.True(LogAudit.Violations.Count == 0, string.Join('\n', LogAudit.Violations.Take(10)));
        output.WriteLine($"log audit: {LogAudit.LinesChecked} lines captured by the suite so far checked, no secret, signature, uid or personal data");
    }

    private static string? Check(WebhookResponse response)
    {
        if (!Documented.Contains(response.StatusCode))
        {
            return $"status {response.StatusCode} is not a documented answer";
        }

        if (!response.ContentType.StartsWith("application/json", StringComparison.Ordinal))
        {
            return $"content type {response.ContentType}";
        }

        try
        {
            var json = response.Json;
            var status = json.GetProperty("status").GetString();
            if (response.StatusCode >= 400)
            {
                var error = json.GetProperty("error");
                if (status != "error" || !Codes.Contains(error.GetProperty("code").GetString()!) || error.GetProperty("message").ValueKind != JsonValueKind.String)
                {
                    return "not the error format";
                }

                if (error.TryGetProperty("details", out var details) && (details.ValueKind != JsonValueKind.Array || details.EnumerateArray().Any(d => d.ValueKind != JsonValueKind.String)))
                {
                    return "details are not a list of strings";
                }
            }
            else if (status is not ("accepted" or "ok" or "ignored"))
            {
                return $"status {status}";
            }
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return "body is not the documented JSON";
        }

        return null;
    }

    private (string Kind, byte[] Body, long? ContentLength, Dictionary<string, StringValues> Headers) Make(Random r)
    {
        var example = _examples[r.Next(_examples.Length)];
        var kind = r.Next(14);
        byte[] body = kind switch
        {
            0 or 1 => RandomBytes(r, r.Next(0, 3000)),
            2 => example[..r.Next(0, example.Length)],
            3 => Flip(r, example),
            4 => WrongType(r, example),
            5 => Replace(example, r, ["\"id\": ", "\"bookingId\": ", "\"eventTypeId\": "], ["1e400", "99999999999999999999999999", "-0", "1.5", "NaN"]),
            6 => Encoding.UTF8.GetBytes("{\"triggerEvent\":\"BOOKING_CREATED\"," + Encoding.UTF8.GetString(example)[1..]),
            7 => Encoding.UTF8.GetBytes(new string('[', r.Next(1, 300)) + "{\"triggerEvent\":\"PING\"}" + new string(']', r.Next(0, 300))),
            8 => InvalidUtf8(r, example),
            9 => Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(example).Replace("\"uid\": \"", "\"uid\": \"\\ud800", StringComparison.Ordinal)),
            10 => Padded(example, Limit + r.Next(-2, 3)),
            11 => Encoding.UTF8.GetBytes($"{{\"triggerEvent\":\"BOOKING_CREATED\",\"payload\":{{\"uid\":\"{new string('u', r.Next(60, 70))}\",\"startTime\":\"{r.Next()}\"}}}}"),
            _ => example,
        };
        var names = new[] { "random", "random-signed", "truncated", "mutated", "wrong-type", "huge-number", "duplicate-key", "deep", "invalid-utf8", "lone-surrogate", "at-limit", "long-uid", "headers", "content-length" };
        var signature = kind is 0 ? HexOrJunk(r) : WebhookCall.Sign(body);
        var headers = new Dictionary<string, StringValues>(StringComparer.OrdinalIgnoreCase) { [WebhookSignature.HeaderName] = signature };
        long? length = body.Length;
        if (kind == 12)
        {
            headers = r.Next(3) switch
            {
                0 => new(StringComparer.OrdinalIgnoreCase) { [WebhookSignature.HeaderName] = new string('a', r.Next(65, 200_000)) },
                1 => new(StringComparer.OrdinalIgnoreCase) { [WebhookSignature.HeaderName] = new StringValues([.. Enumerable.Repeat(signature, r.Next(2, 50))]) },
                _ => new(StringComparer.OrdinalIgnoreCase) { [WebhookSignature.HeaderName] = signature, ["X-Junk"] = new string('x', 100_000) },
            };
        }
        else if (kind == 13)
        {
            length = r.Next(3) switch { 0 => null, 1 => body.Length + r.Next(1, 100), _ => Limit + 1L + r.Next(1_000_000) };
        }

        return (names[kind], body, length, headers);
    }

    private static byte[] RandomBytes(Random r, int n)
    {
        var b = new byte[n];
        r.NextBytes(b);
        return b;
    }

    private static byte[] Flip(Random r, byte[] body)
    {
        var b = (byte[])body.Clone();
        for (var k = r.Next(1, 8); k > 0; k--)
        {
            b[r.Next(b.Length)] = (byte)r.Next(256);
        }

        return b;
    }

    private static readonly string[] Fields = ["triggerEvent", "createdAt", "payload", "uid", "bookingUid", "rescheduleUid", "startTime", "endTime", "title", "attendees",
        "organizer", "responses", "metadata", "bookingId", "eventTypeId", "status", "requestReschedule", "noShowHost", "paid", "cancellationReason", "email", "name", "timeZone"];

    private static readonly string[] Values = ["null", "true", "0", "-1", "1e308", "\"\"", "[]", "{}", "[1,2,3]", "{\"a\":{\"b\":[]}}", "\"2026-13-45T99:99:99Z\"", "12345678901234567890"];

    private static byte[] WrongType(Random r, byte[] body)
    {
        var text = Encoding.UTF8.GetString(body);
        var field = Fields[r.Next(Fields.Length)];
        var match = Regex.Match(text, $"\"{field}\":\\s*(\"[^\"]*\"|[-0-9.eE+]+|true|false|null)");
        return match.Success
            ? Encoding.UTF8.GetBytes(string.Concat(text.AsSpan(0, match.Groups[1].Index), Values[r.Next(Values.Length)], text.AsSpan(match.Groups[1].Index + match.Groups[1].Length)))
            : body;
    }

    private static byte[] Replace(byte[] body, Random r, string[] keys, string[] values)
    {
        var text = Encoding.UTF8.GetString(body);
        foreach (var key in keys)
        {
            text = Regex.Replace(text, Regex.Escape(key) + "[0-9]+", key + values[r.Next(values.Length)]);
        }

        return Encoding.UTF8.GetBytes(text);
    }

    private static byte[] InvalidUtf8(Random r, byte[] body)
    {
        var bad = new byte[][] { [0xC3, 0x28], [0xFF], [0xED, 0xA0, 0x80], [0xF0, 0x28, 0x8C, 0x28], [0xC0, 0xAF] }[r.Next(5)];
        var at = r.Next(body.Length);
        return [.. body.AsSpan(0, at), .. bad, .. body.AsSpan(at)];
    }

    private static byte[] Padded(byte[] body, int size)
    {
        var pad = Math.Max(0, size - body.Length);
        return [.. Encoding.UTF8.GetBytes(new string(' ', pad)), .. body];
    }

    private static string HexOrJunk(Random r) => r.Next(3) switch
    {
        0 => Convert.ToHexStringLower(RandomBytes(r, 32)),
        1 => "sha256=" + Convert.ToHexStringLower(RandomBytes(r, 32)),
        _ => "",
    };

    private static string Clip(string s) => s.Length > 300 ? s[..300] : s;

    private static void InterlockedMax(ref long target, long value)
    {
        long current;
        while ((current = Interlocked.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }

    [GeneratedRegex("[0-9a-f]{64}")]
    private static partial Regex Hex64();
}
