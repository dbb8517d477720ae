using System.Diagnostics;
using AskPro.Functions.Reconciliation;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AskPro.Functions.Tests.Reconciliation;

/// <summary>
/// The typed Cal.com API client as the app composes it (IHttpClientFactory + the resilience handler), against a
/// fake Cal.com API on a real loopback socket: headers, shapes, and what 429, 5xx, 401, 404 and a slow answer do.
/// </summary>
public sealed class CalcomApiClientTests : IAsyncLifetime
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 20, 9, 0, 0, TimeSpan.Zero);
    private FakeCalcomApi _api = null!;
    private ServiceProvider _services = null!;

    public async Task InitializeAsync()
    {
        _api = await FakeCalcomApi.StartAsync();
        _services = Compose(_api.BaseUrl);
    }

    public async Task DisposeAsync()
    {
        await _services.DisposeAsync();
        await _api.DisposeAsync();
    }

    internal static ServiceProvider Compose(Uri baseUrl, Action<Dictionary<string, string?>>? edit = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Calcom:ApiKey"] = FakeCalcomApi.ApiKey,
            ["Calcom:ApiBaseUrl"] = baseUrl.ToString(),
            // Short back-off and attempt timeout: the behaviour is the same, the tests are quick.
            ["Calcom:RetryDelay"] = "00:00:00.050",
            ["Calcom:AttemptTimeout"] = "00:00:02",
        };
        edit?.Invoke(settings);
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddCalcomApi(configuration);
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
    }

    private CalcomApiClient Client => _services.GetRequiredService<CalcomApiClient>();

    [Fact]
    public async Task Every_request_carries_the_2024_08_13_version_header_and_the_bearer_key()
    {
        _api.Upsert(FakeCalcomApi.Booking("k3VbP9qWm2xYc7RtL5nD8a", T0, T0));

        var page = await Client.ListAsync(new BookingQuery { AfterUpdatedAt = T0.AddMinutes(-5), BeforeUpdatedAt = T0.AddMinutes(5), SortByUpdatedAt = true }, CancellationToken.None);

        var booking = Assert.Single(page);
        Assert.Equal("k3VbP9qWm2xYc7RtL5nD8a", booking.Uid);
        Assert.Equal(T0, booking.Start);
        Assert.Equal(98765, Assert.Single(booking.Hosts!).Id);
        Assert.Equal("2024-08-13", _api.LastHeaders.Version);
        Assert.Equal("Bearer " + FakeCalcomApi.ApiKey, _api.LastHeaders.Authorization);
        var request = Assert.Single(_api.Requests);
        Assert.Contains("afterUpdatedAt=2026-01-20T08%3A55%3A00.000Z", request, StringComparison.Ordinal);
        Assert.Contains("sortUpdatedAt=asc", request, StringComparison.Ordinal);
        Assert.Contains("take=250", request, StringComparison.Ordinal);
        Assert.DoesNotContain("status=", request, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_429_waits_the_seconds_X_RateLimit_Reset_names_then_succeeds()
    {
        _api.Upsert(FakeCalcomApi.Booking("Qm7ZtXo4Lp2WcN9vR1sK6e", T0, T0));
        _api.Inject(FakeCalcomApi.TooManyRequests(resetSeconds: 1));
        var clock = Stopwatch.StartNew();

        var page = await Client.ListAsync(new BookingQuery { AfterStart = T0.AddDays(-1), BeforeEnd = T0.AddDays(1) }, CancellationToken.None);

        Assert.Single(page);
        Assert.Equal(2, _api.Requests.Count);
        // The retry's back-off is 50 ms here: waiting a whole second is the reset header's doing.
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(950), $"retried after {clock.ElapsedMilliseconds} ms, before the 1 s reset");
    }

    [Fact]
    public async Task A_429_blocking_the_key_longer_than_a_function_may_wait_goes_back_to_the_caller_with_the_reset()
    {
        _api.Inject(FakeCalcomApi.TooManyRequests(resetSeconds: 60));

        var failure = await Assert.ThrowsAsync<CalcomApiException>(() => Client.GetAsync("Qm7ZtXo4Lp2WcN9vR1sK6e", CancellationToken.None));

        Assert.Equal((429, TimeSpan.FromSeconds(60), true), (failure.Status, failure.RetryAfter, failure.IsTransient));
        Assert.Single(_api.Requests); // not waited out in-process
    }

    [Fact]
    public async Task The_limiters_wait_queue_is_bounded_and_a_request_beyond_it_fails_at_once_as_a_local_429()
    {
        await using var services = Compose(_api.BaseUrl, s => s["Calcom:RequestsPerMinute"] = "1");
        var client = services.GetRequiredService<CalcomApiClient>();
        await client.GetAsync("Qm7ZtXo4Lp2WcN9vR1sK6e", CancellationToken.None); // the minute's one permit
        using var stop = new CancellationTokenSource();
        var waiting = client.GetAsync("Qm7ZtXo4Lp2WcN9vR1sK6e", stop.Token); // the one place in the wait queue

        var failure = await Assert.ThrowsAsync<CalcomApiException>(() => client.GetAsync("Qm7ZtXo4Lp2WcN9vR1sK6e", CancellationToken.None));

        Assert.Equal((429, "local_rate_limit", true), (failure.Status, failure.ErrorCode, failure.IsTransient));
        Assert.NotNull(failure.RetryAfter);
        Assert.False(waiting.IsCompleted);
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        Assert.Single(_api.Requests);
    }

    [Fact]
    public async Task Server_errors_are_retried_with_back_off_and_then_succeed()
    {
        _api.Upsert(FakeCalcomApi.Booking("Hb2NwQ8kZr5TyL1mXc4Vp9", T0, T0));
        _api.Inject(FakeCalcomApi.ServerError(), FakeCalcomApi.ServerError());

        var page = await Client.ListAsync(new BookingQuery { AfterStart = T0.AddDays(-1), BeforeEnd = T0.AddDays(1) }, CancellationToken.None);

        Assert.Single(page);
        Assert.Equal(3, _api.Requests.Count);
    }

    [Fact]
    public async Task Server_errors_beyond_the_retry_budget_fail_with_the_status()
    {
        _api.Inject(Enumerable.Range(0, 10).Select(_ => FakeCalcomApi.ServerError()).ToArray());

        var failure = await Assert.ThrowsAsync<CalcomApiException>(() => Client.ListAsync(new BookingQuery(), CancellationToken.None));

        Assert.Equal(500, failure.Status);
        Assert.Equal(1 + _services.GetRequiredService<IOptions<CalcomApiOptions>>().Value.MaxRetries, _api.Requests.Count);
    }

    [Fact]
    public async Task A_401_is_not_retried_and_names_the_setting_without_the_key()
    {
        _api.Inject(FakeCalcomApi.Unauthorized());

        var failure = await Assert.ThrowsAsync<CalcomApiException>(() => Client.ListAsync(new BookingQuery(), CancellationToken.None));

        Assert.True(failure.IsAuthFailure);
        Assert.Equal("UnauthorizedException", failure.ErrorCode);
        Assert.Contains("Calcom__ApiKey", failure.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(FakeCalcomApi.ApiKey, failure.Message, StringComparison.Ordinal);
        Assert.Single(_api.Requests);
    }

    [Fact]
    public async Task A_wrong_key_is_refused_by_the_api_and_reported_as_an_auth_failure()
    {
        await using var services = Compose(_api.BaseUrl, s => s["Calcom:ApiKey"] = "cal_live_wrong");

        var failure = await Assert.ThrowsAsync<CalcomApiException>(() => services.GetRequiredService<CalcomApiClient>().ListAsync(new BookingQuery(), CancellationToken.None));

        Assert.Equal(401, failure.Status);
        Assert.Single(_api.Requests);
    }

    [Fact]
    public async Task A_slow_answer_times_out_the_attempt_and_the_retry_gets_the_page()
    {
        _api.Upsert(FakeCalcomApi.Booking("Tz8cYw3RbN6kLq1PmV5xHd", T0, T0));
        _api.Inject(FakeCalcomApi.Slow(TimeSpan.FromSeconds(10)));

        var page = await Client.ListAsync(new BookingQuery { AfterStart = T0.AddDays(-1), BeforeEnd = T0.AddDays(1) }, CancellationToken.None);

        Assert.Single(page);
        Assert.Equal(2, _api.Requests.Count);
    }

    [Fact]
    public async Task A_seated_slot_is_one_row_whose_attendees_carry_their_seats_and_a_cancelled_seat_just_disappears()
    {
        FakeCalcomApi.Seat[] seats =
        [
            new("Max Mustermann", "max.mustermann@example.com", "seatA1xQ9LpR2wKc7VnB4mZ", "+49 151 23456789"),
            new("Erika Musterfrau", "erika.musterfrau@example.org", "seatB2yR8KqS3xLd6WmC5nY"),
        ];
        _api.Upsert(FakeCalcomApi.SeatedBooking("Gs5TqW8nLp2XcR7vK1mB4d", T0, T0, seats), FakeCalcomApi.Booking("k3VbP9qWm2xYc7RtL5nD8a", T0, T0));
        var query = new BookingQuery { AfterUpdatedAt = T0.AddMinutes(-5), BeforeUpdatedAt = T0.AddMinutes(5), SortByUpdatedAt = true };

        var page = await Client.ListAsync(query, CancellationToken.None);
        var slot = Assert.Single(page, b => b.Uid == "Gs5TqW8nLp2XcR7vK1mB4d");
        Assert.True(slot.IsSeated);
        Assert.False(Assert.Single(page, b => b.Uid == "k3VbP9qWm2xYc7RtL5nD8a").IsSeated);
        Assert.Null(slot.BookingFieldsResponses); // the seated output has none at the top
        Assert.Equal(["seatA1xQ9LpR2wKc7VnB4mZ", "seatB2yR8KqS3xLd6WmC5nY"], slot.Attendees!.Select(a => a.SeatUid));
        Assert.Equal("+49 151 23456789", slot.Attendees![0].PhoneNumber);
        Assert.Equal("Erste Teilnahme", slot.Attendees![1].BookingFieldsResponses!.Value.GetProperty("notes").GetString());

        _api.CancelSeat("Gs5TqW8nLp2XcR7vK1mB4d", "MAX.mustermann@example.com");
        // Still found by its unchanged updatedAt, with one attendee fewer.
        slot = Assert.Single(await Client.ListAsync(query, CancellationToken.None), b => b.Uid == "Gs5TqW8nLp2XcR7vK1mB4d");
        Assert.Equal(("accepted", T0), (slot.Status, slot.UpdatedAt));
        Assert.Equal(["erika.musterfrau@example.org"], slot.Attendees!.Select(a => a.Email));
    }

    [Fact]
    public async Task An_unknown_uid_is_no_booking_and_a_recurring_uid_is_every_occurrence()
    {
        var series = Enumerable.Range(0, 3).Select(i =>
        {
            var b = FakeCalcomApi.Booking($"occ{i}XoLp2WcN9vR1sK6eAa", T0.AddDays(7 * i), T0);
            b["recurringBookingUid"] = "series7Lp2WcN9vR1sK6eZ";
            return b;
        }).ToArray();
        _api.Upsert(series);

        Assert.Empty(await Client.GetAsync("unknownLp2WcN9vR1sK6eQ", CancellationToken.None));
        var one = Assert.Single(await Client.GetAsync("occ1XoLp2WcN9vR1sK6eAa", CancellationToken.None));
        Assert.Equal("series7Lp2WcN9vR1sK6eZ", one.RecurringBookingUid);
        var all = await Client.GetAsync("series7Lp2WcN9vR1sK6eZ", CancellationToken.None);
        Assert.Equal(["occ0XoLp2WcN9vR1sK6eAa", "occ1XoLp2WcN9vR1sK6eAa", "occ2XoLp2WcN9vR1sK6eAa"], all.Select(b => b.Uid));
    }

    [Theory]
    [InlineData("Calcom:ApiBaseUrl", "not a url", "Calcom__ApiBaseUrl")]
    [InlineData("Calcom:RequestsPerMinute", "500", "Calcom__RequestsPerMinute")]
    public async Task A_bad_setting_fails_at_start_naming_it(string key, string value, string named)
    {
        await using var services = Compose(_api.BaseUrl, s => s[key] = value);

        var failure = Assert.ThrowsAny<Exception>(() => services.GetRequiredService<IStartupValidator>().Validate());

        Assert.Contains(named, failure.Message, StringComparison.Ordinal);
    }
}
