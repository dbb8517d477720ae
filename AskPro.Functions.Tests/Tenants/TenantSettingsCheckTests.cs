using AskPro.Functions.Tenants;

namespace AskPro.Functions.Tests.Tenants;

/// <summary>Configured tenants are checked one by one: a broken one is reported by setting name and never stops another.</summary>
public sealed class TenantSettingsCheckTests
{
    private const string GoodSecret = "praxis-a-secret-0123456789abcdef0123456789";
    private const string OtherSecret = "praxis-a-second-secret-abcdef0123456789abc";

    private static TenantSettings Settings(params string[] secrets)
    {
        var settings = new TenantSettings { CompanyId = "company-17" };
        settings.WebhookSecrets.AddRange(secrets);
        return settings;
    }

    [Fact]
    public void A_complete_tenant_is_served_with_its_keys_company_scope_and_api_key()
    {
        var settings = Settings(GoodSecret, OtherSecret);
        settings.Calcom.ApiKey = "cal_live_praxis_a";
        settings.Calcom.ApiBaseUrl = "http://127.0.0.1:5099";
        settings.EventTypeIds.AddRange(["101", "102"]);
        settings.TeamId = "7";

        var check = TenantSettingsCheck.Check("praxis-a", settings);

        Assert.Empty(check.Problems);
        var tenant = Assert.IsType<Tenant>(check.Tenant);
        Assert.Equal("praxis-a", tenant.Partition);
        Assert.Equal("company-17", tenant.CompanyId);
        Assert.Equal(2, tenant.SecretKeys.Count);
        Assert.Equal("cal_live_praxis_a", tenant.ApiKey);
        Assert.Equal(new Uri("http://127.0.0.1:5099"), tenant.ApiBaseUrl);
        Assert.Equal([101L, 102L], tenant.EventTypeIds);
        Assert.Equal(7L, tenant.TeamId);
        Assert.True(tenant.Enabled);
        Assert.True(tenant.HasScope);
    }

    [Fact]
    public void A_short_rotation_secret_is_left_out_by_name_and_the_other_still_verifies()
    {
        var check = TenantSettingsCheck.Check("praxis-a", Settings(GoodSecret, "short"));

        Assert.Single(check.Tenant!.SecretKeys);
        var problem = Assert.Single(check.Problems);
        Assert.StartsWith("Tenants__praxis-a__WebhookSecrets__1 ", problem, StringComparison.Ordinal);
        Assert.DoesNotContain("short", problem.Replace("shorter", "", StringComparison.Ordinal), StringComparison.Ordinal);
    }

    [Fact]
    public void A_tenant_whose_only_secret_is_an_unresolved_Key_Vault_reference_has_no_key_and_says_so_without_the_value()
    {
        const string reference = "@Microsoft.KeyVault(SecretUri=https://vault.vault.azure.net/secrets/praxis-a-webhook/)";

        var check = TenantSettingsCheck.Check("praxis-a", Settings(reference));

        Assert.Empty(check.Tenant!.SecretKeys);
        Assert.Equal(2, check.Problems.Count);
        Assert.All(check.Problems, p => Assert.DoesNotContain("vault.azure.net", p, StringComparison.Ordinal));
    }

    [Fact]
    public void An_unresolved_api_key_switches_only_reconciliation_off()
    {
        var settings = Settings(GoodSecret);
        settings.Calcom.ApiKey = "@Microsoft.KeyVault(SecretUri=https://v.vault.azure.net/secrets/k/)";

        var check = TenantSettingsCheck.Check("praxis-a", settings);

        Assert.Null(check.Tenant!.ApiKey);
        Assert.Single(check.Tenant.SecretKeys);
        Assert.Contains(check.Problems, p => p.StartsWith("Tenants__praxis-a__Calcom__ApiKey ", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("Praxis-A")]
    [InlineData("praxis.a")]
    [InlineData("default")]
    [InlineData("calcom")]
    [InlineData("reconciliation")]
    [InlineData("tenants")]
    [InlineData("a234567890123456789012345678901234567890x")]
    public void Ids_that_are_not_declarable_are_not_served(string id)
    {
        var check = TenantSettingsCheck.Check(id, Settings(GoodSecret));

        Assert.Null(check.Tenant);
        Assert.Single(check.Problems);
    }

    [Fact]
    public void A_scope_that_is_not_a_number_keeps_the_tenant_out_rather_than_widen_it()
    {
        var settings = Settings(GoodSecret);
        settings.EventTypeIds.Add("101,102");

        var check = TenantSettingsCheck.Check("praxis-a", settings);

        Assert.Null(check.Tenant);
        Assert.Contains("Tenants__praxis-a__EventTypeIds__0", Assert.Single(check.Problems), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("false", false)]
    [InlineData("False", false)]
    [InlineData("true", true)]
    [InlineData(null, true)]
    [InlineData("nein", false)]
    public void Enabled_is_read_strictly_and_anything_unclear_disables(string? value, bool enabled)
    {
        var settings = Settings(GoodSecret);
        settings.Enabled = value;

        Assert.Equal(enabled, TenantSettingsCheck.Check("praxis-a", settings).Tenant!.Enabled);
    }

    [Fact]
    public void The_default_tenant_keeps_the_partition_every_record_had_before_tenants()
    {
        Assert.Equal("calcom", TenantIds.PartitionOf(TenantIds.Default));
        Assert.Equal("calcom", TenantRows.Default.Partition);
        Assert.Equal("praxis-b", new TenantRows("praxis-b").Partition);
    }
}
