using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using AskPro.Functions.Storage;
using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.Logging;

namespace AskPro.Functions.Tenants.Registry;

/// <summary>
/// The registry table <c>Tenants</c> (PartitionKey <c>tenant</c>, RowKey = tenant id): registered tenants as
/// <see cref="TenantEntry"/>, without secret values, which live in <see cref="ITenantSecretStore"/>
/// (docs/tenants.md#what-a-tenant-is). An I/O shell: encoding is <see cref="TenantEntryColumns"/>, caching is
/// <c>RegistryTenantDirectory</c>'s.
/// </summary>
public sealed partial class TenantRegistry
{
    public const string Partition = "tenant";

    private readonly TableClient _table;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CreateOnce _created;

    public TenantRegistry(StorageClients storage, TimeProvider time, ILogger<TenantRegistry> logger)
        : this(storage.Tables.GetTableClient(StorageNames.TenantsTable), time, logger)
    {
    }

    internal TenantRegistry(TableClient table, TimeProvider time, ILogger logger)
    {
        _table = table;
        _time = time;
        _logger = logger;
        _created = new CreateOnce(ct => table.CreateIfNotExistsAsync(ct));
    }

    /// <summary>The entry with this id, or null when there is none (or its row cannot be read as an entry: logged).</summary>
    public async Task<TenantEntry?> GetAsync(string id, CancellationToken ct) => (await GetVersionedAsync(id, ct))?.Entry;

    /// <summary>Every readable entry, by id. A row that cannot be read as an entry is logged and left out; the others are listed.</summary>
    public async Task<IReadOnlyList<TenantEntry>> ListAsync(CancellationToken ct) =>
        [.. (await ListVersionedAsync(ct)).Select(v => v.Entry)];

    /// <summary>
    /// Inserts a new entry, stamping <see cref="TenantEntry.UpdatedAt"/>; never overwrites: false when the id is taken.
    /// </summary>
    /// <exception cref="ArgumentException">The id is not one a declared tenant may take (<see cref="TenantIds.IsDeclarable"/>).</exception>
    public async Task<bool> CreateAsync(TenantEntry entry, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(entry);
        Declarable(entry.Id);
        await _created.EnsureAsync(ct);
        try
        {
            await _table.AddEntityAsync(TenantEntryColumns.ToEntity(Stamped(entry)), ct);
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
            return false;
        }
    }

    /// <summary>
    /// Replaces an existing entry, stamping <see cref="TenantEntry.UpdatedAt"/> (later than the entry's own, so caches
    /// see it move): last writer wins, false when there is no such entry (it is never created here). For a
    /// read-modify-write that must not lose a concurrent change, use <see cref="ChangeAsync"/>.
    /// </summary>
    public async Task<bool> UpdateAsync(TenantEntry entry, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(entry);
        Declarable(entry.Id);
        await _created.EnsureAsync(ct);
        try
        {
            await _table.UpdateEntityAsync(TenantEntryColumns.ToEntity(Stamped(entry)), ETag.All, TableUpdateMode.Replace, ct);
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return false;
        }
    }

    /// <summary>
    /// Reads the entry, applies <paramref name="change"/> and writes it back only if nobody wrote in between (ETag);
    /// on a conflict it reads and applies again (up to 5 times). Returns the entry as written, or null when there is
    /// no such entry. <paramref name="change"/> must be pure: it may run more than once.
    /// </summary>
    public async Task<TenantEntry?> ChangeAsync(string id, Func<TenantEntry, TenantEntry> change, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(change);
        for (var attempt = 1; ; attempt++)
        {
            if (await GetVersionedAsync(id, ct) is not { } current)
            {
                return null;
            }

            var changed = change(current.Entry);
            if (changed.Id != id)
            {
                throw new ArgumentException("A change must keep the tenant id.", nameof(change));
            }

            var written = Stamped(changed with { UpdatedAt = current.Entry.UpdatedAt });
            try
            {
                await _table.UpdateEntityAsync(TenantEntryColumns.ToEntity(written), current.Version, TableUpdateMode.Replace, ct);
                return written;
            }
            catch (RequestFailedException ex) when (ex.Status == 412 && attempt < 5)
            {
                // Someone else changed it: apply the change to what they wrote.
            }
        }
    }

    /// <summary>The entry with the table's ETag of its row (what <c>RegistryTenantDirectory</c> compares to reload).</summary>
    internal async Task<VersionedEntry?> GetVersionedAsync(string id, CancellationToken ct)
    {
        if (!TenantIds.IsDeclarable(id))
        {
            return null;
        }

        await _created.EnsureAsync(ct);
        var response = await _table.GetEntityIfExistsAsync<TableEntity>(Partition, id, cancellationToken: ct);
        return response.HasValue ? Read(response.Value!) : null;
    }

    internal async Task<IReadOnlyList<VersionedEntry>> ListVersionedAsync(CancellationToken ct)
    {
        await _created.EnsureAsync(ct);
        var entries = new List<VersionedEntry>();
        await foreach (var row in _table.QueryAsync<TableEntity>(e => e.PartitionKey == Partition, cancellationToken: ct))
        {
            if (Read(row) is { } entry)
            {
                entries.Add(entry);
            }
        }

        return entries;
    }

    private VersionedEntry? Read(TableEntity row)
    {
        TenantEntry? entry;
        string? problem;
        try
        {
            (entry, problem) = TenantEntryColumns.FromEntity(row);
        }
        catch (InvalidOperationException)
        {
            // TableEntity's typed getters refuse a column of another type (a hand-edited row).
            (entry, problem) = (null, "a column has the wrong type");
        }

        if (entry is null)
        {
            // The row key is a tenant id (never personal data); the problem names a column, never a value.
            Log.UnreadableEntry(_logger, row.RowKey, problem!);
            return null;
        }

        return new VersionedEntry(entry, row.ETag);
    }

    private TenantEntry Stamped(TenantEntry entry)
    {
        var now = _time.GetUtcNow();
        // Strictly later than the entry's own stamp, so a cache sees it move even when two writes share a clock tick.
        return entry with { UpdatedAt = now > entry.UpdatedAt ? now : entry.UpdatedAt.AddTicks(1) };
    }

    private static void Declarable(string id)
    {
        if (!TenantIds.IsDeclarable(id))
        {
            throw new ArgumentException($"'{id}' cannot be a tenant id: lowercase letters, digits and '-', 1–{TenantIds.MaxLength} characters, not '{TenantIds.Default}' or a reserved name.", nameof(id));
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 8000, Level = LogLevel.Error,
            Message = "Registry entry {TenantId} cannot be read ({Problem}): it is left out until it is fixed; the other tenants are served")]
        public static partial void UnreadableEntry(ILogger logger, string tenantId, string problem);
    }
}

/// <summary>An entry and the ETag of its row.</summary>
internal sealed record VersionedEntry(TenantEntry Entry, ETag Version);

/// <summary>
/// How a <see cref="TenantEntry"/> is laid out in the registry table: scalars as columns, event type ids as
/// comma-separated text, webhook secret references as JSON text (names and retirement times only, never values).
/// </summary>
internal static class TenantEntryColumns
{
    public const string CompanyId = nameof(TenantEntry.CompanyId);
    public const string Enabled = nameof(TenantEntry.Enabled);
    public const string EventTypeIds = nameof(TenantEntry.EventTypeIds);
    public const string TeamId = nameof(TenantEntry.TeamId);
    public const string ApiBaseUrl = nameof(TenantEntry.ApiBaseUrl);
    public const string WebhookSecrets = nameof(TenantEntry.WebhookSecrets);
    public const string ApiKeySecret = nameof(TenantEntry.ApiKeySecret);
    public const string CalcomWebhookId = nameof(TenantEntry.CalcomWebhookId);
    public const string UpdatedAt = nameof(TenantEntry.UpdatedAt);

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public static TableEntity ToEntity(TenantEntry e)
    {
        var entity = new TableEntity(TenantRegistry.Partition, e.Id)
        {
            [Enabled] = e.Enabled,
            [EventTypeIds] = string.Join(',', e.EventTypeIds.Select(i => i.ToString(CultureInfo.InvariantCulture))),
            [WebhookSecrets] = JsonSerializer.Serialize(e.WebhookSecrets.Select(s => new SecretRefJson(s.Name, s.RetiresAt)), Json),
            [UpdatedAt] = e.UpdatedAt,
        };
        Optional(entity, CompanyId, e.CompanyId);
        Optional(entity, ApiBaseUrl, e.ApiBaseUrl?.AbsoluteUri);
        Optional(entity, ApiKeySecret, e.ApiKeySecret);
        Optional(entity, CalcomWebhookId, e.CalcomWebhookId);
        if (e.TeamId is { } team)
        {
            entity[TeamId] = team;
        }

        return entity;
    }

    /// <summary>The entry, or the problem (a column name and what is wrong with it, never its value).</summary>
    public static (TenantEntry? Entry, string? Problem) FromEntity(TableEntity row)
    {
        if (!TenantIds.IsDeclarable(row.RowKey))
        {
            return (null, "the row key is not a declarable tenant id");
        }

        var eventTypes = new List<long>();
        foreach (var part in (row.GetString(EventTypeIds) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!long.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var eventType))
            {
                return (null, $"{EventTypeIds} is not a comma-separated list of numbers");
            }

            eventTypes.Add(eventType);
        }

        List<SecretRefJson>? secrets;
        try
        {
            secrets = row.GetString(WebhookSecrets) is { Length: > 0 } text ? JsonSerializer.Deserialize<List<SecretRefJson>>(text, Json) : [];
        }
        catch (JsonException)
        {
            return (null, $"{WebhookSecrets} is not a JSON list of {{name, retiresAt}}");
        }

        if (secrets is null || secrets.Any(s => s is null || string.IsNullOrWhiteSpace(s.Name)))
        {
            return (null, $"{WebhookSecrets} holds a secret without a name");
        }

        Uri? apiBaseUrl = null;
        if (row.GetString(ApiBaseUrl) is { Length: > 0 } url && !Uri.TryCreate(url, UriKind.Absolute, out apiBaseUrl))
        {
            return (null, $"{ApiBaseUrl} is not an absolute URL");
        }

        long? teamId;
        try
        {
            // Written as Int64; a hand-edited row may hold Int32.
            teamId = row.TryGetValue(TeamId, out var team) && team is not null ? Convert.ToInt64(team, CultureInfo.InvariantCulture) : null;
        }
        catch (Exception ex) when (ex is FormatException or InvalidCastException or OverflowException)
        {
            return (null, $"{TeamId} is not a number");
        }

        return (new TenantEntry
        {
            Id = row.RowKey,
            CompanyId = Blank(row.GetString(CompanyId)),
            Enabled = row.GetBoolean(Enabled) ?? true,
            EventTypeIds = eventTypes,
            TeamId = teamId,
            ApiBaseUrl = apiBaseUrl,
            WebhookSecrets = [.. secrets.Select(s => new TenantSecretRef(s.Name, s.RetiresAt))],
            ApiKeySecret = Blank(row.GetString(ApiKeySecret)),
            CalcomWebhookId = Blank(row.GetString(CalcomWebhookId)),
            UpdatedAt = row.GetDateTimeOffset(UpdatedAt) ?? DateTimeOffset.MinValue,
        }, null);
    }

    private static void Optional(TableEntity entity, string column, string? value)
    {
        if (!string.IsNullOrEmpty(value))
        {
            entity[column] = value;
        }
    }

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;

    private sealed record SecretRefJson(string Name, DateTimeOffset? RetiresAt);
}
