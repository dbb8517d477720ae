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
    private const string Unresolved = "@Microsoft.KeyVault(VaultName=kv-askpro;SecretName=askpro-metadata-key)";
    // booking_created_api_metadata.json's event type and start: the booking AskPro signed for.
    private const long EventType = 1234568;
    private static readonly DateTimeOffset Start = DateTimeOffset.Parse("2026-01-28T14:00:00Z", System.Globalization.CultureInfo.InvariantCulture);

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
        var (record, row, outcome) = await ApplyAsync(AskProMetadataMode.Enforce, AskProMetadataProof.Sign(AskProId, null, EventType, Start, Key));

        Assert.Equal(ApplyOutcome.Skipped, outcome);
        Assert.Equal(AskProId, record.AskProAppointmentId);
        Assert.True(record.IsInternal);
        Assert.False(record.AskProMetadataUnproven);
        Assert.False(row.GetBoolean("AskProMetadataUnproven"));
    }

    [Fact]
    public async Task A_signature_over_other_ids_does_not_prove_these()
    {
        var (record, _, _) = await ApplyAsync(AskProMetadataMode.Enforce, AskProMetadataProof.Sign("apt_someone_else", null, EventType, Start, Key));

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

    [Fact]
    public void The_canonical_text_is_the_documented_one()
    {
        Assert.Equal("askpro-metadata-v2\napt_7f3c2a91\n42\n1234568\n2026-01-28T14:00:00Z",
            AskProMetadataProof.Canonical(AskProId, "42", EventType, DateTimeOffset.Parse("2026-01-28T15:00:00.000+01:00", System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Equal("askpro-metadata-v2\n\n\n\n", AskProMetadataProof.Canonical(null, null, null, null));
    }

    [Theory]
    [InlineData("\"startTime\": \"2026-01-28T14:00:00Z\"", "\"startTime\": \"2026-01-28T13:40:00Z\"")]
    [InlineData("\"eventTypeId\": 1234568", "\"eventTypeId\": 7777777")]
    public async Task Enforced_a_proof_copied_onto_another_booking_is_rejected(string original, string other)
    {
        // A valid proof (the booker can read it in their own booking's metadata) pasted onto a booking at another time
        // or of another event type.
        var (record, _, outcome) = await ApplyAsync(AskProMetadataMode.Enforce, AskProMetadataProof.Sign(AskProId, null, EventType, Start, Key),
            edit: text => Replaced(text, original, other));

        Assert.Equal(ApplyOutcome.Created, outcome);
        Assert.Null(record.AskProAppointmentId);
        Assert.True(record.AskProMetadataUnproven);
    }

    [Fact]
    public async Task Enforced_a_reschedule_carrying_the_original_proof_is_proven_by_the_start_it_moved_from()
    {
        var (record, _, _) = await ApplyAsync(AskProMetadataMode.Enforce, AskProMetadataProof.Sign(AskProId, null, EventType, Start, Key), file: "booking_rescheduled.json");

        Assert.Equal(AskProId, record.AskProAppointmentId);
        Assert.False(record.AskProMetadataUnproven);
    }

    [Fact]
    public async Task Enforced_the_old_unbound_v1_proof_no_longer_verifies()
    {
        var v1 = Convert.ToHexStringLower(System.Security.Cryptography.HMACSHA256.HashData(Encoding.UTF8.GetBytes(Key), Encoding.UTF8.GetBytes($"askpro-metadata-v1\n{AskProId}\n")));

        var (record, _, _) = await ApplyAsync(AskProMetadataMode.Enforce, v1);

        Assert.Null(record.AskProAppointmentId);
    }

    [Fact]
    public async Task An_unresolved_key_reference_is_never_an_HMAC_key_and_the_app_starts_with_verification_failing_closed()
    {
        // The reference's text is public (it is in the ARM template): were it used as the key, anyone could sign.
        var forged = AskProMetadataProof.Sign(AskProId, null, EventType, Start, Unresolved);

        var (record, _, _) = await ApplyAsync(AskProMetadataMode.Enforce, forged, key: Unresolved, started: app =>
        {
            Assert.True(app.Get<AskProMetadataKeyCheck>().Report());
            Assert.Contains(app.Logs.Lines, l => l.StartsWith("Error", StringComparison.Ordinal) && l.Contains("[6010]", StringComparison.Ordinal)
                && l.Contains("AskProMetadata__Keys__0 is not used: it is an unresolved Key Vault reference", StringComparison.Ordinal));
            Assert.Contains(app.Logs.Lines, l => l.StartsWith("Error", StringComparison.Ordinal) && l.Contains("[6011]", StringComparison.Ordinal));
            Assert.DoesNotContain(app.Logs.Lines, l => l.Contains("kv-askpro", StringComparison.Ordinal));
        });

        Assert.Null(record.AskProAppointmentId);
        Assert.True(record.AskProMetadataUnproven);
    }

    [Fact]
    public async Task A_short_key_is_left_out_loudly_while_the_other_key_verifies()
    {
        var (record, _, _) = await ApplyAsync(AskProMetadataMode.Enforce, AskProMetadataProof.Sign(AskProId, null, EventType, Start, Key), extraKey: "short-key", started: app =>
        {
            Assert.False(app.Get<AskProMetadataKeyCheck>().Report());
            Assert.Contains(app.Logs.Lines, l => l.Contains("[6010]", StringComparison.Ordinal) && l.Contains("AskProMetadata__Keys__1 is not used: it is shorter than 32", StringComparison.Ordinal));
            Assert.DoesNotContain(app.Logs.Lines, l => l.Contains("short-key", StringComparison.Ordinal));
        });

        Assert.Equal(AskProId, record.AskProAppointmentId);
    }

    private static string Replaced(string text, string from, string to)
    {
        Assert.Contains(from, text, StringComparison.Ordinal);
        return text.Replace(from, to, StringComparison.Ordinal);
    }

    private async Task<(Appointment Record, TableEntity Row, ApplyOutcome Outcome)> ApplyAsync(AskProMetadataMode mode, string? signature,
        string file = "booking_created_api_metadata.json", Func<string, string>? edit = null, string key = Key, string? extraKey = null, Action<TestApp>? started = null)
    {
        var uid = "prf" + Guid.NewGuid().ToString("N")[..19];
        var text = Encoding.UTF8.GetString(Examples.Calcom(file)).Replace("Qm7ZtXo4Lp2WcN9vR1sK6e", uid, StringComparison.Ordinal);
        text = edit?.Invoke(text) ?? text;
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
            s["AskProMetadata:Keys:0"] = key;
            s["AskProMetadata:Keys:1"] = extraKey;
        });
        app.Get<IStartupValidator>().Validate();
        started?.Invoke(app);
        var body = Encoding.UTF8.GetBytes(text);
        var read = CalcomWebhookReader.Read(body).Event!;
        var envelope = new WebhookEnvelope(1, WebhookQueue.DeliveryIdOf(body), DateTimeOffset.UtcNow, read.TriggerEvent, read.Uid, null, body.Length, text, null);
        var result = await app.Get<CalcomEventProcessor>().ProcessAsync(new BinaryData(envelope.ToUtf8()), "m1", 1, CancellationToken.None);
        Assert.NotNull(result);
        var stored = await app.Get<AppointmentTableStore>().FindByUidAsync(read.Uid, CancellationToken.None);
        var row = (await app.Get<StorageClients>().Appointments.GetEntityAsync<TableEntity>(AppointmentEntities.PartitionKey, AppointmentEntities.UidKey(read.Uid))).Value;
        return (stored!.Record, row, result.Outcome);
    }
}
