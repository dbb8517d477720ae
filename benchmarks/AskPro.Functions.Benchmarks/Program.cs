using AskPro.Functions.Benchmarks;
using BenchmarkDotNet.Running;

// dotnet run -c Release --project benchmarks/AskPro.Functions.Benchmarks -- --filter '*'      (BenchmarkDotNet, in-process paths)
// dotnet run -c Release --project benchmarks/AskPro.Functions.Benchmarks -- load [lifecycles] (pipeline load run against Azurite)
// dotnet run -c Release --project benchmarks/AskPro.Functions.Benchmarks -- pipeline [deliveries] (generated lifecycles, 30 % duplicates, floor + ratios)
// dotnet run -c Release --project benchmarks/AskPro.Functions.Benchmarks -- ack [deliveries]      (local host over HTTP, 4 senders, p50/p95/p99)
// dotnet run -c Release --project benchmarks/AskPro.Functions.Benchmarks -- tenants [deliveries]  (20 tenants on their own routes, floor + ratios, per-tenant check)
if (args.Length > 0 && args[0] == "ack")
{
    return await AckRun.RunAsync(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 2000);
}

if (args.Length > 0 && args[0] == "pipeline")
{
    return await PipelineLoad.RunAsync(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 10_000, 20261201);
}

if (args.Length > 0 && args[0] == "tenants")
{
    return await TenantLoad.RunAsync(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 1000, 20261206);
}

if (args.Length > 0 && args[0] == "load")
{
    return await LoadRun.RunAsync(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 500);
}

BenchmarkSwitcher.FromAssembly(typeof(InProcessBenchmarks).Assembly).Run(args);
return 0;
