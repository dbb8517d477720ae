using System.Text.Json;
using AskPro.Functions.Tests.Infrastructure;

namespace AskPro.Functions.Tests.Infra;

/// <summary>
/// The committed snapshot of the dev deployment (<c>infra/main.snapshot.json</c>): every resource <c>infra/main.bicep</c>
/// declares, with names and settings resolved for a fixed scope. <c>infra/check.sh</c> fails when the snapshot no longer
/// matches the Bicep, so what these tests read is what <c>az deployment group create</c> would deploy.
/// </summary>
public sealed class InfraSnapshot
{
    private readonly JsonElement _root;

    private InfraSnapshot(JsonElement root) => _root = root;

    public static string Path => System.IO.Path.Combine(Azurite.RepoRoot(), "infra", "main.snapshot.json");

    public static InfraSnapshot Load()
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(Path));
        return new InfraSnapshot(document.RootElement.Clone());
    }

    public IEnumerable<JsonElement> Resources(string type) =>
        _root.GetProperty("predictedResources").EnumerateArray()
            .Where(r => string.Equals(r.GetProperty("type").GetString(), type, StringComparison.OrdinalIgnoreCase));

    public JsonElement Single(string type) => Assert.Single(Resources(type));

    /// <summary>Last segment of the names of the child resources of a type (e.g. queue names).</summary>
    public IReadOnlyList<string> ChildNames(string type) =>
        Resources(type).Select(r => r.GetProperty("name").GetString()!.Split('/')[^1]).Order(StringComparer.Ordinal).ToList();

    /// <summary>The function app's settings exactly as deployed: literals, or ARM expressions resolved by Azure (<c>[...]</c>).</summary>
    public IReadOnlyDictionary<string, string> AppSettings() =>
        Resources("Microsoft.Web/sites/config")
            .Where(r => r.GetProperty("name").GetString()!.EndsWith("/appsettings", StringComparison.Ordinal))
            .Select(r => r.GetProperty("properties"))
            .Single()
            .EnumerateObject()
            .ToDictionary(p => p.Name, p => p.Value.GetString()!, StringComparer.Ordinal);

    public string Output(string name) => _root.GetProperty("outputs").GetProperty(name).GetString()!;

    public static bool IsExpression(string value) => value.StartsWith('[') && value.EndsWith(']') && !value.StartsWith("[[", StringComparison.Ordinal);
}
