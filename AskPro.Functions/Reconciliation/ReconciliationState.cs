using AskPro.Functions.Storage;
using AskPro.Functions.Tenants;
using Azure;
using Azure.Data.Tables;

namespace AskPro.Functions.Reconciliation;

/// <summary>
/// How far reconciliation has come: changes up to <see cref="DeltaUpTo"/> are covered; the last full sweep started at
/// <see cref="LastSweepAt"/>; <see cref="Sweep"/> is where an unfinished sweep resumes.
/// </summary>
public sealed record ReconciliationCheckpoint(DateTimeOffset? DeltaUpTo, DateTimeOffset? LastSweepAt)
{
    public SweepProgress? Sweep { get; init; }
}

/// <summary>
/// A sweep cut by its pass's time budget: the sweep that began at <see cref="StartedAt"/> (which fixes its range)
/// continues with the bookings starting at or after <see cref="Position"/>.
/// </summary>
public sealed record SweepProgress(DateTimeOffset StartedAt, SweepPosition Position);

/// <summary>
/// Reconciliation's own rows, in the appointments table under their own partition (<c>reconciliation</c>), so it needs
/// no storage resource of its own: the checkpoint, and a lease row that lets one pass run at a time across instances
/// (timer and admin endpoint alike). The lease is a row with an owner and an expiry, taken and renewed with
/// ETag-conditional writes — the table equivalent of a blob lease, without a container to create or grant.
/// That is the default tenant's; every other tenant's rows live in its own partition (<see cref="For"/>,
/// docs/reconciliation.md#per-tenant), so tenants never share a checkpoint or a lease.
/// </summary>
public sealed class ReconciliationState
{
    public const string PartitionKey = "reconciliation";
    public const string CheckpointRow = "checkpoint";
    public const string LeaseRow = "lease";

    /// <summary>Prefix of reconciliation's row keys in another tenant's partition, beside its appointment rows (apt_, uid_, stf_, grp_, del_).</summary>
    public const string TenantRowPrefix = "reconciliation_";

    private readonly TableClient _table;
    private readonly CreateOnce _created;
    private readonly TimeProvider _time;
    private readonly string _partition;
    private readonly string _prefix;

    public ReconciliationState(StorageClients storage, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(storage);
        _table = storage.Appointments;
        _created = new(ct => storage.Appointments.CreateIfNotExistsAsync(ct));
        _time = time;
        _partition = PartitionKey;
        _prefix = "";
    }

    private ReconciliationState(ReconciliationState of, TenantRows tenant)
    {
        _table = of._table;
        _created = of._created;
        _time = of._time;
        _partition = tenant.Partition;
        _prefix = TenantRowPrefix;
    }

    /// <summary>
    /// The state of <paramref name="tenant"/>'s passes: the default tenant's is this one (partition <c>reconciliation</c>,
    /// as before tenants, so nothing migrates); another's is in its own partition, rows <c>reconciliation_checkpoint</c>,
    /// <c>reconciliation_lease</c> and <c>reconciliation_series_{uid}</c>.
    /// </summary>
    public ReconciliationState For(TenantRows tenant)
    {
        ArgumentNullException.ThrowIfNull(tenant);
        return tenant.IsDefault ? this : new ReconciliationState(this, tenant);
    }

    /// <summary>The partition this state's rows are in.</summary>
    public string Partition => _partition;

    private string CheckpointKey => _prefix + CheckpointRow;

    public async Task<ReconciliationCheckpoint> ReadCheckpointAsync(CancellationToken ct)
    {
        await _created.EnsureAsync(ct);
        var row = await _table.GetEntityIfExistsAsync<TableEntity>(_partition, CheckpointKey, cancellationToken: ct);
        return row.HasValue ? Checkpoint(row.Value!) : new ReconciliationCheckpoint(null, null);
    }

    private static ReconciliationCheckpoint Checkpoint(TableEntity row) =>
        new(row.GetDateTimeOffset("DeltaUpTo"), row.GetDateTimeOffset("LastSweepAt"))
        {
            Sweep = row.GetDateTimeOffset("SweepStartedAt") is { } started && row.GetDateTimeOffset("SweepAfter") is { } after
                ? new SweepProgress(started, new SweepPosition(after, row.GetInt32("SweepSkip") ?? 0))
                : null,
        };

    /// <summary>Moves the delta checkpoint forward to <paramref name="upTo"/> (never back), keeping the sweep time.</summary>
    public Task AdvanceDeltaAsync(DateTimeOffset upTo, CancellationToken ct) =>
        UpdateCheckpointAsync(c => c.DeltaUpTo is { } d && d >= upTo ? c : c with { DeltaUpTo = upTo }, ct);

    /// <summary>Marks the sweep that began at <paramref name="at"/> done, and forgets its progress.</summary>
    public Task MarkSweepAsync(DateTimeOffset at, CancellationToken ct) =>
        UpdateCheckpointAsync(c => c.LastSweepAt is { } s && s >= at ? c with { Sweep = null } : c with { LastSweepAt = at, Sweep = null }, ct);

    /// <summary>Records how far the sweep that began at <paramref name="startedAt"/> has come, so the next pass resumes there.</summary>
    public Task SaveSweepAsync(DateTimeOffset startedAt, SweepPosition position, CancellationToken ct) =>
        UpdateCheckpointAsync(c => c with { Sweep = new SweepProgress(startedAt, position) }, ct);

    private async Task UpdateCheckpointAsync(Func<ReconciliationCheckpoint, ReconciliationCheckpoint> change, CancellationToken ct)
    {
        await _created.EnsureAsync(ct);
        for (var attempt = 1; ; attempt++)
        {
            var row = await _table.GetEntityIfExistsAsync<TableEntity>(_partition, CheckpointKey, cancellationToken: ct);
            var current = row.HasValue ? Checkpoint(row.Value!) : new ReconciliationCheckpoint(null, null);
            var next = change(current);
            if (next == current && row.HasValue)
            {
                return;
            }

            var entity = new TableEntity(_partition, CheckpointKey)
            {
                ["DeltaUpTo"] = next.DeltaUpTo,
                ["LastSweepAt"] = next.LastSweepAt,
                ["SweepStartedAt"] = next.Sweep?.StartedAt,
                ["SweepAfter"] = next.Sweep?.Position.After,
                ["SweepSkip"] = next.Sweep?.Position.Skip,
                ["UpdatedAt"] = _time.GetUtcNow(),
            };
            try
            {
                if (row.HasValue)
                {
                    await _table.UpdateEntityAsync(entity, row.Value!.ETag, TableUpdateMode.Replace, ct);
                }
                else
                {
                    await _table.AddEntityAsync(entity, ct);
                }

                return;
            }
            catch (RequestFailedException ex) when (ex.Status is 409 or 412 && attempt < 10)
            {
                // Another writer moved it meanwhile: read again and apply the same forward-only change.
            }
        }
    }

    /// <summary>
    /// The lease for <paramref name="duration"/>, or null when another owner holds an unexpired one. The holder
    /// renews it while it works; one that stops renewing loses it when it expires, so a crashed pass blocks nothing for long.
    /// </summary>
    public Task<ReconciliationLease?> TryAcquireLeaseAsync(string owner, TimeSpan duration, CancellationToken ct) =>
        TryAcquireAsync(_prefix + LeaseRow, owner, duration, ct);

    /// <summary>
    /// The lease of one recurring series (keyed by its recurring booking uid), so one look-up of a series runs at a
    /// time; null while another look-up holds it. Its row stays (with an expiry in the past) once released.
    /// </summary>
    public Task<ReconciliationLease?> TryAcquireSeriesLeaseAsync(string series, string owner, TimeSpan duration, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrEmpty(series);
        return TryAcquireAsync(_prefix + SeriesLeasePrefix + series, owner, duration, ct);
    }

    /// <summary>Row key prefix of the series leases.</summary>
    public const string SeriesLeasePrefix = "series_";

    private async Task<ReconciliationLease?> TryAcquireAsync(string rowKey, string owner, TimeSpan duration, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrEmpty(owner);
        await _created.EnsureAsync(ct);
        var now = _time.GetUtcNow();
        var row = await _table.GetEntityIfExistsAsync<TableEntity>(_partition, rowKey, cancellationToken: ct);
        var entity = LeaseEntity(rowKey, owner, now + duration);
        try
        {
            if (!row.HasValue)
            {
                var added = await _table.AddEntityAsync(entity, ct);
                return new ReconciliationLease(this, rowKey, owner, duration, added.Headers.ETag ?? ETag.All);
            }

            if (row.Value!.GetDateTimeOffset("ExpiresAt") is { } expires && expires > now && row.Value.GetString("Owner") != owner)
            {
                return null;
            }

            var updated = await _table.UpdateEntityAsync(entity, row.Value.ETag, TableUpdateMode.Replace, ct);
            return new ReconciliationLease(this, rowKey, owner, duration, updated.Headers.ETag ?? ETag.All);
        }
        catch (RequestFailedException ex) when (ex.Status is 409 or 412)
        {
            return null; // someone else took it between our read and our write
        }
    }

    internal async Task<ETag> RenewAsync(string rowKey, string owner, TimeSpan duration, ETag etag, CancellationToken ct)
    {
        try
        {
            var response = await _table.UpdateEntityAsync(LeaseEntity(rowKey, owner, _time.GetUtcNow() + duration), etag, TableUpdateMode.Replace, ct);
            return response.Headers.ETag ?? ETag.All;
        }
        catch (RequestFailedException ex) when (ex.Status is 412 or 404)
        {
            throw new ReconciliationLeaseLostException("the reconciliation lease was taken over (it expired before it was renewed)", ex);
        }
    }

    internal async Task ReleaseAsync(string rowKey, string owner, ETag etag)
    {
        try
        {
            await _table.UpdateEntityAsync(LeaseEntity(rowKey, owner, _time.GetUtcNow()), etag, TableUpdateMode.Replace, CancellationToken.None);
        }
        catch (RequestFailedException ex) when (ex.Status is 412 or 404)
        {
            // Already someone else's: nothing to give back.
        }
    }

    private TableEntity LeaseEntity(string rowKey, string owner, DateTimeOffset expiresAt) =>
        new(_partition, rowKey) { ["Owner"] = owner, ["ExpiresAt"] = expiresAt };
}

/// <summary>A held reconciliation lease: renew it while working, dispose it to release it.</summary>
public sealed class ReconciliationLease : IAsyncDisposable
{
    private readonly ReconciliationState _state;
    private readonly string _rowKey;
    private readonly TimeSpan _duration;
    private ETag _etag;

    internal ReconciliationLease(ReconciliationState state, string rowKey, string owner, TimeSpan duration, ETag etag)
    {
        _state = state;
        _rowKey = rowKey;
        Owner = owner;
        _duration = duration;
        _etag = etag;
    }

    public string Owner { get; }

    /// <summary>Extends the lease; throws <see cref="ReconciliationLeaseLostException"/> when another owner has taken it.</summary>
    public async Task RenewAsync(CancellationToken ct) => _etag = await _state.RenewAsync(_rowKey, Owner, _duration, _etag, ct);

    public async ValueTask DisposeAsync() => await _state.ReleaseAsync(_rowKey, Owner, _etag);
}

public sealed class ReconciliationLeaseLostException : Exception
{
    public ReconciliationLeaseLostException() { }
    public ReconciliationLeaseLostException(string message) : base(message) { }
    public ReconciliationLeaseLostException(string message, Exception inner) : base(message, inner) { }
}
