using System.Text;
using System.Text.Json.Nodes;
using AskPro.Functions.Appointments;
using AskPro.Functions.Calcom;
using AskPro.Functions.Operating;
using AskPro.Functions.Queueing;
using AskPro.Functions.Storage;
using AskPro.Functions.Tenants;
using AskPro.Functions.Tests.Infrastructure;
using AskPro.Functions.Webhooks;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Abstractions;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace AskPro.Functions.Tests.Operating;

/// <summary>
/// The operator endpoints per tenant on Azurite (docs/operating.md#which-tenant): the same booking uid delivered to the
/// default tenant and to tenant <c>acme</c> is two bookings; the lookup reads the named tenant's partition only, an
/// unknown tenant is 404 <c>unknown_tenant</c>, dead letters are listed and replayed per tenant, and erasing the uid in one
/// tenant leaves the other tenant's booking, dead letters and claim-check bodies as they were. Own emulator: the tests
/// empty the app's fixed queues.
/// </summary>
[Collection(RunsAloneCollection.Name)]
public sealed class TenantOperatingTests(TenantOperatingTests.Emulator emulator) : IClassFixture<TenantOperatingTests.Emulator>, IAsyncLifetime
{
    private const string Uid = "k3VbP9qWm2xYc7RtL5nD8a";
    private const string Acme = "acme";
    private const string AcmeSecret = "acme-tenant-secret-4d2f8b6a1c3e5f7a9b0d";
    private const string AcmeCompany = "c-acme";
    private const string Claimed = "c-claimed";
    private readonly RequestCounter _counter = new();
    private TestApp _app = null!;
    private string _table = "";

    public sealed class Emulator : IAsyncLifetime
    {
        public Azurite Azurite { get; private set; } = null!;
        public async Task InitializeAsync() => Azurite = await Azurite.StartAsync(allowExternal: false);
        public Task DisposeAsync() => Azurite.StopAsync();
    }

    public async Task InitializeAsync()
    {
        _table = "ten" + Guid.NewGuid().ToString("N")[..12];
        _app = TestApp.Create(emulator.Azurite.ConnectionString, s =>
        {
            s["Appointments:TableName"] = _table;
            s["Tenants:acme:WebhookSecrets:0"] = AcmeSecret;
            s["Tenants:acme:CompanyId"] = AcmeCompany;
            s["Tenants:beta:WebhookSecrets:0"] = "beta-tenant-secret-8e1a3c5b7d9f2e4a6c0b";
            s["Tenants:off:WebhookSecrets:0"] = "off-tenant-secret-0f2e4d6c8b1a3f5e7d9c";
            s["Tenants:off:Enabled"] = "false";
        }, s => s.AddSingleton<HttpPipelinePolicy>(_counter));
        await _app.Get<WebhookQueue>().EnsureCreatedAsync(CancellationToken.None);
        await _app.Get<AppointmentTableStore>().EnsureCreatedAsync(CancellationToken.None);
        await Storage.WebhookQueue.ClearMessagesAsync();
        await Storage.DeadLetterQueue.ClearMessagesAsync();
        await foreach (var blob in Storage.BodyContainer.GetBlobsAsync())
        {
            await Storage.BodyContainer.DeleteBlobIfExistsAsync(blob.Name);
        }
    }

    public async Task DisposeAsync()
    {
        await Storage.Appointments.DeleteAsync();
        await _app.DisposeAsync();
    }

    private StorageClients Storage => _app.Get<StorageClients>();

    /// <summary>The web booking example with its own times and a company claimed in its metadata; <paramref name="padding"/> makes it a claim check.</summary>
    private static byte[] Body(string start, string end, int padding = 0)
    {
        var node = JsonNode.Parse(Examples.Calcom("booking_created_web.json"))!;
        var payload = node["payload"]!;
        payload["startTime"] = start;
        payload["endTime"] = end;
        payload["metadata"] = new JsonObject { ["askpro_company_id"] = Claimed };
        if (padding > 0)
        {
            payload["responses"]!["padding"] = new string('x', padding);
        }

        return Encoding.UTF8.GetBytes(node.ToJsonString());
    }

    private static readonly byte[] DefaultBody = Body("2026-01-27T09:00:00Z", "2026-01-27T09:30:00Z");
    private static readonly byte[] AcmeBody = Body("2026-01-27T11:00:00Z", "2026-01-27T11:30:00Z");

    /// <summary>A delivery to the tenant's own route, signed with its secret; null: the default route.</summary>
    private async Task<WebhookResponse> PostAsync(string? tenant, byte[] body)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "POST";
        context.Request.Path = "/api/" + (tenant is null ? CalcomWebhookFunction.Route : CalcomWebhookFunction.Route + "/" + tenant);
        context.Request.ContentType = "application/json";
        context.Request.ContentLength = body.Length;
        context.Request.Body = new MemoryStream(body);
        context.Request.Headers[WebhookSignature.HeaderName] = WebhookCall.Sign(body, tenant == Acme ? AcmeSecret : TestApp.Secret);
        using var response = new MemoryStream();
        context.Response.Body = response;
        var function = _app.Get<CalcomWebhookFunction>();
        var result = tenant is null
            ? await function.CalcomWebhook(context.Request, CancellationToken.None)
            : await function.CalcomTenantWebhook(context.Request, tenant, CancellationToken.None);
        await result.ExecuteResultAsync(new ActionContext(context, new RouteData(), new ActionDescriptor()));
        return new WebhookResponse(context.Response.StatusCode, context.Response.Headers, context.Response.ContentType ?? "", Encoding.UTF8.GetString(response.ToArray()));
    }

    private async Task DeliverAsync(string? tenant, byte[] body)
    {
        var response = await PostAsync(tenant, body);
        Assert.True(response.StatusCode == 202, response.ToString());
        await DrainAsync();
    }

    private async Task DrainAsync()
    {
        var function = _app.Get<ApplyCalcomEventFunction>();
        while ((await Storage.WebhookQueue.ReceiveMessagesAsync(32, TimeSpan.FromMinutes(1))).Value is { Length: > 0 } messages)
        {
            foreach (var m in messages)
            {
                await function.ApplyCalcomEvent(m, CancellationToken.None);
                await Storage.WebhookQueue.DeleteMessageAsync(m.MessageId, m.PopReceipt);
            }
        }
    }

    private Task<WebhookResponse> LookupAsync(string? tenant, string uid = Uid)
    {
        var body = new JsonObject { ["uid"] = uid };
        if (tenant is not null)
        {
            body["tenant"] = tenant;
        }

        return OperatorCall.LookupBodyAsync(_app, body.ToJsonString());
    }

    private async Task<WebhookResponse> EraseAsync(string body)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "POST";
        context.Request.Body = new MemoryStream(Encoding.UTF8.GetBytes(body));
        using var response = new MemoryStream();
        context.Response.Body = response;
        var result = await _app.Get<ErasureFunction>().EraseBooking(context.Request, CancellationToken.None);
        await result.ExecuteResultAsync(new ActionContext(context, new RouteData(), new ActionDescriptor()));
        return new WebhookResponse(context.Response.StatusCode, context.Response.Headers, context.Response.ContentType ?? "", Encoding.UTF8.GetString(response.ToArray()));
    }

    /// <summary>A dead letter as the processor writes it for an inline envelope of <paramref name="body"/> proven for <paramref name="tenant"/> (null: default).</summary>
    private async Task DeadLetterAsync(string? tenant, byte[] body, string reason = "storage unavailable (test)")
    {
        var read = CalcomWebhookReader.Read(body);
        var envelope = new WebhookEnvelope(WebhookEnvelope.CurrentVersion, WebhookQueue.DeliveryIdOf(body), DateTimeOffset.UtcNow, read.TriggerEvent!,
            read.Event!.Uid, read.Event.RescheduleUid, body.Length, Encoding.UTF8.GetString(body), null)
        { Tenant = tenant };
        await _app.Get<WebhookQueue>().DeadLetterAsync(envelope.ToUtf8(), "m-" + Guid.NewGuid().ToString("N"), 5, envelope, reason, DateTimeOffset.UtcNow, CancellationToken.None);
    }

    private async Task<List<TableEntity>> PartitionAsync(string partition) =>
        await Storage.Appointments.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {partition}")).ToListAsync();

    private static DateTimeOffset StartOf(WebhookResponse lookup) =>
        Assert.Single(lookup.Json.GetProperty("appointments").EnumerateArray()).GetProperty("startTime").GetDateTimeOffset();

    [Fact]
    public async Task The_same_uid_in_two_tenants_is_two_records_and_each_lookup_reads_only_its_own_tenant()
    {
        await DeliverAsync(null, DefaultBody);
        await DeliverAsync(Acme, AcmeBody);

        var byDefault = await LookupAsync(null);
        var byName = await LookupAsync(TenantIds.Default);
        _counter.Reset();
        var byAcme = await LookupAsync(Acme);
        var acmeReads = _counter.Requests.ToList();
        var byBeta = await LookupAsync("beta");

        // At most two point reads, both in acme's partition.
        Assert.InRange(acmeReads.Count, 1, 2);
        Assert.All(acmeReads, r => Assert.Contains("(PartitionKey='acme',", Uri.UnescapeDataString(r), StringComparison.Ordinal));

        Assert.True(byDefault.StatusCode == 200, byDefault.ToString());
        Assert.Equal(DateTimeOffset.Parse("2026-01-27T09:00:00Z", System.Globalization.CultureInfo.InvariantCulture), StartOf(byDefault));
        Assert.Equal(TenantIds.Default, byDefault.Json.GetProperty("tenant").GetString());
        var defaultView = byDefault.Json.GetProperty("appointments")[0];
        Assert.Equal(TenantIds.Default, defaultView.GetProperty("tenantId").GetString());
        Assert.False(defaultView.TryGetProperty("claimedCompanyId", out _)); // the default tenant has no company: the claim is the company, as before
        Assert.Equal(byDefault.Text, byName.Text);

        Assert.True(byAcme.StatusCode == 200, byAcme.ToString());
        Assert.Equal(DateTimeOffset.Parse("2026-01-27T11:00:00Z", System.Globalization.CultureInfo.InvariantCulture), StartOf(byAcme));
        Assert.Equal(Acme, byAcme.Json.GetProperty("tenant").GetString());
        var acmeView = byAcme.Json.GetProperty("appointments")[0];
        Assert.Equal(Acme, acmeView.GetProperty("tenantId").GetString());
        Assert.Equal(AcmeCompany, acmeView.GetProperty("companyId").GetString());
        Assert.Equal(defaultView.GetProperty("companyId").GetString(), acmeView.GetProperty("claimedCompanyId").GetString());
        // The record row the store wrote says the same as the view.
        var acmeRow = (await Storage.Appointments.GetEntityAsync<TableEntity>(Acme, AppointmentEntities.UidKey(Uid))).Value;
        Assert.Equal(Acme, acmeRow.GetString("TenantId"));
        Assert.Equal(AcmeCompany, acmeRow.GetString("CompanyId"));
        Assert.Equal(acmeRow.GetString("ClaimedCompanyId"), acmeView.GetProperty("claimedCompanyId").GetString());

        Assert.Equal(404, byBeta.StatusCode);
        Assert.Equal(OperatorErrorCodes.UnknownUid, byBeta.ErrorCode);
    }

    [Theory]
    [InlineData("nope")]
    [InlineData("Not-A-Tenant!")]
    [InlineData("")]
    public async Task An_unknown_or_malformed_tenant_is_404_unknown_tenant_and_nothing_is_read_or_erased(string tenant)
    {
        await DeliverAsync(null, DefaultBody);
        var before = (await PartitionAsync(TenantIds.DefaultPartition)).Select(r => (r.RowKey, r.ETag)).ToList();

        var lookup = await LookupAsync(tenant);
        var erase = await EraseAsync(new JsonObject { ["uid"] = Uid, ["tenant"] = tenant }.ToJsonString());

        foreach (var response in new[] { lookup, erase })
        {
            Assert.True(response.StatusCode == 404, response.ToString());
            Assert.Equal("error", response.Status);
            Assert.Equal(ErrorCodes.UnknownTenant, response.ErrorCode);
            Assert.DoesNotContain(Uid, response.Text, StringComparison.Ordinal);
        }

        Assert.Equal(before, (await PartitionAsync(TenantIds.DefaultPartition)).Select(r => (r.RowKey, r.ETag)).ToList());
        Assert.Empty(await PartitionAsync("nope"));
    }

    [Fact]
    public async Task A_disabled_tenants_booking_can_still_be_looked_up_and_erased()
    {
        // Its route answers 404 now, but what it delivered while enabled is in its partition, and an erasure request
        // must not wait for the practice to be enabled again.
        await _app.Get<AppointmentTableStore>().ApplyAsync(new TenantRows("off"), AskPro.Functions.Tests.Appointments.ExampleBodies.Read(DefaultBody), null, CancellationToken.None);

        var lookup = await LookupAsync("off");
        var erase = await EraseAsync(new JsonObject { ["uid"] = Uid, ["tenant"] = "off" }.ToJsonString());

        Assert.True(lookup.StatusCode == 200, lookup.ToString());
        Assert.True(erase.StatusCode == 200, erase.ToString());
        var left = await PartitionAsync("off");
        Assert.Contains(left, r => r.RowKey.StartsWith(ErasureTombstone.Prefix, StringComparison.Ordinal));
        Assert.DoesNotContain(left, r => r.RowKey.StartsWith(AppointmentEntities.UidPrefix, StringComparison.Ordinal) || r.RowKey.StartsWith(AppointmentEntities.AppointmentPrefix, StringComparison.Ordinal));
        Assert.Equal(404, (await LookupAsync("off")).StatusCode);
    }

    [Fact]
    public async Task A_tenant_that_is_not_a_string_is_a_bad_request_never_the_default_tenant()
    {
        await DeliverAsync(null, DefaultBody);

        var lookup = await OperatorCall.LookupBodyAsync(_app, $"{{\"uid\":\"{Uid}\",\"tenant\":5}}");
        var erase = await EraseAsync($"{{\"uid\":\"{Uid}\",\"tenant\":5}}");

        Assert.Equal(400, lookup.StatusCode);
        Assert.Equal(400, erase.StatusCode);
        Assert.NotNull(await _app.Get<AppointmentTableStore>().FindByUidAsync(Uid, CancellationToken.None));
    }

    [Fact]
    public async Task The_dead_letter_list_filters_by_tenant_past_the_oldest_32_and_leaves_every_letter_visible()
    {
        for (var i = 0; i < 34; i++)
        {
            await DeadLetterAsync(null, Body($"2026-02-{1 + (i % 28):00}T09:00:00Z", $"2026-02-{1 + (i % 28):00}T09:30:00Z"), $"default {i}");
        }

        await DeadLetterAsync(Acme, AcmeBody, "acme 1");
        await DeadLetterAsync(Acme, Body("2026-03-02T09:00:00Z", "2026-03-02T09:30:00Z"), "acme 2");

        var all = await OperatorCall.ListDeadLettersAsync(_app, "max=32");
        var acme = await OperatorCall.ListDeadLettersAsync(_app, "tenant=acme");
        var defaults = await OperatorCall.ListDeadLettersAsync(_app, "tenant=default&max=5");
        var beta = await OperatorCall.ListDeadLettersAsync(_app, "tenant=beta");
        var malformed = await OperatorCall.ListDeadLettersAsync(_app, "tenant=Bad!");

        // A peek sees the oldest 32 only: every one the default tenant's, each saying so.
        Assert.Equal(32, all.Json.GetProperty("count").GetInt32());
        Assert.All(all.Json.GetProperty("deadLetters").EnumerateArray(), d => Assert.Equal(TenantIds.Default, d.GetProperty("tenant").GetString()));
        Assert.False(all.Json.TryGetProperty("tenant", out _));

        Assert.True(acme.StatusCode == 200, acme.ToString());
        Assert.Equal(Acme, acme.Json.GetProperty("tenant").GetString());
        Assert.Equal(["acme 1", "acme 2"], acme.Json.GetProperty("deadLetters").EnumerateArray().Select(d => d.GetProperty("reason").GetString()));
        Assert.All(acme.Json.GetProperty("deadLetters").EnumerateArray(), d => Assert.Equal(Acme, d.GetProperty("tenant").GetString()));
        Assert.Equal(36, acme.Json.GetProperty("scanned").GetInt32());

        Assert.Equal(["default 0", "default 1", "default 2", "default 3", "default 4"],
            defaults.Json.GetProperty("deadLetters").EnumerateArray().Select(d => d.GetProperty("reason").GetString()));
        Assert.Equal(0, beta.Json.GetProperty("count").GetInt32());
        Assert.Equal(400, malformed.StatusCode);
        Assert.Equal(OperatorErrorCodes.InvalidQuery, malformed.ErrorCode);

        // Nothing was taken or left hidden: a peek sees the oldest 32 again.
        Assert.Equal(32, (await Storage.DeadLetterQueue.PeekMessagesAsync(32)).Value.Length);
    }

    [Fact]
    public async Task Replay_limited_to_a_tenant_moves_only_its_letters_and_each_envelope_keeps_its_tenant()
    {
        await DeadLetterAsync(null, DefaultBody, "default 1");
        await DeadLetterAsync(Acme, AcmeBody, "acme 1");
        await DeadLetterAsync(null, Body("2026-03-02T09:00:00Z", "2026-03-02T09:30:00Z"), "default 2");

        var dry = await OperatorCall.ReplayAsync(_app, "tenant=acme&dryRun=true");
        var report = await OperatorCall.ReplayAsync(_app, "tenant=acme");

        Assert.Equal(1, dry.Json.GetProperty("moved").GetInt32());
        Assert.True(report.StatusCode == 200, report.ToString());
        Assert.Equal(1, report.Json.GetProperty("moved").GetInt32());
        Assert.Equal(2, report.Json.GetProperty("skipped").GetInt32());
        Assert.Equal(Acme, report.Json.GetProperty("tenant").GetString());
        Assert.Equal(Acme, Assert.Single(report.Json.GetProperty("messages").EnumerateArray()).GetProperty("tenant").GetString());
        var queued = Assert.Single((await Storage.WebhookQueue.PeekMessagesAsync(32)).Value);
        Assert.Equal(Acme, WebhookEnvelope.Parse(queued.Body.ToArray()).Tenant);
        var left = await OperatorCall.ListDeadLettersAsync(_app);
        Assert.Equal(["default 1", "default 2"], left.Json.GetProperty("deadLetters").EnumerateArray().Select(d => d.GetProperty("reason").GetString()));

        await DrainAsync();

        Assert.Equal(DateTimeOffset.Parse("2026-01-27T11:00:00Z", System.Globalization.CultureInfo.InvariantCulture), StartOf(await LookupAsync(Acme)));
        Assert.Equal(404, (await LookupAsync(null)).StatusCode);
    }

    [Fact]
    public async Task Erasing_a_uid_in_one_tenant_leaves_the_same_uid_of_another_tenant_with_its_dead_letters_and_bodies()
    {
        await DeliverAsync(null, DefaultBody);
        await DeliverAsync(Acme, AcmeBody);
        await DeadLetterAsync(null, Body("2026-03-02T09:00:00Z", "2026-03-02T09:30:00Z"), "default letter");
        await DeadLetterAsync(Acme, Body("2026-03-03T09:00:00Z", "2026-03-03T09:30:00Z"), "acme letter");
        // Claim-check deliveries of both tenants still waiting in the queue, each holding the uid.
        var defaultLarge = Body("2026-04-01T09:00:00Z", "2026-04-01T09:30:00Z", padding: 60_000);
        var acmeLarge = Body("2026-04-02T09:00:00Z", "2026-04-02T09:30:00Z", padding: 60_000);
        Assert.Equal(202, (await PostAsync(null, defaultLarge)).StatusCode);
        Assert.Equal(202, (await PostAsync(Acme, acmeLarge)).StatusCode);
        var defaultBlob = Storage.BodyContainer.GetBlobClient(WebhookEnvelope.BodyBlobName(WebhookQueue.DeliveryIdOf(defaultLarge)));
        var acmeBlob = Storage.BodyContainer.GetBlobClient(WebhookEnvelope.BodyBlobName(Acme, WebhookQueue.DeliveryIdOf(acmeLarge)));
        Assert.True((await defaultBlob.ExistsAsync()).Value && (await acmeBlob.ExistsAsync()).Value);
        var defaultRows = (await PartitionAsync(TenantIds.DefaultPartition)).Select(r => (r.RowKey, r.ETag)).ToList();

        var erase = await EraseAsync($"{{\"uid\":\"{Uid}\",\"tenant\":\"{Acme}\"}}");

        Assert.True(erase.StatusCode == 200, erase.ToString());
        Assert.Equal("erased", erase.Status);
        Assert.Equal(Acme, erase.Json.GetProperty("tenant").GetString());
        Assert.Equal(1, erase.Json.GetProperty("deadLettersDeleted").GetInt32());
        Assert.Equal(1, erase.Json.GetProperty("bodiesDeleted").GetInt32());
        // Acme's booking is gone, its tombstone stands in acme's partition only.
        Assert.Equal(OperatorErrorCodes.UnknownUid, (await LookupAsync(Acme)).ErrorCode);
        var store = _app.Get<AppointmentTableStore>();
        Assert.NotNull(await store.ErasedAtAsync(new TenantRows(Acme), Uid, CancellationToken.None));
        Assert.Null(await store.ErasedAtAsync(Uid, CancellationToken.None));
        // What is left there: tombstones and the staff calendar, empty now.
        Assert.All((await PartitionAsync(Acme)).Where(r => r.GetString("RowType") != ErasureTombstone.RowType), r =>
        {
            Assert.StartsWith(AppointmentEntities.StaffPrefix, r.RowKey, StringComparison.Ordinal);
            Assert.Empty(AppointmentEntities.RangesOf(r));
        });
        // The default tenant's booking, rows, dead letter and body are exactly as they were.
        Assert.Equal(defaultRows, (await PartitionAsync(TenantIds.DefaultPartition)).Select(r => (r.RowKey, r.ETag)).ToList());
        Assert.Equal(DateTimeOffset.Parse("2026-01-27T09:00:00Z", System.Globalization.CultureInfo.InvariantCulture), StartOf(await LookupAsync(null)));
        Assert.Equal(["default letter"], (await OperatorCall.ListDeadLettersAsync(_app)).Json.GetProperty("deadLetters").EnumerateArray().Select(d => d.GetProperty("reason").GetString()));
        Assert.True((await defaultBlob.ExistsAsync()).Value);
        Assert.False((await acmeBlob.ExistsAsync()).Value);

        // The default tenant's dead letter is replayed, not dropped: the uid was erased in acme, not here.
        var replay = await OperatorCall.ReplayAsync(_app);
        Assert.Equal(1, replay.Json.GetProperty("moved").GetInt32());
        Assert.Equal(0, replay.Json.GetProperty("dropped").GetInt32());
        // A later delivery to acme of the uid is dropped by acme's tombstone; the default tenant's queued ones apply.
        Assert.Equal(202, (await PostAsync(Acme, Body("2026-05-01T09:00:00Z", "2026-05-01T09:30:00Z"))).StatusCode);
        await DrainAsync();
        Assert.Equal(OperatorErrorCodes.UnknownUid, (await LookupAsync(Acme)).ErrorCode);
        var history = Assert.Single((await LookupAsync(null)).Json.GetProperty("appointments").EnumerateArray()).GetProperty("history").GetArrayLength();
        Assert.Equal(3, history);
    }

    [Fact]
    public async Task Erasing_without_a_tenant_erases_the_default_tenants_booking_only()
    {
        await DeliverAsync(null, DefaultBody);
        await DeliverAsync(Acme, AcmeBody);
        var acmeRows = (await PartitionAsync(Acme)).Select(r => (r.RowKey, r.ETag)).ToList();

        var erase = await EraseAsync($"{{\"uid\":\"{Uid}\"}}");

        Assert.True(erase.StatusCode == 200, erase.ToString());
        Assert.Equal(TenantIds.Default, erase.Json.GetProperty("tenant").GetString());
        Assert.Equal(404, (await LookupAsync(null)).StatusCode);
        Assert.Equal(acmeRows, (await PartitionAsync(Acme)).Select(r => (r.RowKey, r.ETag)).ToList());
        Assert.Equal(200, (await LookupAsync(Acme)).StatusCode);
    }

    [Fact]
    public async Task The_command_line_erases_in_the_tenant_it_is_given_and_refuses_an_unknown_one()
    {
        await DeliverAsync(null, DefaultBody);
        await DeliverAsync(Acme, AcmeBody);
        var directory = Directory.CreateTempSubdirectory("askpro-erase-tenant-").FullName;
        try
        {
            var settings = Path.Combine(directory, "local.settings.json");
            await File.WriteAllTextAsync(settings, System.Text.Json.JsonSerializer.Serialize(new
            {
                IsEncrypted = false,
                Values = new Dictionary<string, string>
                {
                    ["AzureWebJobsStorage"] = emulator.Azurite.ConnectionString,
                    ["CalcomWebhook__Secrets__0"] = TestApp.Secret,
                    ["Appointments__TableName"] = _table,
                    ["ReconciliationSchedule"] = "0 */10 * * * *",
                    ["Tenants__acme__WebhookSecrets__0"] = AcmeSecret,
                    ["Tenants__acme__CompanyId"] = AcmeCompany,
                },
            }));

            async Task<(int Code, string Out, string Err)> Run(params string[] args)
            {
                using var output = new StringWriter();
                using var error = new StringWriter();
                var code = await AskPro.LocalHost.EraseCommand.RunAsync(args, new StringReader(Uid + "\n"), output, error);
                return (code, output.ToString(), error.ToString());
            }

            Assert.Contains("--tenant", (await Run("--help")).Out, StringComparison.Ordinal);
            Assert.Equal(2, (await Run("-", "--tenant", "Not-A-Tenant!", "--settings", settings)).Code);
            var unknown = await Run("-", "--tenant", "nope", "--settings", settings);
            Assert.True(unknown.Code == 1, unknown.Err);

            var erased = await Run("-", "--tenant", Acme, "--settings", settings);

            Assert.True(erased.Code == 0, erased.Err);
            Assert.Contains("\"Tenant\": \"acme\"", erased.Out, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain(Uid, erased.Out + erased.Err, StringComparison.Ordinal);
            Assert.Equal(OperatorErrorCodes.UnknownUid, (await LookupAsync(Acme)).ErrorCode);
            Assert.Equal(200, (await LookupAsync(null)).StatusCode);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
