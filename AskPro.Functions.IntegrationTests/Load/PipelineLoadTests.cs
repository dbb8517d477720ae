using AskPro.Functions.Benchmarks;
using AskPro.Functions.Tests.Infrastructure;

namespace AskPro.Functions.Tests.Load;

/// <summary>
/// The load proof in CI: the pipeline load run (generated lifecycles, 30 % duplicated, shuffled, HTTP function at
/// concurrency 32, 32 queue workers) at 1,000 deliveries, with the raw-SDK floor measured on the same Azurite and the
/// ratio printed. It passes only when every record equals in-order delivery, nothing is dead-lettered and every
/// delivery was answered 202. The longer run is the benchmark command in benchmarks/README.md#pipeline-against-its-floor-pipeline-n.
/// </summary>
[Collection(RunsAloneCollection.Name)]
public sealed class PipelineLoadTests
{
    [Fact]
    public async Task A_thousand_shuffled_duplicated_deliveries_are_all_applied_and_equal_in_order_delivery()
    {
        Assert.Equal(0, await PipelineLoad.RunAsync(deliveries: 1000, seed: 20261201));
    }
}
