namespace AskPro.Send;

/// <summary>One body to deliver, under the name it is shown with.</summary>
public sealed record Webhook(string Name, byte[] Body);

/// <summary>
/// The repository's example bodies by name (Cal.com's real shapes in <c>TestData/calcom</c>, the seed page's in
/// <c>TestData/seed</c>), any file by path, and the stories they form.
/// </summary>
public sealed class WebhookExamples(params string[] directories)
{
    /// <summary>Whole lifecycles, in the order Cal.com would send them.</summary>
    public static IReadOnlyDictionary<string, string[]> Stories { get; } = new SortedDictionary<string, string[]>(StringComparer.Ordinal)
    {
        ["web"] = ["booking_created_web", "meeting_ended", "booking_no_show_updated"],
        ["reschedule"] = ["booking_created_api_metadata", "booking_rescheduled", "booking_cancelled"],
        ["request-reject"] = ["booking_requested", "booking_rejected"],
        ["seed-internal"] = ["seed_booking_created"],
        ["seed-request-confirm"] = ["seed_booking_requested", "seed_booking_confirmed"],
        ["seed-reschedule"] = ["seed_booking_created_external", "seed_booking_rescheduled", "seed_booking_cancelled"],
    };

    /// <summary>The repository's two example folders, found above <paramref name="start"/>.</summary>
    public static WebhookExamples InRepository(string start)
    {
        var root = RepoRoot(start);
        var data = Path.Combine(root, "AskPro.Functions.Tests", "TestData");
        return new WebhookExamples(Path.Combine(data, "calcom"), Path.Combine(data, "seed"));
    }

    public static string RepoRoot(string start)
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "AskPro.Functions.sln")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException($"AskPro.Functions.sln not found above {start}");
    }

    public IEnumerable<string> Names => directories.Where(Directory.Exists)
        .SelectMany(d => Directory.EnumerateFiles(d, "*.json")).Select(Path.GetFileNameWithoutExtension).OfType<string>().Order(StringComparer.Ordinal);

    /// <summary>An existing file path as given, else an example by name (with or without <c>.json</c>).</summary>
    public Webhook Load(string nameOrPath)
    {
        ArgumentNullException.ThrowIfNull(nameOrPath);
        if (File.Exists(nameOrPath))
        {
            return new Webhook(Path.GetFileName(nameOrPath), File.ReadAllBytes(nameOrPath));
        }

        var file = nameOrPath.EndsWith(".json", StringComparison.OrdinalIgnoreCase) ? nameOrPath : nameOrPath + ".json";
        foreach (var directory in directories)
        {
            var path = Path.Combine(directory, file);
            if (File.Exists(path))
            {
                return new Webhook(Path.GetFileNameWithoutExtension(path), File.ReadAllBytes(path));
            }
        }

        throw new FileNotFoundException($"'{nameOrPath}' is neither a file nor an example; examples: {string.Join(", ", Names)}");
    }

    public IReadOnlyList<Webhook> Story(string name) =>
        Stories.TryGetValue(name, out var steps)
            ? [.. steps.Select(Load)]
            : throw new KeyNotFoundException($"no story '{name}'; stories: {string.Join(", ", Stories.Keys)}");
}
