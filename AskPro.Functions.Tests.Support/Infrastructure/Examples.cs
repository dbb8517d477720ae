namespace AskPro.Functions.Tests.Infrastructure;

/// <summary>Test bodies: Cal.com's real shapes in TestData/calcom, and the seed's shapes in TestData/seed.</summary>
public static class Examples
{
    public static string CalcomDirectory => Path.Combine(AppContext.BaseDirectory, "TestData", "calcom");

    public static string SeedDirectory => Path.Combine(AppContext.BaseDirectory, "TestData", "seed");

    public static byte[] Calcom(string name) => File.ReadAllBytes(Path.Combine(CalcomDirectory, name));

    public static byte[] Seed(string name) => File.ReadAllBytes(Path.Combine(SeedDirectory, name));

    public static IEnumerable<string> CalcomNames => Directory.EnumerateFiles(CalcomDirectory)
        .Where(f => !f.EndsWith(".md", StringComparison.Ordinal)).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal);

    public static IEnumerable<string> SeedNames => Directory.EnumerateFiles(SeedDirectory, "*.json").Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal);
}
