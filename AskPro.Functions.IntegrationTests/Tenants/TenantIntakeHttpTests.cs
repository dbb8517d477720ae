using System.Net;
using System.Text;
using System.Text.Json;
using AskPro.Functions.Appointments;
using AskPro.Functions.Tests.Appointments;
using AskPro.Functions.Tests.Infrastructure;
using AskPro.Functions.Tests.Queueing;
using AskPro.Functions.Webhooks;
using AskPro.LocalHost;
using Azure.Data.Tables;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace AskPro.Functions.Tests.Tenants;

/// <summary>
/// Tenant routes over a real socket: the local host (<see cref="LocalFunctionsHost.Build"/>, what tools/run-local.sh
/// starts) with two practices declared in its local.settings.json (<c>Tenants__{id}__…</c>) and one disabled, on its own
/// Azurite; the WebJobs queue listener applies what the routes accept, and the test reads each tenant's partition.
/// </summary>
[Collection(RunsAloneCollection.Name)]
public sealed class TenantIntakeHttpTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Over_HTTP_each_tenants_route_takes_only_its_own_signature_and_the_listener_applies_into_its_partition()
    {
        await using var azurite = await Azurite.StartAsync(allowExternal: false);
        var directory = Directory.CreateTempSubdirectory("askpro-tenants-").FullName;
        try
        {
            var settings = Path.Combine(directory, "local.settings.json");
            await File.WriteAllTextAsync(settings, JsonSerializer.Serialize(new
            {
                IsEncrypted = false,
                Values = new Dictionary<string, string>
                {
                    ["AzureWebJobsStorage"] = azurite.ConnectionString,
                    ["CalcomWebhook__Secrets__0"] = TestApp.Secret,
                    ["Appointments__TableName"] = "TenantHttp",
                    ["ReconciliationSchedule"] = "0 */10 * * * *",
                    ["Tenants__alpha__WebhookSecrets__0"] = TenantHarness.SecretOf("alpha"),
                    ["Tenants__alpha__CompanyId"] = TenantHarness.CompanyOf("alpha"),
                    ["Tenants__beta__WebhookSecrets__0"] = TenantHarness.SecretOf("beta"),
                    ["Tenants__beta__CompanyId"] = TenantHarness.CompanyOf("beta"),
                    ["Tenants__gone__WebhookSecrets__0"] = TenantHarness.SecretOf("gone"),
                    ["Tenants__gone__Enabled"] = "false",
                },
            }));

            var app = LocalFunctionsHost.Build(["--settings", settings, "--hostjson", QueueListenerHarness.HostJsonPath, "--urls", "http://127.0.0.1:0", "--Logging:LogLevel:Default", "Warning"]);
            await app.StartAsync();
            try
            {
                var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
                var webhook = address + LocalFunctionsHost.WebhookPath(app.Configuration);
                using var http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { Timeout = TimeSpan.FromSeconds(30) };
                var body = new LifecycleGenerator(20261206).NextLifecycle().Events[0].Body;
                var uid = AskPro.Functions.Calcom.CalcomWebhookReader.Read(body).Event!.Uid;

                // The same signed bytes to two practices (each signed with its own secret), and to the default route.
                await ExpectAsync(http, webhook + "/alpha", body, TenantHarness.SecretOf("alpha"), HttpStatusCode.Accepted, null);
                await ExpectAsync(http, webhook + "/beta", body, TenantHarness.SecretOf("beta"), HttpStatusCode.Accepted, null);
                await ExpectAsync(http, webhook, body, TestApp.Secret, HttpStatusCode.Accepted, null);
                // Another practice's secret, the default secret on a practice's route, a practice's secret on the default route.
                await ExpectAsync(http, webhook + "/alpha", body, TenantHarness.SecretOf("beta"), HttpStatusCode.Unauthorized, ErrorCodes.InvalidSignature);
                await ExpectAsync(http, webhook + "/beta", body, TestApp.Secret, HttpStatusCode.Unauthorized, ErrorCodes.InvalidSignature);
                await ExpectAsync(http, webhook, body, TenantHarness.SecretOf("alpha"), HttpStatusCode.Unauthorized, ErrorCodes.InvalidSignature);
                // Unknown, disabled and invalid ids: 404 unknown_tenant, the id not repeated.
                foreach (var id in new[] { "nobody", "gone", "ALPHA", new string('a', 41), "al_pha" })
                {
                    var text = await ExpectAsync(http, webhook + "/" + id, body, TenantHarness.SecretOf("alpha"), HttpStatusCode.NotFound, ErrorCodes.UnknownTenant);
                    Assert.DoesNotContain(id, text, StringComparison.OrdinalIgnoreCase);
                }

                // The listener applies the three accepted deliveries, each into its own partition, stamped with its tenant.
                var table = new TableClient(azurite.ConnectionString, "TenantHttp");
                var alpha = await WaitForAsync(table, "alpha", uid);
                var beta = await WaitForAsync(table, "beta", uid);
                var home = await WaitForAsync(table, AskPro.Functions.Tenants.TenantIds.DefaultPartition, uid);
                Assert.Equal(("alpha", TenantHarness.CompanyOf("alpha")), (alpha.GetString("TenantId"), alpha.GetString("CompanyId")));
                Assert.Equal(("beta", TenantHarness.CompanyOf("beta")), (beta.GetString("TenantId"), beta.GetString("CompanyId")));
                Assert.Contains(home.GetString("TenantId"), new string?[] { null, AskPro.Functions.Tenants.TenantIds.Default });
                Assert.Equal(alpha.GetString("AppointmentId"), beta.GetString("AppointmentId"));
                var partitions = new SortedSet<string>(StringComparer.Ordinal);
                await foreach (var row in table.QueryAsync<TableEntity>(select: ["PartitionKey"]))
                {
                    partitions.Add(row.PartitionKey);
                }

                Assert.Equal(["alpha", "beta", AskPro.Functions.Tenants.TenantIds.DefaultPartition], partitions);
            }
            finally
            {
                await app.StopAsync();
                await app.DisposeAsync();
            }
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>Posts the body signed with <paramref name="secret"/>; checks the status and, for an error, the error format and code. Returns the body's text.</summary>
    private static async Task<string> ExpectAsync(HttpClient http, string url, byte[] body, string secret, HttpStatusCode status, string? errorCode)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = content };
        request.Headers.TryAddWithoutValidation(WebhookSignature.HeaderName, WebhookSignature.Sign(body, Encoding.UTF8.GetBytes(secret)));
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"POST {new Uri(url).AbsolutePath}: expected {(int)status}, got {(int)response.StatusCode} {text}");
        using var json = JsonDocument.Parse(text);
        if (errorCode is null)
        {
            Assert.Equal("accepted", json.RootElement.GetProperty("status").GetString());
        }
        else
        {
            Assert.Equal("error", json.RootElement.GetProperty("status").GetString());
            Assert.Equal(errorCode, json.RootElement.GetProperty("error").GetProperty("code").GetString());
        }

        return text;
    }

    private static async Task<TableEntity> WaitForAsync(TableClient table, string partition, string uid)
    {
        var deadline = DateTime.UtcNow + Deadline;
        while (true)
        {
            try
            {
                var response = await table.GetEntityIfExistsAsync<TableEntity>(partition, AppointmentEntities.UidKey(uid));
                if (response.HasValue)
                {
                    return response.Value!;
                }
            }
            catch (Azure.RequestFailedException e) when (e.Status == 404)
            {
                // The table does not exist until the first event is applied.
            }

            Assert.True(DateTime.UtcNow < deadline, $"after {Deadline.TotalSeconds:F0} s partition {partition} has no record of the delivered uid");
            await Task.Delay(100);
        }
    }
}
