using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using AskPro.Functions.Storage;
using AskPro.Functions.Tests.Infrastructure;

namespace AskPro.Functions.Tests.Reconciliation;

/// <summary>The host indexes the fan-out's queue function on the queue infra/ declares (docs/reconciliation.md#per-tenant).</summary>
public sealed class TenantFanOutBindingTests
{
    [Fact]
    public void The_build_output_declares_the_tenant_pass_function_on_the_reconciliation_queue()
    {
        var configuration = typeof(TenantFanOutBindingTests).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()!.Configuration;
        var path = Path.Combine(Azurite.RepoRoot(), "AskPro.Functions", "bin", configuration, "net10.0", "functions.metadata");
        var function = JsonNode.Parse(File.ReadAllText(path), documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip })!
            .AsArray().OfType<JsonObject>().Single(f => (string?)f["name"] == "RunTenantReconciliation");
        var trigger = function["bindings"]!.AsArray().OfType<JsonObject>().Single(b => (string?)b["type"] == "queueTrigger");

        Assert.Equal("AskPro.Functions.Reconciliation.ReconcileFunctions.RunTenantReconciliation", (string?)function["entryPoint"]);
        Assert.Equal("calcom-reconciliation", (string?)trigger["queueName"]);
        Assert.Equal(StorageNames.ReconciliationQueue, (string?)trigger["queueName"]);
        Assert.Equal(StorageNames.ReconciliationQueue + "-poison", StorageNames.ReconciliationPoisonQueue);
        Assert.Equal(StorageNames.Connection, (string?)trigger["connection"]);
    }
}
