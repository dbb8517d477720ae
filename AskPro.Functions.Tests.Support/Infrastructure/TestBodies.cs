namespace AskPro.Functions.Tests.Infrastructure;

/// <summary>Hand-made bodies in TestData/bodies: shapes the examples do not cover, and broken ones.</summary>
public static class TestBodies
{
    public static string Directory => Path.Combine(AppContext.BaseDirectory, "TestData", "bodies");

    public static byte[] Read(string name) => File.ReadAllBytes(Path.Combine(Directory, name));
}
