using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using AskPro.Functions.Storage;
using AskPro.Functions.Tests.Infrastructure;
using AskPro.Functions.Webhooks;

namespace AskPro.Functions.Tests.Build;

/// <summary>
/// What the Functions host reads from the build output of AskPro.Functions (built because this project references it,
/// with the same configuration): the generated function metadata, host.json, the extension bundle list and the worker config.
/// </summary>
public sealed class BuildOutputTests
{
    private static string Configuration =>
        typeof(BuildOutputTests).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration
        ?? throw new InvalidOperationException("the test assembly has no configuration attribute");

    private static string Output
    {
        get
        {
            var dir = Path.Combine(Azurite.RepoRoot(), "AskPro.Functions", "bin", Configuration, "net10.0");
            Assert.True(Directory.Exists(dir), $"the function app's build output {dir} does not exist");
            return dir;
        }
    }

    private static JsonNode ReadJson(string name)
    {
        var path = Path.Combine(Output, name);
        Assert.True(File.Exists(path), $"{name} is missing from {Output}");
        return JsonNode.Parse(File.ReadAllText(path), documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip })!;
    }

    private static JsonObject Function(string name) =>
        ReadJson("functions.metadata").AsArray().OfType<JsonObject>().SingleOrDefault(f => (string?)f["name"] == name)
        ?? throw new Xunit.Sdk.XunitException($"functions.metadata declares no function {name}");

    private static JsonObject Binding(JsonObject function, string type) =>
        function["bindings"]!.AsArray().OfType<JsonObject>().SingleOrDefault(b => (string?)b["type"] == type)
        ?? throw new Xunit.Sdk.XunitException($"function {function["name"]} has no {type} binding");

    [Fact]
    public void The_test_output_is_the_same_configuration_as_the_function_output()
    {
        Assert.Contains(Path.Combine("bin", Configuration, "net10.0"), AppContext.BaseDirectory, StringComparison.Ordinal);
    }

    [Fact]
    public void The_metadata_declares_the_anonymous_POST_HTTP_trigger_on_webhooks_calcom()
    {
        var function = Function("CalcomWebhook");
        var trigger = Binding(function, "httpTrigger");

        Assert.Equal("AskPro.Functions.dll", (string?)function["scriptFile"]);
        Assert.Equal("AskPro.Functions.Webhooks.CalcomWebhookFunction.CalcomWebhook", (string?)function["entryPoint"]);
        Assert.Equal("In", (string?)trigger["direction"]);
        Assert.Equal("webhooks/calcom", (string?)trigger["route"]);
        Assert.Equal(CalcomWebhookFunction.Route, (string?)trigger["route"]);
        Assert.Equal(["post"], trigger["methods"]!.AsArray().Select(m => (string?)m));
        Assert.Equal("Anonymous", (string?)trigger["authLevel"]);
        Assert.Equal("Out", (string?)Binding(function, "http")["direction"]);
    }

    [Fact]
    public void The_metadata_declares_the_anonymous_POST_HTTP_trigger_on_each_tenants_route()
    {
        var function = Function("CalcomTenantWebhook");
        var trigger = Binding(function, "httpTrigger");

        Assert.Equal("AskPro.Functions.Webhooks.CalcomWebhookFunction.CalcomTenantWebhook", (string?)function["entryPoint"]);
        Assert.Equal("webhooks/calcom/{tenant}", (string?)trigger["route"]);
        Assert.Equal(["post"], trigger["methods"]!.AsArray().Select(m => (string?)m));
        // The signature is the authentication, as on the default route: Cal.com sends no function key.
        Assert.Equal("Anonymous", (string?)trigger["authLevel"]);
    }

    [Fact]
    public void The_metadata_declares_the_queue_trigger_on_calcom_webhooks_over_AzureWebJobsStorage()
    {
        var function = Function("ApplyCalcomEvent");
        var trigger = Binding(function, "queueTrigger");

        Assert.Equal("AskPro.Functions.Queueing.ApplyCalcomEventFunction.ApplyCalcomEvent", (string?)function["entryPoint"]);
        Assert.Equal("In", (string?)trigger["direction"]);
        Assert.Equal("calcom-webhooks", (string?)trigger["queueName"]);
        Assert.Equal(StorageNames.WebhookQueue, (string?)trigger["queueName"]);
        Assert.Equal("AzureWebJobsStorage", (string?)trigger["connection"]);
    }

    [Fact]
    public void The_metadata_declares_exactly_the_eleven_functions()
    {
        Assert.Equal(["ApplyCalcomEvent", "AppointmentLookup", "CalcomTenantWebhook", "CalcomWebhook", "DeadLetterList", "DeadLetterReplay", "EraseBooking", "ReconcileOnDemand", "ReconcileOnSchedule", "RunSeriesLookup", "RunTenantReconciliation"],
            ReadJson("functions.metadata").AsArray().Select(f => (string?)f!["name"]).Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("AppointmentLookup", "post", "appointments/lookup")]
    [InlineData("DeadLetterList", "get", "deadletter")]
    [InlineData("DeadLetterReplay", "post", "deadletter/replay")]
    [InlineData("ReconcileOnDemand", "post", "ops/reconcile")]
    [InlineData("EraseBooking", "post", "ops/erase")]
    public void Operator_endpoints_need_a_function_key_and_avoid_the_hosts_admin_routes(string name, string method, string route)
    {
        var trigger = Binding(Function(name), "httpTrigger");

        Assert.Equal("Function", (string?)trigger["authLevel"]);
        Assert.Equal(route, (string?)trigger["route"]);
        Assert.Equal([method], trigger["methods"]!.AsArray().Select(m => (string?)m));
        // The host reserves every route starting with "admin" and refuses to index such a function.
        Assert.False(route.StartsWith("admin", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public void The_reconciliation_timer_takes_its_schedule_from_the_ReconciliationSchedule_setting()
    {
        var trigger = Binding(Function("ReconcileOnSchedule"), "timerTrigger");

        Assert.Equal("%ReconciliationSchedule%", (string?)trigger["schedule"]);
    }

    [Fact]
    public void Host_json_in_the_output_is_the_top_level_one_and_reads_queue_messages_as_Base64()
    {
        var top = File.ReadAllText(Path.Combine(Azurite.RepoRoot(), "host.json"));
        var built = File.ReadAllText(Path.Combine(Output, "host.json"));

        Assert.Equal(top, built);
        var host = ReadJson("host.json");
        Assert.Equal("2.0", (string?)host["version"]);
        Assert.Equal("base64", (string?)host["extensions"]?["queues"]?["messageEncoding"]);
    }

    [Fact]
    public void Extensions_json_lists_the_storage_queues_extension()
    {
        var extensions = ReadJson("extensions.json")["extensions"]!.AsArray().OfType<JsonObject>().ToList();

        Assert.Contains(extensions, e => (string?)e["name"] == "AzureStorageQueues"
            && ((string?)e["typeName"] ?? "").Contains("Microsoft.Azure.WebJobs.Extensions.Storage.Queues", StringComparison.Ordinal));
    }

    [Fact]
    public void Worker_config_json_exists_and_points_at_the_app()
    {
        var worker = ReadJson("worker.config.json")["description"]!;

        Assert.Equal("dotnet-isolated", (string?)worker["language"]);
        Assert.Equal("AskPro.Functions.dll", (string?)worker["defaultWorkerPath"]);
        Assert.True(File.Exists(Path.Combine(Output, "AskPro.Functions.dll")));
    }
}
