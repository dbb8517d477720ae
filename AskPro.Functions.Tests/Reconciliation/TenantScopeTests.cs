using System.Text;
using System.Text.Json;
using AskPro.Functions.Reconciliation;
using AskPro.Functions.Tenants;

namespace AskPro.Functions.Tests.Reconciliation;

/// <summary>Which bookings a tenant's pass may apply (docs/reconciliation.md#per-tenant), and the fan-out's message.</summary>
public sealed class TenantScopeTests
{
    private static Tenant Tenant(long[]? eventTypes = null, long? team = null) =>
        new() { Id = "acme", EventTypeIds = eventTypes ?? [], TeamId = team };

    private static CalcomApiBooking Booking(string json) =>
        JsonSerializer.Deserialize<CalcomApiBooking>(json) ?? throw new InvalidOperationException(json);

    [Theory]
    [InlineData("""{"uid":"a","eventType":{"id":11,"slug":"x"}}""", ScopeMiss.None)]
    [InlineData("""{"uid":"a","eventTypeId":11}""", ScopeMiss.None)]
    [InlineData("""{"uid":"a","eventTypeId":11,"eventType":{"id":11}}""", ScopeMiss.None)]
    [InlineData("""{"uid":"a","eventType":{"id":12}}""", ScopeMiss.EventType)]
    [InlineData("""{"uid":"a","eventTypeId":12}""", ScopeMiss.EventType)]
    [InlineData("""{"uid":"a","eventTypeId":null,"eventType":null}""", ScopeMiss.NoEventType)]
    public void Event_type_scope_reads_both_shapes_and_refuses_a_booking_without_an_event_type(string json, ScopeMiss expected) =>
        Assert.Equal(expected, TenantScope.Check(Tenant([11, 13]), Booking(json)));

    [Theory]
    [InlineData("""{"uid":"a","eventType":{"id":11}}""", ScopeMiss.None)]
    [InlineData("""{"uid":"a","teamId":7}""", ScopeMiss.None)]
    [InlineData("""{"uid":"a","eventType":{"id":11,"teamId":7}}""", ScopeMiss.None)]
    [InlineData("""{"uid":"a","teamId":8}""", ScopeMiss.Team)]
    [InlineData("""{"uid":"a","eventType":{"id":11,"teamId":8}}""", ScopeMiss.Team)]
    public void Team_scope_refuses_a_booking_naming_another_team_and_leaves_an_unnamed_one_to_the_team_narrowed_query(string json, ScopeMiss expected) =>
        Assert.Equal(expected, TenantScope.Check(Tenant(team: 7), Booking(json)));

    [Fact]
    public void Both_scopes_must_hold()
    {
        var tenant = Tenant([11], team: 7);
        Assert.Equal(ScopeMiss.None, TenantScope.Check(tenant, Booking("""{"uid":"a","eventType":{"id":11,"teamId":7}}""")));
        Assert.Equal(ScopeMiss.Team, TenantScope.Check(tenant, Booking("""{"uid":"a","eventType":{"id":11,"teamId":9}}""")));
        Assert.Equal(ScopeMiss.EventType, TenantScope.Check(tenant, Booking("""{"uid":"a","eventType":{"id":12,"teamId":7}}""")));
    }

    [Fact]
    public void A_tenant_without_a_scope_declares_none()
    {
        Assert.False(Tenant().HasScope);
        Assert.Equal(ScopeMiss.None, TenantScope.Check(Tenant(), Booking("""{"uid":"a"}""")));
    }

    [Fact]
    public void An_account_names_its_key_by_a_hash_and_never_prints_it()
    {
        const string key = "cal_live_0123456789abcdef0123456789abcdef";
        var account = new CalcomAccount("acme", key, new Uri("https://api.cal.com"));

        Assert.DoesNotContain(key, account.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(key[9..], account.KeyId, StringComparison.Ordinal);
        Assert.Equal(account.KeyId, new CalcomAccount("beta", key, new Uri("https://other.example")).KeyId); // one key, one budget
        Assert.NotEqual(account.KeyId, new CalcomAccount("acme", key + "x", new Uri("https://api.cal.com")).KeyId);
        Assert.Equal("Tenants__acme__Calcom__ApiKey", account.KeySetting);
        Assert.Equal("Calcom__ApiKey", new CalcomAccount(TenantIds.Default, key, new Uri("https://api.cal.com")).KeySetting);
    }

    [Fact]
    public void A_tenant_account_uses_its_own_base_url_or_the_services()
    {
        var options = new CalcomApiOptions { ApiBaseUrl = new Uri("https://api.cal.com") };
        Assert.Null(CalcomAccount.Of(Tenant(), options));
        Assert.Equal(new Uri("https://api.cal.com"), CalcomAccount.Of(Tenant() with { ApiKey = "cal_x" }, options)!.BaseUrl);
        Assert.Equal(new Uri("https://cal.example/"), CalcomAccount.Of(Tenant() with { ApiKey = "cal_x", ApiBaseUrl = new Uri("https://cal.example/") }, options)!.BaseUrl);
    }

    [Theory]
    [InlineData("""{"v":1,"tenant":"acme","queuedAt":"2026-12-06T18:00:00Z"}""", "acme")]
    [InlineData("""{"v":1,"tenant":"default","queuedAt":"2026-12-06T18:00:00Z"}""", "default")]
    [InlineData("""{"v":2,"tenant":"acme","queuedAt":"2026-12-06T18:00:00Z"}""", null)]
    [InlineData("""{"v":1,"tenant":"Not A Tenant","queuedAt":"2026-12-06T18:00:00Z"}""", null)]
    [InlineData("""{"v":1,"queuedAt":"2026-12-06T18:00:00Z"}""", null)]
    [InlineData("""not json""", null)]
    public void A_fan_out_message_names_a_valid_tenant_or_is_unreadable(string json, string? tenant) =>
        Assert.Equal(tenant, ReconciliationRequest.TryParse(Encoding.UTF8.GetBytes(json))?.Tenant);

    [Fact]
    public void A_fan_out_message_round_trips()
    {
        var request = new ReconciliationRequest(ReconciliationRequest.CurrentVersion, "acme", new DateTimeOffset(2026, 12, 6, 18, 0, 0, TimeSpan.Zero));
        Assert.Equal(request, ReconciliationRequest.TryParse(request.ToUtf8()));
    }
}
