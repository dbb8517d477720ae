using System.Text;
using System.Text.Json.Nodes;
using AskPro.Functions.Appointments;
using AskPro.Functions.Calcom;
using AskPro.Functions.Logging;
using AskPro.Functions.Operating;
using AskPro.Functions.Queueing;
using AskPro.Functions.Reconciliation;
using AskPro.Functions.Storage;
using AskPro.Functions.Tests.Appointments;
using AskPro.Functions.Tests.Infrastructure;
using AskPro.Functions.Tests.Reconciliation;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Abstractions;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using E = AskPro.Functions.Appointments.AppointmentEntities;

namespace AskPro.Functions.Tests.Operating;

/// <summary>
/// Erasing a booking (<c>POST /api/ops/erase</c>, <see cref="Erasure"/>) on Azurite, then everything that used to bring
/// it back or choke on what it left: an overlapping booking on the same calendar, a later webhook, a dead-letter replay,
/// a reconciliation pass whose Cal.com (a fake API on loopback) still lists the booking. Own emulator: the tests empty
/// the app's fixed queues and count dead letters.
/// </summary>
[Collection(RunsAloneCollection.Name)]
public sealed class ErasureTests(ErasureTests.Emulator emulator) : IClassFixture<ErasureTests.Emulator>, IAsyncLifetime
{
    private const string Erased = "k3VbP9qWm2xYc7RtL5nD8a";
    private const string Partner = "zzErasePartner00000001";
    private const string Later = "zzEraseLater0000000001";
    private static readonly DateTimeOffset Web = new(2026, 1, 27, 9, 0, 0, TimeSpan.Zero);
    private readonly RequestCounter _counter = new();
    private readonly FaultPolicy _faults = new();
    private FakeCalcomApi _api = null!;
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
        _api = await FakeCalcomApi.StartAsync();
        _table = "era" + Guid.NewGuid().ToString("N")[..12];
        _app = NewApp();
        await _app.Get<WebhookQueue>().EnsureCreatedAsync(CancellationToken.None);
        await Store.EnsureCreatedAsync(CancellationToken.None);
        await new QueueProbe(emulator.Azurite.ConnectionString).ClearAsync();
        await Storage.DeadLetterQueue.ClearMessagesAsync();
    }

    /// <summary>An instance of the app on this emulator and table (a second one stands for another instance: its own memory).</summary>
    private TestApp NewApp() =>
        TestApp.Create(emulator.Azurite.ConnectionString, s =>
        {
            s["Appointments:TableName"] = _table;
            s["Calcom:ApiKey"] = FakeCalcomApi.ApiKey;
            s["Calcom:ApiBaseUrl"] = _api.BaseUrl.ToString();
            s["Calcom:RetryDelay"] = "00:00:00.020";
            // The first transient failure dead-letters, as 24 h of failures would.
            s["Queue:TransientRetryFor"] = "00:00:00";
        }, s =>
        {
            s.AddSingleton<HttpPipelinePolicy>(_counter);
            s.AddSingleton<HttpPipelinePolicy>(_faults);
        });

    public async Task DisposeAsync()
    {
        await Storage.Appointments.DeleteAsync();
        await _app.DisposeAsync();
        await _api.DisposeAsync();
    }

    private StorageClients Storage => _app.Get<StorageClients>();
    private AppointmentTableStore Store => _app.Get<AppointmentTableStore>();
    private TableClient Table => Storage.Appointments;

    private static byte[] Created => Examples.Calcom("booking_created_web.json");

    /// <summary>Another booking of the same staff member (Dr. Anna Schmidt) at 09:15–09:45, overlapping the example's 09:00–09:30.</summary>
    private static byte[] Overlapping(string uid, string bookingId) => BodyRewrite.Rewrite(Created, (Erased, uid),
        ("2026-01-27T09:00:00Z", "2026-01-27T09:15:00Z"), ("2026-01-27T09:30:00Z", "2026-01-27T09:45:00Z"), ("4567890", bookingId),
        ("Max Mustermann", "Erika Partner " + bookingId), ("max.mustermann@example.com", $"erika.{bookingId}@example.com"), ("+4915112345678", "+49151" + bookingId));

    private static byte[] Cancelled => ExampleBodies.Retrigger(Created, CalcomTriggers.BookingCancelled, "2026-01-21T08:00:00.000Z");

    /// <summary>Queues a body as the HTTP function does and applies every queued message as the queue function would.</summary>
    private async Task DeliverAsync(byte[] body)
    {
        var response = await WebhookCall.PostSignedAsync(_app, body);
        Assert.Equal(202, response.StatusCode);
        await DrainAsync();
    }

    private async Task<int> DrainAsync()
    {
        var function = _app.Get<ApplyCalcomEventFunction>();
        var applied = 0;
        while ((await Storage.WebhookQueue.ReceiveMessagesAsync(32, TimeSpan.FromMinutes(1))).Value is { Length: > 0 } messages)
        {
            foreach (var m in messages)
            {
                await function.ApplyCalcomEvent(m, CancellationToken.None);
                await Storage.WebhookQueue.DeleteMessageAsync(m.MessageId, m.PopReceipt);
                applied++;
            }
        }

        return applied;
    }

    private async Task<int> DeadLettersAsync() => (await Storage.DeadLetterQueue.PeekMessagesAsync(32)).Value.Length;

    private async Task<List<TableEntity>> RowsAsync() =>
        await Table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {E.PartitionKey}")).ToListAsync();

    private async Task<TableEntity?> RowAsync(string key) =>
        (await Table.GetEntityIfExistsAsync<TableEntity>(E.PartitionKey, key)) is { HasValue: true } r ? r.Value : null;

    private static async Task<WebhookResponse> EraseCallAsync(TestApp app, string? body)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "POST";
        context.Request.Body = new MemoryStream(Encoding.UTF8.GetBytes(body ?? ""));
        using var response = new MemoryStream();
        context.Response.Body = response;
        var result = await app.Get<ErasureFunction>().EraseBooking(context.Request, CancellationToken.None);
        await result.ExecuteResultAsync(new Microsoft.AspNetCore.Mvc.ActionContext(context, new RouteData(), new ActionDescriptor()));
        return new WebhookResponse(context.Response.StatusCode, context.Response.Headers, context.Response.ContentType ?? "", Encoding.UTF8.GetString(response.ToArray()));
    }

    private async Task<WebhookResponse> EraseAsync(string uid = Erased)
    {
        var response = await EraseCallAsync(_app, $"{{\"uid\":\"{uid}\"}}");
        Assert.True(response.StatusCode == 200, response.ToString());
        return response;
    }

    /// <summary>No row of the table holds the erased uid, its customer or its appointment id; its tombstone holds none of them.</summary>
    private async Task AssertGoneAsync(string appointmentId)
    {
        foreach (var row in await RowsAsync())
        {
            var text = string.Join('|', row.Select(kv => kv.Key + "=" + kv.Value));
            Assert.DoesNotContain(Erased, text, StringComparison.Ordinal);
            Assert.DoesNotContain("max.mustermann", text, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("Mustermann", text, StringComparison.Ordinal);
            Assert.DoesNotContain("4915112345678", text, StringComparison.Ordinal);
            Assert.DoesNotContain(appointmentId, text, StringComparison.Ordinal);
        }

        Assert.Null(await Store.FindByUidAsync(Erased, CancellationToken.None));
        Assert.NotNull(await Store.ErasedAtAsync(Erased, CancellationToken.None));
    }

    [Fact]
    public async Task Erasure_removes_the_rows_the_calendar_range_and_the_partner_flag_and_an_overlapping_booking_then_applies_at_once()
    {
        await DeliverAsync(Created);
        await DeliverAsync(Overlapping(Partner, "4567901"));
        var erased = (await Store.FindByUidAsync(Erased, CancellationToken.None))!.Record.AppointmentId;
        var partner = (await Store.FindByUidAsync(Partner, CancellationToken.None))!;
        Assert.Equal([erased], partner.ConflictsWith);

        var response = await EraseAsync();

        Assert.Equal("erased", response.Status);
        Assert.Equal([erased], response.Json.GetProperty("appointmentIds").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal((1, 1, 1), (response.Json.GetProperty("calendarsUpdated").GetInt32(), response.Json.GetProperty("partnersUpdated").GetInt32(), response.Json.GetProperty("tombstones").GetInt32()));
        Assert.Equal(2, response.Json.GetProperty("rowsDeleted").GetInt32()); // apt_ and uid_
        Assert.DoesNotContain(Erased, response.Text, StringComparison.Ordinal);
        await AssertGoneAsync(erased);
        partner = (await Store.FindByUidAsync(Partner, CancellationToken.None))!;
        Assert.Empty(partner.ConflictsWith);
        Assert.False((await RowAsync(E.AppointmentKey(partner.Record.AppointmentId)))!.GetBoolean("HasConflict"));
        var calendar = E.RangesOf((await RowAsync(E.StaffRowKey(partner.Record.StaffKey!)))!);
        Assert.Equal([partner.Record.AppointmentId], calendar.Select(r => r.AppointmentId));

        // A third booking over both: applied in one transaction, flagged with the partner only, nothing retried or dead-lettered.
        _counter.Reset();
        await DeliverAsync(Overlapping(Later, "4567902"));
        Assert.Equal(1, _counter.Requests.Count(r => r.StartsWith("table POST", StringComparison.Ordinal) && r.EndsWith("$batch", StringComparison.Ordinal)));
        var later = (await Store.FindByUidAsync(Later, CancellationToken.None))!;
        Assert.Equal([partner.Record.AppointmentId], later.ConflictsWith);
        Assert.Equal(0, await DeadLettersAsync());
        Assert.DoesNotContain(_app.Logs.Lines, l => l.Contains("lost a race", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_partner_whose_rows_were_deleted_by_hand_is_dropped_from_the_calendar_at_once_not_retried_as_contention()
    {
        // SECURITY.md's old manual steps: delete apt_ and uid_ rows, leave the staff calendar listing the booking's uids.
        await DeliverAsync(Created);
        await DeliverAsync(Overlapping(Partner, "4567901"));
        var gone = (await Store.FindByUidAsync(Erased, CancellationToken.None))!.Record.AppointmentId;
        await Table.DeleteEntityAsync(E.PartitionKey, E.AppointmentKey(gone));
        await Table.DeleteEntityAsync(E.PartitionKey, E.UidKey(Erased));

        _counter.Reset();
        await DeliverAsync(Overlapping(Later, "4567902"));

        // One transaction met the gone row (404), the next dropped its range: two in all, not 25 contention retries.
        Assert.Equal(2, _counter.Requests.Count(r => r.StartsWith("table POST", StringComparison.Ordinal) && r.EndsWith("$batch", StringComparison.Ordinal)));
        Assert.Equal(0, await DeadLettersAsync());
        var later = (await Store.FindByUidAsync(Later, CancellationToken.None))!;
        var partner = (await Store.FindByUidAsync(Partner, CancellationToken.None))!;
        Assert.Equal([partner.Record.AppointmentId], later.ConflictsWith);
        Assert.Equal([later.Record.AppointmentId], partner.ConflictsWith);
        var calendar = E.RangesOf((await RowAsync(E.StaffRowKey(partner.Record.StaffKey!)))!);
        Assert.DoesNotContain(calendar, r => r.AppointmentId == gone);
        Assert.Contains(_app.Logs.Lines, l => l.Contains("[4201]", StringComparison.Ordinal) || l.Contains("rows are gone", StringComparison.Ordinal));
        Assert.DoesNotContain(_app.Logs.Lines, l => l.Contains("lost a race", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_later_webhook_for_an_erased_booking_is_acknowledged_and_dropped_not_dead_lettered()
    {
        await DeliverAsync(Created);
        var id = (await Store.FindByUidAsync(Erased, CancellationToken.None))!.Record.AppointmentId;
        await EraseAsync();

        await DeliverAsync(Cancelled);
        // An exact re-send of the create that reaches another instance (which never saw it) is queued, and dropped when applied.
        await using (var other = NewApp())
        {
            Assert.Equal(202, (await WebhookCall.PostSignedAsync(other, Created)).StatusCode);
        }

        Assert.Equal(1, await DrainAsync());

        await AssertGoneAsync(id);
        Assert.Equal(0, await DeadLettersAsync());
        Assert.Equal(2, _app.Logs.Lines.Count(l => l.Contains("dropped: the booking was erased", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Erasure_deletes_the_dead_letters_that_hold_the_booking_and_a_replay_of_one_written_later_brings_nothing_back()
    {
        await DeliverAsync(Created);
        var id = (await Store.FindByUidAsync(Erased, CancellationToken.None))!.Record.AppointmentId;
        // A cancel dead-lettered during a table outage, and a dead letter of someone else that must stay.
        await DeadLetterDuringOutageAsync(Cancelled);
        await DeadLetterDuringOutageAsync(Overlapping(Partner, "4567901"));
        Assert.Equal(2, await DeadLettersAsync());

        var response = await EraseAsync();
        Assert.Equal(1, response.Json.GetProperty("deadLettersDeleted").GetInt32());
        Assert.Equal(1, await DeadLettersAsync());

        // A delivery of the erased booking dead-lettered after the erasure (an outage then), replayed by an operator.
        await DeadLetterDuringOutageAsync(ExampleBodies.Retrigger(Created, CalcomTriggers.BookingCancelled, "2026-01-22T08:00:00.000Z"));
        Assert.Equal(2, await DeadLettersAsync());
        var replay = await OperatorCall.ReplayAsync(_app, "max=10");
        Assert.Equal(200, replay.StatusCode);
        Assert.Equal((1, 1), (replay.Json.GetProperty("moved").GetInt32(), replay.Json.GetProperty("dropped").GetInt32()));
        Assert.Equal(0, await DeadLettersAsync());
        Assert.Equal(1, await DrainAsync()); // the partner's, not the erased booking's

        await AssertGoneAsync(id);
        Assert.NotNull(await Store.FindByUidAsync(Partner, CancellationToken.None));
        Assert.Equal(0, await DeadLettersAsync());
    }

    /// <summary>Queues a body as the HTTP function does, then lets the processor fail on it with the table "down": a dead letter.</summary>
    private async Task DeadLetterDuringOutageAsync(byte[] body)
    {
        var response = await WebhookCall.PostSignedAsync(_app, body);
        Assert.Equal(202, response.StatusCode);
        var message = (await Storage.WebhookQueue.ReceiveMessageAsync()).Value;
        _faults.Fault = (service, _) => FaultPolicy.ServerBusy("table", service);
        try
        {
            Assert.Null(await _app.Get<CalcomEventProcessor>().ProcessAsync(message.Body, message.MessageId, message.DequeueCount, CancellationToken.None));
        }
        finally
        {
            _faults.Fault = null;
        }

        await Storage.WebhookQueue.DeleteMessageAsync(message.MessageId, message.PopReceipt);
    }

    [Fact]
    public async Task A_reconciliation_pass_whose_Calcom_still_lists_the_erased_booking_queues_nothing_and_dead_letters_nothing()
    {
        var changed = DateTimeOffset.UtcNow.AddHours(-1);
        _api.Upsert(FakeCalcomApi.Booking(Erased, Web, changed, "accepted", location: "Hauptstraße 12, 10115 Berlin"));
        await DeliverAsync(Created);
        var id = (await Store.FindByUidAsync(Erased, CancellationToken.None))!.Record.AppointmentId;
        await EraseAsync();

        var pass = await _app.Get<Reconciler>().RunScheduledAsync(CancellationToken.None);
        Assert.Equal("completed", pass.Outcome);
        Assert.Equal(0, pass.Enqueued);
        Assert.Equal(0, await DrainAsync());
        var onDemand = await _app.Get<Reconciler>().RunAsync(changed.AddMinutes(-1), changed.AddMinutes(1), CancellationToken.None);
        Assert.Equal(0, onDemand.Enqueued);
        Assert.Equal(0, await DrainAsync());

        await AssertGoneAsync(id);
        Assert.Equal(0, await DeadLettersAsync());
    }

    [Fact]
    public async Task The_endpoint_takes_the_uid_in_the_body_needs_a_function_key_and_answers_errors_in_the_house_format()
    {
        var method = typeof(ErasureFunction).GetMethod(nameof(ErasureFunction.EraseBooking))!;
        var trigger = method.GetParameters()[0].GetCustomAttributes(typeof(Microsoft.Azure.Functions.Worker.HttpTriggerAttribute), false)
            .Cast<Microsoft.Azure.Functions.Worker.HttpTriggerAttribute>().Single();
        Assert.Equal(Microsoft.Azure.Functions.Worker.AuthorizationLevel.Function, trigger.AuthLevel);
        Assert.Equal("ops/erase", trigger.Route);
        Assert.Equal(["post"], trigger.Methods ?? []);
        Assert.DoesNotContain("{uid}", trigger.Route, StringComparison.Ordinal); // telemetry records request URLs

        var unknown = await EraseCallAsync(_app, "{\"uid\":\"zzNeverSeen00000000001\"}");
        Assert.Equal((404, "unknown_uid"), (unknown.StatusCode, unknown.ErrorCode));
        Assert.Equal("error", unknown.Status);
        Assert.Contains(UidPseudonym.Of("zzNeverSeen00000000001"), unknown.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("zzNeverSeen00000000001", unknown.Text, StringComparison.Ordinal);
        Assert.Null(await Store.ErasedAtAsync("zzNeverSeen00000000001", CancellationToken.None)); // nothing written

        Assert.Equal((400, "invalid_body"), ((await EraseCallAsync(_app, null)).StatusCode, (await EraseCallAsync(_app, null)).ErrorCode));
        Assert.Equal((400, "invalid_body"), ((await EraseCallAsync(_app, "{\"uid\":")).StatusCode, (await EraseCallAsync(_app, "{\"uid\":")).ErrorCode));
        Assert.Equal("invalid_body", (await EraseCallAsync(_app, "{}")).ErrorCode);
        Assert.Equal("invalid_body", (await EraseCallAsync(_app, "{\"uid\":\"" + new string('a', 5000) + "\"}")).ErrorCode);
        Assert.Equal((400, "invalid_uid"), ((await EraseCallAsync(_app, "{\"uid\":\"a%2Fb\"}")).StatusCode, (await EraseCallAsync(_app, "{\"uid\":\"a%2Fb\"}")).ErrorCode));

        // Twice is harmless: the second run finds the tombstone and says so.
        await DeliverAsync(Created);
        Assert.Equal("erased", (await EraseAsync()).Status);
        var again = await EraseAsync();
        Assert.Equal("already_erased", again.Status);
        Assert.Equal(0, again.Json.GetProperty("rowsDeleted").GetInt32());
    }

    [Fact]
    public async Task A_seated_booking_shared_with_other_customers_is_erased_only_with_allSeats_and_then_every_row_goes()
    {
        var slot = new SeatedBooking("zzEraseSeated000000001", 7_700_001, Web, Web.AddMinutes(30));
        var ann = new SeatPerson("Ann Seat", "ann.seat@example.com", "+4930111111");
        var bob = new SeatPerson("Bob Seat", "bob.seat@example.com", "+4930222222");
        await DeliverAsync(SeatBodies.SeatBooked(SeatBodies.Anna, slot, ann, Web.AddDays(-5), "seatref-ann"));
        await DeliverAsync(SeatBodies.SeatBooked(SeatBodies.Anna, slot, bob, Web.AddDays(-4), "seatref-bob"));
        Assert.Equal(2, (await Store.FindByUidAsync(slot.Uid, CancellationToken.None))!.Seats.Count);

        var refused = await EraseCallAsync(_app, $"{{\"uid\":\"{slot.Uid}\"}}");
        Assert.Equal((409, "shared_seats"), (refused.StatusCode, refused.ErrorCode));
        Assert.NotNull(await Store.FindByUidAsync(slot.Uid, CancellationToken.None));
        Assert.Null(await Store.ErasedAtAsync(slot.Uid, CancellationToken.None));

        var erased = await EraseCallAsync(_app, $"{{\"uid\":\"{slot.Uid}\",\"allSeats\":true}}");
        Assert.Equal(200, erased.StatusCode);
        Assert.Null(await Store.FindByUidAsync(slot.Uid, CancellationToken.None));
        foreach (var row in await RowsAsync())
        {
            var text = string.Join('|', row.Select(kv => kv.Key + "=" + kv.Value));
            Assert.DoesNotContain(slot.Uid, text, StringComparison.Ordinal);
            Assert.DoesNotContain("Seat", text, StringComparison.Ordinal);
            Assert.DoesNotContain("@example.com", text, StringComparison.Ordinal);
        }

        // Another seat booked in the erased slot later is dropped, not written.
        var cy = new SeatPerson("Cy Seat", "cy.seat@example.com", "+4930333333");
        await DeliverAsync(SeatBodies.SeatBooked(SeatBodies.Anna, slot, cy, Web.AddDays(-3), "seatref-cy"));
        Assert.Null(await Store.FindByUidAsync(slot.Uid, CancellationToken.None));
        Assert.Equal(0, await DeadLettersAsync());
    }

    [Fact]
    public async Task Two_seats_whose_emails_differ_only_in_letter_case_are_two_customers_so_erasing_needs_allSeats()
    {
        // Cal.com compares seat e-mails exactly: these are two people, and erasing one must not take the other's seat.
        var slot = new SeatedBooking("zzEraseSeatedCase00001", 7_700_002, Web, Web.AddMinutes(30));
        var lower = new SeatPerson("Ida Klein", "ida.case@example.com", "+4930444444");
        var upper = new SeatPerson("Ida Gross", "Ida.Case@example.com", "+4930555555");
        await DeliverAsync(SeatBodies.SeatBooked(SeatBodies.Anna, slot, lower, Web.AddDays(-5), "seatref-lower"));
        await DeliverAsync(SeatBodies.SeatBooked(SeatBodies.Anna, slot, upper, Web.AddDays(-4), "seatref-upper"));
        Assert.Equal(2, (await Store.FindByUidAsync(slot.Uid, CancellationToken.None))!.Seats.Count);

        var refused = await EraseCallAsync(_app, $"{{\"uid\":\"{slot.Uid}\"}}");

        Assert.Equal((409, "shared_seats"), (refused.StatusCode, refused.ErrorCode));
        Assert.Equal(2, (await Store.FindByUidAsync(slot.Uid, CancellationToken.None))!.Seats.Count);
        Assert.Null(await Store.ErasedAtAsync(slot.Uid, CancellationToken.None));
    }

    [Fact]
    public async Task The_command_line_erases_on_the_storage_account_directly_and_through_a_running_local_host()
    {
        await DeliverAsync(Created);
        await DeliverAsync(Overlapping(Partner, "4567901"));
        var directory = Directory.CreateTempSubdirectory("askpro-erase-").FullName;
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
                    ["Appointments__TableName"] = Table.Name,
                    ["ReconciliationSchedule"] = "0 */10 * * * *",
                },
            }));

            async Task<(int Code, string Out, string Err)> Run(string stdin, params string[] args)
            {
                using var output = new StringWriter();
                using var error = new StringWriter();
                var code = await AskPro.LocalHost.EraseCommand.RunAsync(args, new StringReader(stdin), output, error);
                return (code, output.ToString(), error.ToString());
            }

            var help = await Run("", "--help");
            Assert.Equal(0, help.Code);
            Assert.Contains("Exit codes", help.Out, StringComparison.Ordinal);
            Assert.Equal(2, (await Run("", "--settings", settings)).Code); // no uid
            Assert.Equal(2, (await Run("", "--bogus")).Code);

            // Straight on storage, the uid read from standard input (out of shell history and the process list).
            var direct = await Run(Erased + "\n", "-", "--settings", settings);
            Assert.True(direct.Code == 0, direct.Err);
            Assert.Contains("\"erased\"", direct.Out, StringComparison.Ordinal);
            Assert.DoesNotContain(Erased, direct.Out + direct.Err, StringComparison.Ordinal);
            Assert.Null(await Store.FindByUidAsync(Erased, CancellationToken.None));
            Assert.Equal(1, (await Run("zzNeverSeen00000000002", "zzNeverSeen00000000002", "--settings", settings)).Code);

            // Through the local host's endpoint (what tools/run-local.sh starts), over a real socket.
            await using var host = AskPro.LocalHost.LocalFunctionsHost.Build(["--settings", settings, "--hostjson", Queueing.QueueListenerHarness.HostJsonPath,
                "--urls", "http://127.0.0.1:0", "--Logging:LogLevel:Default", "Warning"]);
            await host.StartAsync();
            var address = host.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>()
                .Features.Get<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>()!.Addresses.Single();
            var overHttp = await Run("", Partner, "--url", address);
            Assert.True(overHttp.Code == 0, overHttp.Err);
            Assert.Contains("\"erased\"", overHttp.Out, StringComparison.Ordinal);
            Assert.Null(await Store.FindByUidAsync(Partner, CancellationToken.None));
            var unknown = await Run("", "zzNeverSeen00000000003", "--url", address);
            Assert.Equal(1, unknown.Code);
            Assert.Contains("unknown_uid", unknown.Err, StringComparison.Ordinal);
            await host.StopAsync();
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
    [Fact]
    public async Task Any_uid_of_a_rescheduled_chain_erases_every_uid_of_it_and_a_later_cancel_of_the_new_uid_is_dropped()
    {
        const string original = "Qm7ZtXo4Lp2WcN9vR1sK6e", rescheduled = "Tz8cYw3RbN6kLq1PmV5xHd";
        await DeliverAsync(Examples.Calcom("booking_created_api_metadata.json"));
        await DeliverAsync(Examples.Calcom("booking_rescheduled.json"));
        var id = (await Store.FindByUidAsync(rescheduled, CancellationToken.None))!.Record.AppointmentId;

        var response = await EraseAsync(original);

        Assert.Equal((2, 3), (response.Json.GetProperty("tombstones").GetInt32(), response.Json.GetProperty("rowsDeleted").GetInt32()));
        Assert.Null(await Store.FindByUidAsync(original, CancellationToken.None));
        Assert.Null(await Store.FindByUidAsync(rescheduled, CancellationToken.None));
        Assert.NotNull(await Store.ErasedAtAsync(rescheduled, CancellationToken.None));
        await DeliverAsync(Examples.Calcom("booking_cancelled.json"));
        Assert.Null(await Store.FindByUidAsync(rescheduled, CancellationToken.None));
        Assert.DoesNotContain(await RowsAsync(), r => string.Join('|', r.Select(kv => kv.Value)).Contains(id, StringComparison.Ordinal)
            || r.RowKey.Contains(original, StringComparison.Ordinal) || r.RowKey.Contains(rescheduled, StringComparison.Ordinal));
        Assert.Equal(0, await DeadLettersAsync());
    }

    [Fact]
    public async Task A_large_delivery_still_queued_is_erased_with_its_claim_check_and_then_completes_without_a_dead_letter()
    {
        var node = JsonNode.Parse(Created)!;
        node["payload"]!["responses"]!["padding"] = new string('x', 60_000);
        var large = Encoding.UTF8.GetBytes(node.ToJsonString());
        Assert.Equal(202, (await WebhookCall.PostSignedAsync(_app, large)).StatusCode);

        var response = await EraseAsync();

        Assert.Equal((1, 1), (response.Json.GetProperty("bodiesDeleted").GetInt32(), response.Json.GetProperty("tombstones").GetInt32()));
        Assert.Empty(await Storage.BodyContainer.GetBlobsAsync().Where(b => !b.Name.Contains('/', StringComparison.Ordinal)).ToListAsync());
        Assert.Equal(1, await DrainAsync());
        Assert.Null(await Store.FindByUidAsync(Erased, CancellationToken.None));
        Assert.Equal(0, await DeadLettersAsync());
    }
}
