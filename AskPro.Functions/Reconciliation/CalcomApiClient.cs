using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;

namespace AskPro.Functions.Reconciliation;

/// <summary>What to ask <c>GET /v2/bookings</c> for. No status filter is ever sent: without one every status comes back.</summary>
public sealed record BookingQuery
{
    public DateTimeOffset? AfterUpdatedAt { get; init; }
    public DateTimeOffset? BeforeUpdatedAt { get; init; }
    public DateTimeOffset? AfterStart { get; init; }
    public DateTimeOffset? BeforeEnd { get; init; }
    /// <summary><c>sortUpdatedAt=asc</c> when true, else <c>sortStart=asc</c>: the API applies one sort key only.</summary>
    public bool SortByUpdatedAt { get; init; }
    public int Take { get; init; } = CalcomApiClient.MaxTake;
    /// <summary><c>teamsIds</c>: only bookings of that team's event types (a team-scoped tenant's passes, <see cref="TenantScope"/>).</summary>
    public long? TeamId { get; init; }
    public int Skip { get; init; }
}

/// <summary>A Cal.com API call that did not succeed (after the resilience handler's retries).</summary>
public sealed class CalcomApiException : Exception
{
    public CalcomApiException(int status, string? errorCode, string message, Exception? inner = null) : base(message, inner)
    {
        Status = status;
        ErrorCode = errorCode;
    }

    public CalcomApiException() { }
    public CalcomApiException(string message) : base(message) { }
    public CalcomApiException(string message, Exception inner) : base(message, inner) { }

    /// <summary>The HTTP status, or 0 when no response arrived.</summary>
    public int Status { get; }

    /// <summary>The API's <c>error.code</c> (an exception class name such as <c>UnauthorizedException</c>), when it sent one.</summary>
    public string? ErrorCode { get; }

    /// <summary>401/403: the key is wrong, expired or lacks access. Retrying cannot help; the run must stop.</summary>
    public bool IsAuthFailure => Status is 401 or 403;

    /// <summary>No answer, a timeout, throttling or a server error: the same request may succeed later.</summary>
    public bool IsTransient => Status is 0 or 408 or 429 or >= 500;

    /// <summary>For a 429: how long Cal.com (or this service's own limiter) says to wait before the next request.</summary>
    public TimeSpan? RetryAfter { get; init; }
}

/// <summary>
/// Typed client for the two endpoints reconciliation reads: <c>GET /v2/bookings</c> and <c>GET /v2/bookings/{uid}</c>,
/// always with <c>cal-api-version: 2024-08-13</c> (without it the API silently answers in an older shape) and the
/// bearer key. Retries, rate limiting and timeouts are the resilience handler's (<see cref="CalcomApiRegistration"/>);
/// this class only builds requests and reads answers, and knows nothing of Functions.
/// </summary>
public sealed class CalcomApiClient
{
    private readonly HttpClient _http;
    private readonly IOptions<CalcomApiOptions> _options;
    private readonly CalcomAccount? _account;

    public CalcomApiClient(HttpClient http, IOptions<CalcomApiOptions> options) : this(http, options, null)
    {
    }

    private CalcomApiClient(HttpClient http, IOptions<CalcomApiOptions> options, CalcomAccount? account)
    {
        _http = http;
        _options = options;
        _account = account;
    }

    /// <summary>The tenant of each request (set on <see cref="HttpRequestMessage.Options"/>): the request log and the refused-key metric name it.</summary>
    public static readonly HttpRequestOptionsKey<string> TenantOption = new("askpro.tenant");

    /// <summary>The key's id (<see cref="CalcomAccount.KeyId"/>) of each request: selects the key's own resilience pipeline, so its own limiter.</summary>
    public static readonly HttpRequestOptionsKey<string> KeyIdOption = new("askpro.calcom.key");

    /// <summary>The same client reading with <paramref name="account"/>'s key and base URL (docs/reconciliation.md#per-tenant).</summary>
    public CalcomApiClient For(CalcomAccount account)
    {
        ArgumentNullException.ThrowIfNull(account);
        return new CalcomApiClient(_http, _options, account);
    }

    public const string ApiVersionHeader = "cal-api-version";
    public const string ApiVersion = "2024-08-13";
    /// <summary>The largest page the list endpoint serves.</summary>
    public const int MaxTake = 250;

    public async Task<IReadOnlyList<CalcomApiBooking>> ListAsync(BookingQuery query, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(query);
        var url = new StringBuilder("v2/bookings?");
        Append(url, "afterUpdatedAt", query.AfterUpdatedAt);
        Append(url, "beforeUpdatedAt", query.BeforeUpdatedAt);
        Append(url, "afterStart", query.AfterStart);
        Append(url, "beforeEnd", query.BeforeEnd);
        if (query.TeamId is { } team)
        {
            // The property really is teamsIds; a teamIds query is dropped by the API as unknown.
            url.Append(CultureInfo.InvariantCulture, $"teamsIds={team}&");
        }

        url.Append(query.SortByUpdatedAt ? "sortUpdatedAt=asc" : "sortStart=asc");
        url.Append(CultureInfo.InvariantCulture, $"&take={Math.Clamp(query.Take, 1, MaxTake)}&skip={Math.Max(query.Skip, 0)}");

        using var response = await SendAsync(url.ToString(), ct);
        var envelope = await ReadAsync(response, CalcomApiJsonContext.Default.CalcomApiListEnvelope, ct);
        if (envelope?.Data is not { } data)
        {
            throw new CalcomApiException((int)response.StatusCode, null, "GET /v2/bookings answered without a data array (is cal-api-version honoured?)");
        }

        return data;
    }

    /// <summary>
    /// The booking with this uid (one element), every occurrence of a recurring series when the uid is a recurring
    /// booking uid, or nothing when Cal.com does not know it (404).
    /// </summary>
    public async Task<IReadOnlyList<CalcomApiBooking>> GetAsync(string uid, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrEmpty(uid);
        using var response = await SendAsync("v2/bookings/" + Uri.EscapeDataString(uid), ct, notFoundIsEmpty: true);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return [];
        }

        var envelope = await ReadAsync(response, CalcomApiJsonContext.Default.CalcomApiItemEnvelope, ct);
        return envelope?.Data.ValueKind switch
        {
            JsonValueKind.Array => envelope.Data.Deserialize(CalcomApiJsonContext.Default.ListCalcomApiBooking) ?? [],
            JsonValueKind.Object => envelope.Data.Deserialize(CalcomApiJsonContext.Default.CalcomApiBooking) is { } one ? [one] : [],
            _ => throw new CalcomApiException((int)response.StatusCode, null, "GET /v2/bookings/{uid} answered without data"),
        };
    }

    private async Task<HttpResponseMessage> SendAsync(string relativeUrl, CancellationToken ct, bool notFoundIsEmpty = false)
    {
        // Without an account: the default tenant's key (Calcom__ApiKey) on the client's base address, as before tenants.
        var account = _account;
        using var request = new HttpRequestMessage(HttpMethod.Get, account is null ? new Uri(relativeUrl, UriKind.Relative) : new Uri(account.BaseUrl, relativeUrl));
        request.Headers.Add(ApiVersionHeader, ApiVersion);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", account?.ApiKey ?? _options.Value.ApiKey);
        request.Options.Set(TenantOption, account?.TenantId ?? Tenants.TenantIds.Default);
        if (account is not null && !account.IsDefaultKey(_options.Value))
        {
            request.Options.Set(KeyIdOption, account.KeyId);
        }

        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, ct);
        }
        catch (Exception ex) when (ex is HttpRequestException or TimeoutException or Polly.Timeout.TimeoutRejectedException
            || (ex is OperationCanceledException && !ct.IsCancellationRequested))
        {
            throw new CalcomApiException(0, null, $"the Cal.com API could not be reached ({ex.GetType().Name})", ex);
        }
        catch (Polly.RateLimiting.RateLimiterRejectedException ex)
        {
            // This service's own limiter has as many requests waiting as it allows: throttled here rather than by Cal.com.
            throw new CalcomApiException(429, "local_rate_limit", "this service's Cal.com request limit is used up; try again later", ex)
            {
                RetryAfter = ex.RetryAfter ?? TimeSpan.FromSeconds(10),
            };
        }

        if (response.IsSuccessStatusCode || (notFoundIsEmpty && response.StatusCode == HttpStatusCode.NotFound))
        {
            return response;
        }

        using (response)
        {
            // The API's messages can name a uid ("Booking with uid=… was not found"): keep only the status and the code.
            string? code = null;
            try
            {
                code = (await response.Content.ReadFromJsonAsync(CalcomApiJsonContext.Default.CalcomApiErrorEnvelope, ct))?.Error?.Code;
            }
            catch (JsonException)
            {
                // Not the documented envelope (a proxy's page, Nest's default 500 body): the status says enough.
            }

            var status = (int)response.StatusCode;
            throw new CalcomApiException(status, code, status is 401 or 403
                ? $"the Cal.com API refused the key ({status} {code ?? "no error code"}): check {account?.KeySetting ?? CalcomApiOptions.Section + "__ApiKey"}"
                : $"the Cal.com API answered {status} ({code ?? "no error code"})")
            {
                RetryAfter = CalcomApiRegistration.ResetOf(response),
            };
        }
    }

    private static async Task<T?> ReadAsync<T>(HttpResponseMessage response, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, CancellationToken ct)
    {
        try
        {
            return await response.Content.ReadFromJsonAsync(type, ct);
        }
        catch (JsonException ex)
        {
            throw new CalcomApiException((int)response.StatusCode, null, $"the Cal.com API answered with a body that is not the documented JSON ({ex.GetType().Name})", ex);
        }
    }

    private static void Append(StringBuilder url, string name, DateTimeOffset? value)
    {
        if (value is { } v)
        {
            // UTC with Z: the API parses filters with dayjs.utc().
            url.Append(name).Append('=').Append(Uri.EscapeDataString(SyntheticWebhook.Iso(v)!)).Append('&');
        }
    }
}
