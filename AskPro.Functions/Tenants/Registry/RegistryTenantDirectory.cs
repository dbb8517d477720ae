using System.Collections.Concurrent;
using System.Text;
using AskPro.Functions.Reconciliation;
using AskPro.Functions.Webhooks;
using Azure;
using Microsoft.Extensions.Logging;

namespace AskPro.Functions.Tenants.Registry;

/// <summary>
/// The tenant directory with the registry (docs/tenants.md#what-a-tenant-is): configured tenants first (they win over a
/// registry entry of the same id), then every registry tenant, held in memory. <see cref="RefreshAsync"/> (every
/// <c>TenantRegistry__RefreshInterval</c>, run by <see cref="TenantRegistryRefresher"/>) lists the table and reads
/// secrets only for entries whose row changed; a miss for a valid id costs one point read (single-flight per id,
/// remembered as a miss for <see cref="NegativeCacheTime"/>, at most <see cref="MissReadsPerSecond"/> a second in all),
/// so a tenant just added is served at once and random ids cannot cost more than a few reads a second. In the steady
/// state a known tenant costs no request at all. A webhook secret is dropped by time when its RetiresAt passes.
/// </summary>
public sealed partial class RegistryTenantDirectory : ITenantDirectory
{
    public static readonly TimeSpan NegativeCacheTime = TimeSpan.FromSeconds(30);
    public const int MissReadsPerSecond = 5;
    public const int MissReadBurst = 10;
    private const int NegativeCacheCap = 10_000;

    private readonly ITenantDirectory _configured;
    private readonly TenantRegistry _registry;
    private readonly ITenantSecretStore _secrets;
    private readonly TimeProvider _time;
    private readonly TenantRegistryMetrics _metrics;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, Loaded> _loaded = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, DateTimeOffset> _misses = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lazy<Task<Loaded?>>> _reads = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _shadowWarned = new(StringComparer.Ordinal);
    private readonly Lock _bucketLock = new();
    private double _tokens = MissReadBurst;
    private DateTimeOffset _tokensAt;
    private DateTimeOffset _throttleLoggedAt = DateTimeOffset.MinValue;
    private long _generation;
    private volatile bool _everListed;

    public RegistryTenantDirectory(
        ITenantDirectory configured, TenantRegistry registry, ITenantSecretStore secrets, TimeProvider time,
        TenantRegistryMetrics metrics, ILogger<RegistryTenantDirectory> logger)
    {
        _configured = configured;
        _registry = registry;
        _secrets = secrets;
        _time = time;
        _metrics = metrics;
        _logger = logger;
        _tokensAt = time.GetUtcNow();
    }

    public Tenant Default => _configured.Default;

    /// <summary>How many registry tenants are held in memory (enabled or not).</summary>
    public int Held => _loaded.Count;

    public async ValueTask<Tenant?> FindAsync(string id, CancellationToken ct)
    {
        if (!TenantIds.IsValid(id))
        {
            return null;
        }

        if (Configured(id) is { } declared)
        {
            return declared.Enabled ? declared : null;
        }

        if (await _configured.FindAsync(id, ct) is { } configured)
        {
            return configured;
        }

        if (!TenantIds.IsDeclarable(id))
        {
            return null;
        }

        var now = _time.GetUtcNow();
        if (_loaded.TryGetValue(id, out var held))
        {
            return held.TenantAt(now);
        }

        if (_misses.TryGetValue(id, out var until) && until > now)
        {
            return null;
        }

        var read = _reads.GetOrAdd(id, key => new Lazy<Task<Loaded?>>(() => ReadOneAsync(key)));
        var loaded = await read.Value.WaitAsync(ct);
        return loaded?.TenantAt(_time.GetUtcNow());
    }

    public async ValueTask<bool> IsDeclaredAsync(string id, CancellationToken ct)
    {
        if (await _configured.IsDeclaredAsync(id, ct))
        {
            return true;
        }

        if (!TenantIds.IsDeclarable(id))
        {
            return false;
        }

        // A registry entry, enabled or not, is held in memory once read; one not held yet is read through FindAsync's
        // bounded miss path, which holds it whether or not it is enabled.
        if (!_loaded.ContainsKey(id))
        {
            await FindAsync(id, ct);
        }

        return _loaded.ContainsKey(id);
    }

    public async ValueTask<IReadOnlyList<Tenant>> AllAsync(CancellationToken ct)
    {
        var configured = await _configured.AllAsync(ct);
        var now = _time.GetUtcNow();
        var registered = _loaded.Values
            .Where(l => Configured(l.Entry.Id) is null && configured.All(c => c.Id != l.Entry.Id))
            .Select(l => l.TenantAt(now))
            .OfType<Tenant>()
            .OrderBy(t => t.Id, StringComparer.Ordinal);
        return [.. configured, .. registered];
    }

    /// <summary>
    /// Lists the registry and reloads every entry whose row changed (secrets included), drops entries that are gone.
    /// False when the table could not be listed (logged, counted; what is held keeps serving). One entry that cannot be
    /// loaded keeps its previous version and is tried again next time; the others are loaded.
    /// </summary>
    public async Task<bool> RefreshAsync(CancellationToken ct)
    {
        var generation = Interlocked.Increment(ref _generation);
        IReadOnlyList<VersionedEntry> rows;
        try
        {
            rows = await _registry.ListVersionedAsync(ct);
        }
        catch (Exception ex) when (!ct.IsCancellationRequested && IsUnavailable(ex))
        {
            Log.RegistryUnreachable(_logger, _everListed ? "steady" : "start", ex.GetType().Name, (ex as RequestFailedException)?.Status ?? 0, _loaded.Count);
            _metrics.RefreshFailed(_everListed ? "steady" : "start");
            return false;
        }

        var listed = new HashSet<string>(StringComparer.Ordinal);
        var failed = 0;
        foreach (var row in rows)
        {
            var id = row.Entry.Id;
            listed.Add(id);
            if (Shadowed(id) || (_loaded.TryGetValue(id, out var current) && current.Version == row.Version))
            {
                continue;
            }

            try
            {
                _loaded[id] = await LoadAsync(row, generation, ct);
                _misses.TryRemove(id, out _);
            }
            catch (Exception ex) when (!ct.IsCancellationRequested && IsUnavailable(ex))
            {
                failed++;
                Log.EntryNotLoaded(_logger, id, ex.GetType().Name, (ex as RequestFailedException)?.Status ?? 0);
            }
        }

        foreach (var (id, held) in _loaded)
        {
            // Loaded before this listing began and not in it: removed from the registry.
            if (!listed.Contains(id) && held.Generation < generation)
            {
                _loaded.TryRemove(KeyValuePair.Create(id, held));
            }
        }

        PruneMisses();
        if (!_everListed)
        {
            Log.RegistryLoaded(_logger, _loaded.Count, _loaded.Values.Count(l => !l.Entry.Enabled), failed);
        }

        _everListed = true;
        return true;
    }

    /// <summary>A miss: one point read of the entry (and its secrets), shared by every caller asking for the same id meanwhile.</summary>
    private async Task<Loaded?> ReadOneAsync(string id)
    {
        try
        {
            if (!TakeReadToken())
            {
                return null;
            }

            // Not the caller's token: other callers share this read.
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10), _time);
            var generation = Interlocked.Read(ref _generation);
            if (await _registry.GetVersionedAsync(id, timeout.Token) is not { } row)
            {
                _misses[id] = _time.GetUtcNow() + NegativeCacheTime;
                return null;
            }

            if (Shadowed(id))
            {
                return null;
            }

            var loaded = await LoadAsync(row, generation, timeout.Token);
            _loaded[id] = loaded;
            return loaded;
        }
        finally
        {
            _reads.TryRemove(id, out _);
        }
    }

    private async Task<Loaded> LoadAsync(VersionedEntry row, long generation, CancellationToken ct)
    {
        var entry = row.Entry;
        if (!entry.Enabled)
        {
            // A disabled tenant is answered 404 without its secrets: none are read.
            return new Loaded(entry, row.Version, generation, [], null);
        }

        var now = _time.GetUtcNow();
        var keys = new List<LoadedKey>();
        foreach (var secret in entry.WebhookSecrets)
        {
            if (secret.RetiresAt is { } retires && retires <= now)
            {
                continue;
            }

            if (await ReadSecretAsync(entry.Id, secret.Name, ct) is not { } value)
            {
                continue;
            }

            if (WebhookOptions.Problem(value) is { } problem)
            {
                Log.SecretNotUsed(_logger, entry.Id, secret.Name, problem);
            }
            else if (WebhookOptions.Usable(value) is { } usable)
            {
                keys.Add(new LoadedKey(Encoding.UTF8.GetBytes(usable), secret.RetiresAt));
            }
        }

        if (keys.Count == 0)
        {
            Log.NoUsableSecret(_logger, entry.Id, entry.WebhookSecrets.Count);
        }

        string? apiKey = null;
        if (entry.ApiKeySecret is { } apiKeyName && await ReadSecretAsync(entry.Id, apiKeyName, ct) is { } key)
        {
            if (string.IsNullOrWhiteSpace(key) || CalcomApiOptions.IsUnresolvedReference(key))
            {
                Log.SecretNotUsed(_logger, entry.Id, apiKeyName, "is empty or an unresolved Key Vault reference: reconciliation is off for this tenant");
            }
            else
            {
                apiKey = key.Trim();
            }
        }

        return new Loaded(entry, row.Version, generation, keys, apiKey);
    }

    /// <summary>The value, or null (missing or unreadable: logged by name). A store that cannot be reached throws.</summary>
    private async Task<string?> ReadSecretAsync(string tenantId, string name, CancellationToken ct)
    {
        try
        {
            if (await _secrets.GetAsync(name, ct) is { } value)
            {
                return value;
            }

            Log.SecretNotUsed(_logger, tenantId, name, "does not exist in the secret store (or is disabled)");
            return null;
        }
        catch (TenantSecretUnreadableException ex)
        {
            Log.SecretNotUsed(_logger, tenantId, name, ex.Message);
            return null;
        }
        catch (RequestFailedException ex) when (ex.Status is 401 or 403)
        {
            Log.SecretNotUsed(_logger, tenantId, name, $"cannot be read by the app's identity ({ex.Status}): grant it Key Vault Secrets User");
            return null;
        }
    }

    /// <summary>Configuration declares this id (enabled or not): configuration wins; the registry entry is ignored, with one warning.</summary>
    private bool Shadowed(string id)
    {
        if (Configured(id) is null)
        {
            return false;
        }

        _loaded.TryRemove(id, out _);
        if (_shadowWarned.TryAdd(id, 0))
        {
            Log.ShadowedByConfiguration(_logger, id);
        }

        return true;
    }

    private Tenant? Configured(string id) => _configured is ConfiguredTenants configured ? configured.Declared(id) : null;

    private bool TakeReadToken()
    {
        var now = _time.GetUtcNow();
        lock (_bucketLock)
        {
            var elapsed = (now - _tokensAt).TotalSeconds;
            if (elapsed > 0)
            {
                _tokens = Math.Min(MissReadBurst, _tokens + (elapsed * MissReadsPerSecond));
                _tokensAt = now;
            }

            if (_tokens >= 1)
            {
                _tokens -= 1;
                return true;
            }

            if (now - _throttleLoggedAt >= TimeSpan.FromMinutes(1))
            {
                _throttleLoggedAt = now;
                Log.MissReadsThrottled(_logger, MissReadsPerSecond);
            }
        }

        _metrics.MissReadThrottled();
        return false;
    }

    private void PruneMisses()
    {
        var now = _time.GetUtcNow();
        foreach (var (id, until) in _misses)
        {
            if (until <= now)
            {
                _misses.TryRemove(KeyValuePair.Create(id, until));
            }
        }

        if (_misses.Count > NegativeCacheCap)
        {
            _misses.Clear();
        }
    }

    private static bool IsUnavailable(Exception ex) =>
        ex is RequestFailedException or HttpRequestException or TimeoutException or OperationCanceledException or Azure.Identity.AuthenticationFailedException
        // The SDK's retry policy gives up with every attempt's failure.
        || (ex is AggregateException all && all.InnerExceptions.All(IsUnavailable));

    private sealed record LoadedKey(byte[] Key, DateTimeOffset? RetiresAt);

    /// <summary>A registry entry with its secrets, and the tenant built from it until the next of its secrets retires.</summary>
    private sealed class Loaded(TenantEntry entry, ETag version, long generation, IReadOnlyList<LoadedKey> keys, string? apiKey)
    {
        private volatile Built? _built;

        public TenantEntry Entry { get; } = entry;
        public ETag Version { get; } = version;
        public long Generation { get; } = generation;

        public Tenant? TenantAt(DateTimeOffset now)
        {
            if (!Entry.Enabled)
            {
                return null;
            }

            if (_built is { } built && now < built.Until)
            {
                return built.Tenant;
            }

            var usable = keys.Where(k => k.RetiresAt is null || k.RetiresAt > now).ToList();
            var until = usable.Select(k => k.RetiresAt).OfType<DateTimeOffset>().DefaultIfEmpty(DateTimeOffset.MaxValue).Min();
            var tenant = new Tenant
            {
                Id = Entry.Id,
                CompanyId = Entry.CompanyId,
                Enabled = true,
                SecretKeys = [.. usable.Select(k => k.Key)],
                ApiKey = apiKey,
                ApiBaseUrl = Entry.ApiBaseUrl,
                EventTypeIds = Entry.EventTypeIds,
                TeamId = Entry.TeamId,
            };
            _built = new Built(tenant, until);
            return tenant;
        }

        private sealed record Built(Tenant Tenant, DateTimeOffset Until);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 8010, Level = LogLevel.Error,
            Message = "The tenant registry cannot be listed ({Phase}: {ExceptionType}, status {Status}): configured tenants and the {Held} registry tenant(s) held keep working; retrying")]
        public static partial void RegistryUnreachable(ILogger logger, string phase, string exceptionType, int status, int held);

        [LoggerMessage(EventId = 8011, Level = LogLevel.Information, Message = "Tenant registry loaded: {Tenants} tenant(s) ({Disabled} disabled, {Failed} not loaded yet)")]
        public static partial void RegistryLoaded(ILogger logger, int tenants, int disabled, int failed);

        [LoggerMessage(EventId = 8012, Level = LogLevel.Error,
            Message = "Registry tenant {TenantId} could not be loaded ({ExceptionType}, status {Status}): its previous version (if any) keeps serving; retrying at the next refresh")]
        public static partial void EntryNotLoaded(ILogger logger, string tenantId, string exceptionType, int status);

        [LoggerMessage(EventId = 8013, Level = LogLevel.Error, Message = "Registry tenant {TenantId}: secret {SecretName} is not used: it {Reason}")]
        public static partial void SecretNotUsed(ILogger logger, string tenantId, string secretName, string reason);

        [LoggerMessage(EventId = 8014, Level = LogLevel.Error,
            Message = "Registry tenant {TenantId} has no usable webhook secret (of {Declared} declared): every delivery to its route gets 401 until one is set")]
        public static partial void NoUsableSecret(ILogger logger, string tenantId, int declared);

        [LoggerMessage(EventId = 8015, Level = LogLevel.Warning,
            Message = "Tenant {TenantId} is declared both in configuration and in the registry: the configured one is served, the registry entry is ignored")]
        public static partial void ShadowedByConfiguration(ILogger logger, string tenantId);

        [LoggerMessage(EventId = 8016, Level = LogLevel.Warning,
            Message = "More than {PerSecond} registry reads a second for unknown tenant ids: further unknown ids get 404 without a read until the budget refills (guessed routes?)")]
        public static partial void MissReadsThrottled(ILogger logger, int perSecond);
    }
}
