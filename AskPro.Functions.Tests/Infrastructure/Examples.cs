namespace AskPro.Functions.Tests.Infrastructure;

/// <summary>Test bodies: Cal.com's real shapes from ../shared/calcom/examples, and the seed's shapes in TestData/seed.</summary>
public static class Examples
{
    public static string CalcomDirectory => Path.GetFullPath(Path.Combine(Azurite.RepoRoot(), "..", "shared", "calcom", "examples"));

    public static string SeedDirectory => Path.Combine(AppContext.BaseDirectory, "TestData", "seed");

    public static byte[] Calcom(string name) => File.ReadAllBytes(Path.Combine(CalcomDirectory, name));

    public static byte[] Seed(string name) => File.ReadAllBytes(Path.Combine(SeedDirectory, name));

    public static IEnumerable<string> CalcomNames => Directory.EnumerateFiles(CalcomDirectory).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal);

    public static IEnumerable<string> SeedNames => Directory.EnumerateFiles(SeedDirectory, "*.json").Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal);
}
