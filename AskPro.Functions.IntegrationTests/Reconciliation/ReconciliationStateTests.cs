using AskPro.Functions.Reconciliation;
using AskPro.Functions.Storage;
using AskPro.Functions.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace AskPro.Functions.Tests.Reconciliation;

/// <summary>Checkpoint and lease rows on Azurite: forward-only checkpoints, one lease holder at a time, expiry frees a crashed holder's lease.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class ReconciliationStateTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 20, 9, 0, 0, TimeSpan.Zero);
    private readonly FakeTimeProvider _time = new(T0);
    private TestApp _app = null!;

    public Task InitializeAsync()
    {
        var table = "rec" + Guid.NewGuid().ToString("N")[..12];
        _app = TestApp.Create(azurite.ConnectionString, s => s["Appointments:TableName"] = table);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private ReconciliationState State => new(_app.Get<StorageClients>(), _time);

    [Fact]
    public async Task The_checkpoint_starts_empty_and_only_moves_forward()
    {
        var state = State;
        Assert.Equal(new ReconciliationCheckpoint(null, null), await state.ReadCheckpointAsync(CancellationToken.None));

        await state.AdvanceDeltaAsync(T0, CancellationToken.None);
        await state.AdvanceDeltaAsync(T0.AddMinutes(-5), CancellationToken.None); // an overlapping, older window finishing late
        await state.MarkSweepAsync(T0.AddHours(1), CancellationToken.None);

        Assert.Equal(new ReconciliationCheckpoint(T0, T0.AddHours(1)), await state.ReadCheckpointAsync(CancellationToken.None));
    }

    [Fact]
    public async Task One_lease_holder_at_a_time_and_an_expired_lease_can_be_taken_over()
    {
        var state = State;
        await using var first = await state.TryAcquireLeaseAsync("instance-a", TimeSpan.FromMinutes(5), CancellationToken.None);
        Assert.NotNull(first);
        Assert.Null(await state.TryAcquireLeaseAsync("instance-b", TimeSpan.FromMinutes(5), CancellationToken.None));

        await first.RenewAsync(CancellationToken.None);
        _time.Advance(TimeSpan.FromMinutes(4));
        Assert.Null(await state.TryAcquireLeaseAsync("instance-b", TimeSpan.FromMinutes(5), CancellationToken.None));

        // A holder that stops renewing (a crash) loses the lease when it expires; its late renewal then fails.
        _time.Advance(TimeSpan.FromMinutes(6));
        await using var second = await state.TryAcquireLeaseAsync("instance-b", TimeSpan.FromMinutes(5), CancellationToken.None);
        Assert.NotNull(second);
        await Assert.ThrowsAsync<ReconciliationLeaseLostException>(() => first.RenewAsync(CancellationToken.None));
    }

    [Fact]
    public async Task A_released_lease_is_free_at_once()
    {
        var state = State;
        var lease = await state.TryAcquireLeaseAsync("instance-a", TimeSpan.FromMinutes(5), CancellationToken.None);
        Assert.NotNull(lease);
        await lease.DisposeAsync();

        await using var next = await state.TryAcquireLeaseAsync("instance-b", TimeSpan.FromMinutes(5), CancellationToken.None);
        Assert.NotNull(next);
    }

    [Fact]
    public async Task Two_instances_racing_for_the_lease_get_one_lease()
    {
        var state = State;
        var attempts = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => state.TryAcquireLeaseAsync($"instance-{i}", TimeSpan.FromMinutes(5), CancellationToken.None)));

        Assert.Single(attempts, l => l is not null);
    }
}
