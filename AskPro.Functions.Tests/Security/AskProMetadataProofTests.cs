using System.Text;
using AskPro.Functions.Appointments;
using AskPro.Functions.Security;
using AskPro.Functions.Calcom;
using AskPro.Functions.Queueing;
using AskPro.Functions.Storage;
using AskPro.Functions.Tests.Infrastructure;
using Azure.Data.Tables;
using Microsoft.Extensions.Options;

namespace AskPro.Functions.Tests.Security;

/// <summary>
/// AskPro ids in booking metadata are settable by anyone on a public booking page (<c>?metadata[askpro_appointment_id]=…</c>):
/// only a booking whose ids carry AskPro's HMAC is internal; with verification enforced the rest are external and flagged.
/// Applied through the real queue processor into a table on Azurite.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class AskProMetadataProofTests(AzuriteFixture azurite)
{
    private const string Key = "askpro-metadata-key-0123456789abcdef";
    private const string AskProId = "apt_7f3c2a91";

    [Fact]
    public async Task Enforced_spoofed_AskPro_ids_make_an_external_flagged_booking_that_links_to_nothing()
    {
        var (record, row, outcome) = await ApplyAsync(AskProMetadataMode.Enforce, signature: null);

        Assert.Equal(ApplyOutcome.Created, outcome); // not "skipped as already synced"
        Assert.Null(record.AskProAppointmentId);
        Assert.False(record.IsInternal);
        Assert.True(record.AskProMetadataUnproven);
        Assert.True(row.GetBoolean("AskProMetadataUnproven"));
        Assert.False(row.GetBoolean("IsInternal"));
    }

    [Theory]
    [InlineData("0000000000000000000000000000000000000000000000000000000000000000")]
    [InlineData("not-hex")]
    public async Task Enforced_a_wrong_signature_is_no_proof(string signature)
    {
        var (record, _, _) = await ApplyAsync(AskProMetadataMode.Enforce, signature);

        Assert.Null(record.AskProAppointmentId);
        Assert.True(record.AskProMetadataUnproven);
    }

    [Fact]
    public async Task Enforced_ids_signed_with_AskPros_key_are_internal()
    {
        var (record, row, outcome) = await ApplyAsync(AskProMetadataMode.Enforce, AskProMetadataProof.Sign(AskProId, null, Key));

        Assert.Equal(ApplyOutcome.Skipped, outcome);
        Assert.Equal(AskProId, record.AskProAppointmentId);
        Assert.True(record.IsInternal);
        Assert.False(record.AskProMetadataUnproven);
        Assert.False(row.GetBoolean("AskProMetadataUnproven"));
    }

    [Fact]
    public async Task A_signature_over_other_ids_does_not_prove_these()
    {
        var (record, _, _) = await ApplyAsync(AskProMetadataMode.Enforce, AskProMetadataProof.Sign("apt_someone_else", null, Key));

        Assert.Null(record.AskProAppointmentId);
    }

    [Fact]
    public async Task Report_keeps_unproven_ids_but_flags_the_record_for_the_roll_out()
    {
        var (record, _, _) = await ApplyAsync(AskProMetadataMode.Report, signature: null);

        Assert.Equal(AskProId, record.AskProAppointmentId);
        Assert.True(record.AskProMetadataUnproven);
    }

    [Fact]
    public async Task Enforce_without_a_key_stops_the_app_at_start()
    {
        await using var app = TestApp.Create(azurite.ConnectionString, s => s["AskProMetadata:Mode"] = "Enforce");

        var failure = Assert.Throws<OptionsValidationException>(() => app.Get<IStartupValidator>().Validate());
        Assert.Contains("AskProMetadata__Keys__0", failure.Message, StringComparison.Ordinal);
    }

    private async Task<(Appointment Record, TableEntity Row, ApplyOutcome Outcome)> ApplyAsync(AskProMetadataMode mode, string? signature)
    {
        var uid = "prf" + Guid.NewGuid().ToString("N")[..19];
        var text = Encoding.UTF8.GetString(Examples.Calcom("booking_created_api_metadata.json")).Replace("Qm7ZtXo4Lp2WcN9vR1sK6e", uid, StringComparison.Ordinal);
        if (signature is not null)
        {
            text = text.Replace($"\"askpro_appointment_id\": \"{AskProId}\"", $"\"askpro_appointment_id\": \"{AskProId}\", \"askpro_signature\": \"{signature}\"", StringComparison.Ordinal);
            Assert.Contains(signature, text, StringComparison.Ordinal);
        }

        var table = "apt" + Guid.NewGuid().ToString("N")[..12];
        await using var app = TestApp.Create(azurite.ConnectionString, s =>
        {
            s["Appointments:TableName"] = table;
            s["AskProMetadata:Mode"] = mode.ToString();
            s["AskProMetadata:Keys:0"] = Key;
        });
        var body = Encoding.UTF8.GetBytes(text);
        var read = CalcomWebhookReader.Read(body).Event!;
        var envelope = new WebhookEnvelope(1, WebhookQueue.DeliveryIdOf(body), DateTimeOffset.UtcNow, read.TriggerEvent, read.Uid, null, body.Length, text, null);
        var result = await app.Get<CalcomEventProcessor>().ProcessAsync(new BinaryData(envelope.ToUtf8()), "m1", 1, CancellationToken.None);
        Assert.NotNull(result);
        var stored = await app.Get<AppointmentTableStore>().FindByUidAsync(uid, CancellationToken.None);
        var row = (await app.Get<StorageClients>().Appointments.GetEntityAsync<TableEntity>(AppointmentEntities.PartitionKey, AppointmentEntities.UidKey(uid))).Value;
        return (stored!.Record, row, result.Outcome);
    }
}
