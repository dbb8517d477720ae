namespace AskPro.Functions.Tests.Infrastructure;

/// <summary>
/// The CPU-bound property runs must not share the machine with other tests (they would starve their timers on a
/// 2-core machine): xunit runs this collection after the parallel ones, one test at a time. xunit reads collection
/// definitions from the test assembly only, so the integration tests define their own of the same name.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RunsAloneCollection
{
    public const string Name = "Runs alone";
}
