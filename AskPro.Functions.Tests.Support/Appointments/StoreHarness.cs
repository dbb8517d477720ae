using AskPro.Functions.Appointments;
using AskPro.Functions.Calcom;
using AskPro.Functions.Queueing;
using AskPro.Functions.Tests.Infrastructure;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;

namespace AskPro.Functions.Tests.Appointments;

/// <summary>The real app over Azurite with its own appointments table, applying bodies the way the queue function does.</summary>
public sealed class StoreHarness : IAsyncDisposable
{
    private StoreHarness(TestApp app, RequestCounter counter)
    {
        App = app;
        Counter = counter;
    }

    public TestApp App { get; }
    public RequestCounter Counter { get; }
    public AppointmentTableStore Store => App.Get<AppointmentTableStore>();
    public CalcomEventProcessor Processor => App.Get<CalcomEventProcessor>();
    public TableClient Table => App.Get<Storage.StorageClients>().Appointments;

    public static async Task<StoreHarness> CreateAsync(string connectionString, HttpPipelinePolicy? faults = null)
    {
        var counter = new RequestCounter();
        var table = "apt" + Guid.NewGuid().ToString("N")[..12];
        var app = TestApp.Create(connectionString, s => s["Appointments:TableName"] = table, s =>
        {
            s.AddSingleton<HttpPipelinePolicy>(counter);
            if (faults is not null)
            {
                s.AddSingleton(faults);
            }
        });
        var harness = new StoreHarness(app, counter);
        await harness.Store.EnsureCreatedAsync(CancellationToken.None);
        counter.Reset();
        return harness;
    }

    /// <summary>Applies one body through the queue processor (inline envelope, as the HTTP function writes it).</summary>
    public async Task<ApplyResult?> ApplyAsync(byte[] body, long dequeueCount = 1)
    {
        var read = CalcomWebhookReader.Read(body);
        Assert.True(read.Kind == WebhookKind.Booking, $"test body is not an applicable booking event: {string.Join("; ", read.Errors)}");
        var envelope = new WebhookEnvelope(WebhookEnvelope.CurrentVersion, WebhookQueue.DeliveryIdOf(body), DateTimeOffset.UtcNow,
            read.TriggerEvent!, read.Event!.Uid, read.Event.RescheduleUid, body.Length, System.Text.Encoding.UTF8.GetString(body), null);
        return await Processor.ProcessAsync(new BinaryData(envelope.ToUtf8()), "test-" + Guid.NewGuid().ToString("N"), dequeueCount, CancellationToken.None);
    }

    public async Task<StoredAppointment> RecordByUidAsync(string uid) =>
        await Store.FindByUidAsync(uid, CancellationToken.None) ?? throw new Xunit.Sdk.XunitException($"no record for uid {uid}");

    /// <summary>Every live appointment row (not merged redirects), checking that its stored columns match its facts.</summary>
    public async Task<Dictionary<string, StoredAppointment>> AppointmentsAsync()
    {
        var result = new Dictionary<string, StoredAppointment>(StringComparer.Ordinal);
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {AppointmentEntities.PartitionKey} and RowKey ge {AppointmentEntities.AppointmentPrefix} and RowKey lt {"apt`"}");
        await foreach (var row in Table.QueryAsync<TableEntity>(filter))
        {
            // Redirects, and a seated booking's slot and seat rows (derived, no event set: SeatStoreTests check them).
            if (row.GetString("RowType") is AppointmentEntities.RowTypeMerged or AppointmentEntities.RowTypeSlot or AppointmentEntities.RowTypeSeat)
            {
                continue;
            }

            var stored = AppointmentEntities.FromEntity(row);
            Assert.Equal(stored.Record.Status, row.GetString("Status"));
            Assert.Equal(stored.Record.CalcomUid, row.GetString("CalcomUid"));
            Assert.Equal(stored.Record.StartTime, row.GetDateTimeOffset("StartTime"));
            Assert.Equal(stored.HasConflict, row.GetBoolean("HasConflict"));
            // Every uid of the fact set (branches too) has a current row: same record, same facts, same conflicts.
            foreach (var uid in stored.Uids)
            {
                var uidRow = (await Table.GetEntityAsync<TableEntity>(AppointmentEntities.PartitionKey, AppointmentEntities.UidKey(uid))).Value;
                Assert.Equal(stored.Record.AppointmentId, uidRow.GetString("AppointmentId"));
                Assert.Equal(row.GetString("ConflictsWith"), uidRow.GetString("ConflictsWith"));
                Assert.Equal(row.GetInt32("EventCount"), uidRow.GetInt32("EventCount"));
            }

            result[stored.Record.AppointmentId] = stored;
        }

        return result;
    }

    public async ValueTask DisposeAsync()
    {
        await Table.DeleteAsync();
        await App.DisposeAsync();
    }
}
