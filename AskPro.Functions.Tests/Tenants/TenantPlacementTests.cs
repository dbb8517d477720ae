using AskPro.Functions.Appointments;
using AskPro.Functions.Queueing;
using AskPro.Functions.Tenants;
using Azure.Data.Tables;
using static AskPro.Functions.Tests.Appointments.ExampleBodies;

namespace AskPro.Functions.Tests.Tenants;

/// <summary>Pure: where a tenant's rows go, what they name, and how a tenant's messages and gate keys are told apart.</summary>
public sealed class TenantPlacementTests
{
    private static readonly DateTimeOffset Now = new(2026, 1, 27, 8, 0, 0, TimeSpan.Zero);

    private static ApplyResult CreatedWithClaim() =>
        new AppointmentBook().Apply(Read(CalcomExample("booking_created_web")) with { CompanyId = "claimed-99" });

    [Fact]
    public void Every_row_of_a_tenants_plan_is_in_its_partition_and_record_rows_carry_its_company_with_the_claim_beside_it()
    {
        var plan = AppointmentWriter.Plan(CreatedWithClaim(), null, new RowsRead(), Now, new TenantRows("praxis-a", "company-17"));

        var rows = plan.Transactions.SelectMany(t => t).Select(a => (TableEntity)a.Entity).ToList();
        Assert.All(rows, r => Assert.Equal("praxis-a", r.PartitionKey));
        var records = rows.Where(r => r.ContainsKey("Status")).ToList();
        Assert.NotEmpty(records);
        Assert.All(records, r =>
        {
            Assert.Equal("praxis-a", r.GetString("TenantId"));
            Assert.Equal("company-17", r.GetString("CompanyId"));
            Assert.Equal("claimed-99", r.GetString("ClaimedCompanyId"));
        });
        Assert.All(rows.Where(r => !r.ContainsKey("Status")), r => Assert.False(r.ContainsKey("TenantId")));
    }

    [Fact]
    public void The_default_tenants_plan_stays_in_calcom_and_keeps_the_claimed_company_as_the_records_company()
    {
        var plan = AppointmentWriter.Plan(CreatedWithClaim(), null, new RowsRead(), Now);

        var rows = plan.Transactions.SelectMany(t => t).Select(a => (TableEntity)a.Entity).ToList();
        Assert.All(rows, r => Assert.Equal("calcom", r.PartitionKey));
        Assert.All(rows.Where(r => r.ContainsKey("Status")), r =>
        {
            Assert.Equal("default", r.GetString("TenantId"));
            Assert.Equal("claimed-99", r.GetString("CompanyId"));
            Assert.False(r.ContainsKey("ClaimedCompanyId"));
        });
    }

    [Fact]
    public void A_conflict_patch_moves_into_the_tenants_partition_and_gets_nothing_else()
    {
        var result = new ApplyResult(ApplyOutcome.Updated, "mine", AppointmentStatus.Confirmed, ["partner"], [])
        {
            Changes = new BookChanges { Partners = new Dictionary<string, ConflictUpdate> { ["partner"] = new(["mine"], ["u1"], null) } },
        };

        var plan = AppointmentWriter.Plan(result, null, new RowsRead(), Now, new TenantRows("praxis-a", "company-17"));

        Assert.All(Assert.Single(plan.Transactions), a =>
        {
            Assert.Equal(TableTransactionActionType.UpdateMerge, a.ActionType);
            Assert.Equal("praxis-a", a.Entity.PartitionKey);
            Assert.False(((TableEntity)a.Entity).ContainsKey("CompanyId"));
        });
    }

    [Fact]
    public void The_same_booking_in_two_tenants_takes_two_different_sets_of_gate_keys_and_the_default_keeps_its_own()
    {
        var e = Read(CalcomExample("booking_created_web"));

        var a = ApplyGate.KeysOf(new TenantRows("praxis-a"), e);
        var b = ApplyGate.KeysOf(new TenantRows("praxis-b"), e);

        Assert.Empty(a.Intersect(b));
        Assert.Equal(ApplyGate.KeysOf(e), ApplyGate.KeysOf(TenantRows.Default, e));
        Assert.Empty(a.Intersect(ApplyGate.KeysOf(e)));
    }

    [Fact]
    public void An_envelope_names_its_tenant_only_when_it_is_not_the_default_and_a_forged_tenant_id_is_not_an_envelope()
    {
        var envelope = new WebhookEnvelope(WebhookEnvelope.CurrentVersion, "abc", Now, "BOOKING_CREATED", "uid-1", null, 2, "{}", null) { Tenant = "praxis-a" };

        var read = WebhookEnvelope.Parse(envelope.ToUtf8());
        Assert.Equal("praxis-a", read.TenantId);
        Assert.Equal(TenantIds.Default, WebhookEnvelope.Parse((envelope with { Tenant = null }).ToUtf8()).TenantId);
        Assert.Throws<InvalidEnvelopeException>(() => WebhookEnvelope.Parse((envelope with { Tenant = "../calcom" }).ToUtf8()));
    }
}
