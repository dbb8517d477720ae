using System.Reflection;
using System.Text.Json;
using System.Text.RegularExpressions;
using AskPro.Functions.Telemetry;
using AskPro.Functions.Tests.Infrastructure;
using Microsoft.Extensions.Logging;

namespace AskPro.Functions.Tests.Infra;

/// <summary>
/// The health workbook (infra/workbook.json, deployed by main.bicep), the alert rules and the KQL of docs/ (operating.md, reconciliation.md) ask for what the code really
/// emits: every event id a query selects is a [LoggerMessage] of the app, every customDimensions field it reads is a
/// parameter of that message or a field of the processing scope, every metric is one of <see cref="AskProMetrics"/>.
/// A renamed log field would otherwise leave an empty chart and a silent alert.
/// </summary>
public sealed partial class WorkbookAgreementTests
{
    // TenantId: the scope of every line while a delivery, message or pass is processed (docs/tenants.md#telemetry).
    private static readonly string[] ScopeFields = ["MessageId", "DequeueCount", "DeliveryId", "TriggerEvent", "EventId", "EventName", "CategoryName", "TenantId"];
    // TenantId is also the dimension every metric carries (docs/tenants.md#telemetry).
    private static readonly string[] MetricDimensions = ["Outcome", "TriggerEvent", "ReasonKind", "PassKind", "TenantId"];

    private static Dictionary<int, HashSet<string>> LogFields() =>
        typeof(AskProMetrics).Assembly.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            .Select(m => (Method: m, Attribute: m.GetCustomAttribute<LoggerMessageAttribute>()))
            .Where(x => x.Attribute is not null)
            .ToDictionary(x => x.Attribute!.EventId, x => x.Method.GetParameters().Skip(1).Select(p => char.ToUpperInvariant(p.Name![0]) + p.Name[1..]).ToHashSet(StringComparer.Ordinal));

    private static readonly string[] MetricNames = [AskProMetrics.Deliveries, AskProMetrics.ApplyDuration, AskProMetrics.QueueAge, AskProMetrics.DeadLetters, AskProMetrics.ReconciliationDrift];

    public static IEnumerable<object[]> Queries()
    {
        var workbook = InfraSnapshot.Load().Single("Microsoft.Insights/workbooks");
        using var data = JsonDocument.Parse(workbook.GetProperty("properties").GetProperty("serializedData").GetString()!);
        foreach (var item in data.RootElement.GetProperty("items").EnumerateArray().Where(i => i.GetProperty("type").GetInt32() == 3))
        {
            yield return ["workbook " + item.GetProperty("name").GetString(), item.GetProperty("content").GetProperty("query").GetString()!];
        }

        foreach (var rule in InfraSnapshot.Load().Resources("Microsoft.Insights/scheduledQueryRules"))
        {
            yield return ["alert " + rule.GetProperty("name").GetString(),
                rule.GetProperty("properties").GetProperty("criteria").GetProperty("allOf")[0].GetProperty("query").GetString()!];
        }

        foreach (var page in Directory.GetFiles(Path.Combine(Azurite.RepoRoot(), "docs"), "*.md").Order(StringComparer.Ordinal))
        {
            var i = 0;
            foreach (Match block in KqlBlock().Matches(File.ReadAllText(page)))
            {
                yield return [$"docs/{Path.GetFileName(page)} kql block {++i}", block.Groups["q"].Value];
            }
        }
    }

    [Fact]
    public void The_workbook_is_deployed_on_application_insights_and_the_operating_page_has_its_queries()
    {
        var infra = InfraSnapshot.Load();
        var workbook = infra.Single("Microsoft.Insights/workbooks");
        Assert.Equal(infra.Single("Microsoft.Insights/components").GetProperty("id").GetString(), workbook.GetProperty("properties").GetProperty("sourceId").GetString());
        Assert.True(Queries().Count(q => ((string)q[0]).StartsWith("docs/operating.md", StringComparison.Ordinal)) >= 5, "docs/operating.md has the five KQL queries");
        Assert.Contains(Queries(), q => ((string)q[0]).StartsWith("docs/reconciliation.md", StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Queries))]
    public void Every_query_reads_fields_the_code_emits(string where, string query)
    {
        var fields = LogFields();
        var eventIds = EventIdFilter().Matches(query)
            .SelectMany(m => Digits().Matches(m.Groups["ids"].Value).Select(d => int.Parse(d.Value, System.Globalization.CultureInfo.InvariantCulture))).ToList();
        var metrics = MetricFilter().Matches(query).Select(m => m.Groups["name"].Value).ToList();
        var dimensions = Dimension().Matches(query).Select(m => m.Groups["f"].Value).Distinct().ToList();

        Assert.All(eventIds, id => Assert.True(fields.ContainsKey(id), $"{where}: no [LoggerMessage] has EventId {id}"));
        Assert.All(metrics, m => Assert.Contains(m, MetricNames));
        var allowed = eventIds.SelectMany(id => fields[id]).Concat(ScopeFields).Concat(metrics.Count > 0 ? MetricDimensions : []).ToHashSet(StringComparer.Ordinal);
        Assert.All(dimensions, d => Assert.True(allowed.Contains(d), $"{where}: customDimensions.{d} is not emitted by events {string.Join(",", eventIds)} {string.Join(",", metrics)}"));
    }

    [GeneratedRegex(@"```kql\n(?<q>.*?)```", RegexOptions.Singleline)]
    private static partial Regex KqlBlock();

    /// <summary><c>EventId) == "2000"</c> or <c>EventId) in ("1000", "2000")</c>.</summary>
    [GeneratedRegex(@"EventId\)? (?:== |in \()(?<ids>[^)\n|]+)")]
    private static partial Regex EventIdFilter();

    [GeneratedRegex(@"\d+")]
    private static partial Regex Digits();

    [GeneratedRegex(@"name == \\?""(?<name>askpro\.[a-z.]+)\\?""")]
    private static partial Regex MetricFilter();

    [GeneratedRegex(@"customDimensions\.(?<f>[A-Za-z]+)")]
    private static partial Regex Dimension();
}
