using System.Collections.Concurrent;
using System.Text.Json;

namespace AskPro.Functions.Tests.Infrastructure;

/// <summary>
/// Every log line any test captures (the app's and the WebJobs host's) is checked here for the test secrets, the uids
/// and the names, e-mails and phone numbers of every example body; a test may add more (the fuzzer adds what it sent).
/// <see cref="Violations"/> is asserted empty by the fuzz test, which runs in the last collection. Telemetry tests check
/// every item the Application Insights SDK would send, serialised as for ingestion, with <see cref="ForbiddenIn"/>.
/// </summary>
public static class LogAudit
{
    private static readonly ConcurrentDictionary<string, byte> Extra = new(StringComparer.Ordinal);
    private static readonly Lazy<string[]> FromExamples = new(Build);
    private static readonly ConcurrentQueue<string> Found = new();
    private static long _checked;

    public static IReadOnlyCollection<string> Violations => Found;

    public static long LinesChecked => Interlocked.Read(ref _checked);

    public static void Forbid(string value)
    {
        if (value.Length >= 5)
        {
            Extra.TryAdd(value, 0);
        }
    }

    public static void Check(string line)
    {
        Interlocked.Increment(ref _checked);
        foreach (var value in FromExamples.Value)
        {
            Test(line, value);
        }

        foreach (var value in Extra.Keys)
        {
            Test(line, value);
        }
    }

    /// <summary>Each audited value <paramref name="text"/> contains, with a little context (for an assertion on the spot).</summary>
    public static IReadOnlyList<string> ForbiddenIn(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        Interlocked.Increment(ref _checked);
        var found = new List<string>();
        foreach (var value in FromExamples.Value.Concat(Extra.Keys))
        {
            var at = text.IndexOf(value, StringComparison.OrdinalIgnoreCase);
            if (at >= 0)
            {
                found.Add($"'{value}' in: …{text[Math.Max(0, at - 200)..Math.Min(text.Length, at + value.Length + 50)]}…");
            }
        }

        return found;
    }

    private static void Test(string line, string value)
    {
        if (line.Contains(value, StringComparison.OrdinalIgnoreCase) && Found.Count < 100)
        {
            Found.Enqueue($"'{value}' in: {line}");
        }
    }

    private static string[] Build()
    {
        var values = new HashSet<string>(StringComparer.Ordinal) { TestApp.Secret, TestApp.SecondSecret };
        foreach (var file in Directory.EnumerateFiles(Examples.CalcomDirectory, "*.json").Concat(Directory.EnumerateFiles(Examples.SeedDirectory, "*.json")))
        {
            var body = File.ReadAllBytes(file);
            values.UnionWith(PersonalData.PersonalValues(body));
            using var document = JsonDocument.Parse(body);
            Uids(document.RootElement, values);
        }

        return [.. values];
    }

    private static void Uids(JsonElement element, HashSet<string> found)
    {
        if (element.ValueKind == JsonValueKind.Object)
        {
            foreach (var p in element.EnumerateObject())
            {
                if (p.Name is "uid" or "bookingUid" or "rescheduleUid" && p.Value.ValueKind == JsonValueKind.String && p.Value.GetString()!.Length >= 5)
                {
                    found.Add(p.Value.GetString()!);
                }

                Uids(p.Value, found);
            }
        }
        else if (element.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in element.EnumerateArray())
            {
                Uids(item, found);
            }
        }
    }
}
