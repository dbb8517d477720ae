using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using AskPro.Functions.Appointments;
using AskPro.Functions.Calcom;
using AskPro.Functions.Queueing;
using AskPro.Functions.Tenants;
using AskPro.Functions.Tests.Infrastructure;
using Azure.Data.Tables;

namespace AskPro.Functions.Tests.Tenants;

/// <summary>
/// The real app over Azurite with tenants declared in configuration (<c>Tenants__{id}__…</c>) and an appointments table
/// of its own; applies bodies as a tenant's proven deliveries through the real queue processor, and reads a tenant's
/// partition back row by row.
/// </summary>
public sealed partial class TenantHarness : IAsyncDisposable
{
    private TenantHarness(TestApp app, IReadOnlyList<string> tenants)
    {
        App = app;
        Tenants = tenants;
    }

    public TestApp App { get; }

    /// <summary>The tenant ids configured (each enabled, with <see cref="SecretOf"/> and company <see cref="CompanyOf"/>).</summary>
    public IReadOnlyList<string> Tenants { get; }

    public CalcomEventProcessor Processor => App.Get<CalcomEventProcessor>();

    public TableClient Table => App.Get<Storage.StorageClients>().Appointments;

    /// <summary>A tenant's own webhook secret (32+ characters, as the settings check requires).</summary>
    public static string SecretOf(string tenant) => $"tenant-secret-{tenant}-0f9e8d7c6b5a49382716";

    public static string CompanyOf(string tenant) => "company-" + tenant;

    /// <summary>The settings lines of one tenant, as <c>Tenants__{id}__…</c> (':' in .NET configuration).</summary>
    public static void Declare(Dictionary<string, string?> settings, string tenant, string? secret = null, bool enabled = true)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings[$"Tenants:{tenant}:WebhookSecrets:0"] = secret ?? SecretOf(tenant);
        settings[$"Tenants:{tenant}:CompanyId"] = CompanyOf(tenant);
        settings[$"Tenants:{tenant}:Enabled"] = enabled ? "true" : "false";
    }

    /// <summary>An app serving <paramref name="tenants"/> (and the default tenant) with a fresh appointments table.</summary>
    public static async Task<TenantHarness> CreateAsync(string connectionString, IEnumerable<string> tenants, Action<Dictionary<string, string?>>? edit = null)
    {
        var ids = tenants.ToList();
        var table = "tnt" + Guid.NewGuid().ToString("N")[..12];
        var app = TestApp.Create(connectionString, s =>
        {
            s["Appointments:TableName"] = table;
            foreach (var id in ids)
            {
                Declare(s, id);
            }

            edit?.Invoke(s);
        });
        var harness = new TenantHarness(app, ids);
        await app.Get<AppointmentTableStore>().EnsureCreatedAsync(CancellationToken.None);
        return harness;
    }

    /// <summary>
    /// Applies one body as <paramref name="tenant"/>'s delivery through the queue processor: the inline envelope the HTTP
    /// function writes for a delivery on that tenant's route (null or <c>default</c>: the default route's).
    /// </summary>
    public async Task<ApplyResult?> ApplyAsync(string? tenant, byte[] body)
    {
        var read = CalcomWebhookReader.Read(body);
        Assert.True(read.Kind == WebhookKind.Booking, $"test body is not an applicable booking event: {string.Join("; ", read.Errors)}");
        var envelope = new WebhookEnvelope(WebhookEnvelope.CurrentVersion, WebhookQueue.DeliveryIdOf(body), DateTimeOffset.UtcNow,
            read.TriggerEvent!, read.Event!.Uid, read.Event.RescheduleUid, body.Length, Encoding.UTF8.GetString(body), null)
        { Tenant = tenant is null or TenantIds.Default ? null : tenant };
        return await Processor.ProcessAsync(new BinaryData(envelope.ToUtf8()), "test-" + Guid.NewGuid().ToString("N"), 1, CancellationToken.None);
    }

    /// <summary>Every partition key in the table, sorted.</summary>
    public async Task<List<string>> PartitionsAsync()
    {
        var partitions = new SortedSet<string>(StringComparer.Ordinal);
        await foreach (var row in Table.QueryAsync<TableEntity>(select: ["PartitionKey"]))
        {
            partitions.Add(row.PartitionKey);
        }

        return [.. partitions];
    }

    /// <summary>
    /// Every row of a tenant's partition (records, uid rows, staff calendars, aliases, seat groups), each as its columns
    /// in text, sorted by row key; without what only the clock decides (<see cref="Normalised"/>).
    /// </summary>
    public async Task<SortedDictionary<string, SortedDictionary<string, string>>> PartitionRowsAsync(string tenant)
    {
        var rows = new SortedDictionary<string, SortedDictionary<string, string>>(StringComparer.Ordinal);
        var partition = TenantIds.PartitionOf(tenant);
        await foreach (var row in Table.QueryAsync<TableEntity>(r => r.PartitionKey == partition))
        {
            rows[row.RowKey] = Normalised(row);
        }

        return rows;
    }

    /// <summary>
    /// A row's columns as text, without the service's timestamp and ETag, the row's creation and write times (<c>CreatedAt</c>, <c>UpdatedAt</c>) and the
    /// <c>appliedAt</c> of history entries: the wall clock of the run, not anything a delivery decides.
    /// </summary>
    public static SortedDictionary<string, string> Normalised(TableEntity row)
    {
        ArgumentNullException.ThrowIfNull(row);
        var columns = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in row)
        {
            if (key is "odata.etag" or "Timestamp" or "UpdatedAt" or "CreatedAt")
            {
                continue;
            }

            var text = value switch
            {
                null => "null",
                byte[] bytes => "bytes:" + Convert.ToBase64String(bytes),
                BinaryData data => "bytes:" + Convert.ToBase64String(data.ToArray()),
                DateTimeOffset t => t.ToString("O", CultureInfo.InvariantCulture),
                DateTime t => t.ToString("O", CultureInfo.InvariantCulture),
                IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
                _ => value.ToString() ?? "",
            };
            columns[key] = key.StartsWith("History", StringComparison.Ordinal) ? AppliedAt().Replace(text, "\"appliedAt\":\"…\"") : text;
        }

        return columns;
    }

    /// <summary>What differs between two sets of rows (row keys, then the first differing column), or null.</summary>
    public static string? Difference(
        SortedDictionary<string, SortedDictionary<string, string>> expected,
        SortedDictionary<string, SortedDictionary<string, string>> actual)
    {
        ArgumentNullException.ThrowIfNull(expected);
        ArgumentNullException.ThrowIfNull(actual);
        var missing = expected.Keys.Except(actual.Keys, StringComparer.Ordinal).ToList();
        var extra = actual.Keys.Except(expected.Keys, StringComparer.Ordinal).ToList();
        if (missing.Count > 0 || extra.Count > 0)
        {
            return $"rows missing [{string.Join(", ", missing)}], rows not expected [{string.Join(", ", extra)}]";
        }

        foreach (var (key, columns) in expected)
        {
            var other = actual[key];
            foreach (var column in columns.Keys.Union(other.Keys, StringComparer.Ordinal))
            {
                var (a, b) = (columns.GetValueOrDefault(column), other.GetValueOrDefault(column));
                if (a != b)
                {
                    return $"row {key} column {column}: expected {Clip(a)} but was {Clip(b)}";
                }
            }
        }

        return null;
    }

    private static string Clip(string? text) => text is null ? "(absent)" : text.Length <= 400 ? text : text[..400] + "…";

    [GeneratedRegex("\"appliedAt\":\"[^\"]*\"")]
    private static partial Regex AppliedAt();

    public async ValueTask DisposeAsync()
    {
        await Table.DeleteAsync();
        await App.DisposeAsync();
    }
}
