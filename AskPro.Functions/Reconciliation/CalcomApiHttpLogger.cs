using System.Net;
using System.Text.RegularExpressions;
using AskPro.Functions.Logging;
using AskPro.Functions.Telemetry;
using Microsoft.Extensions.Http.Logging;
using Microsoft.Extensions.Logging;

namespace AskPro.Functions.Reconciliation;

/// <summary>
/// The Cal.com API client's request log, instead of <c>IHttpClientFactory</c>'s default one: that one writes the full
/// URL at Information (<c>GET …/v2/bookings/{uid}</c>), and a booking uid is a bearer token. Here each attempt is one
/// line with the route template and the uid's pseudonym; 401/403 is an error line (event 6002, the one the alert in
/// infra/ fires on) and the <see cref="AskProMetrics.CalcomKeyRefused"/> metric, both naming the tenant whose key it was.
/// </summary>
public sealed partial class CalcomApiHttpLogger(AskProMetrics metrics, ILogger<CalcomApiHttpLogger> logger) : IHttpClientLogger
{
    public object? LogRequestStart(HttpRequestMessage request) => null;

    public void LogRequestStop(object? context, HttpRequestMessage request, HttpResponseMessage response, TimeSpan elapsed)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(response);
        var (route, uid) = Route(request.RequestUri);
        var status = (int)response.StatusCode;
        if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
        {
            var tenantId = request.Options.TryGetValue(CalcomApiClient.TenantOption, out var t) ? t : Tenants.TenantIds.Default;
            metrics.CalcomKeyWasRefused(status, tenantId);
            Log.KeyRefused(logger, request.Method.Method, route, status, tenantId, CalcomAccount.KeySettingOf(tenantId));
            return;
        }

        Log.Answered(logger, request.Method.Method, route, uid, status, elapsed.TotalMilliseconds);
    }

    public void LogRequestFailed(object? context, HttpRequestMessage request, HttpResponseMessage? response, Exception exception, TimeSpan elapsed)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(exception);
        var (route, uid) = Route(request.RequestUri);
        // The exception's message can hold the URL: only its type is logged.
        Log.Failed(logger, request.Method.Method, route, uid, exception.GetType().Name, elapsed.TotalMilliseconds);
    }

    /// <summary>The path as a route template (<c>v2/bookings/{uid}</c>) and the uid's pseudonym; the query is dropped (it has no ids, only times).</summary>
    internal static (string Route, string? UidPseudonym) Route(Uri? url)
    {
        var path = url is null ? "" : url.IsAbsoluteUri ? url.AbsolutePath : url.OriginalString.Split('?')[0];
        var match = BookingPath().Match(path);
        return match.Success ? ("/v2/bookings/{uid}", UidPseudonym.Of(Uri.UnescapeDataString(match.Groups["uid"].Value))) : (UidRedaction.Redact(path)!, null);
    }

    [GeneratedRegex(@"/?v2/bookings/(?<uid>[^/?#]+)/?$", RegexOptions.CultureInvariant)]
    private static partial Regex BookingPath();

    private static partial class Log
    {
        [LoggerMessage(EventId = 6001, Level = LogLevel.Information, Message = "Cal.com API {HttpMethod} {Route} ({UidPseudonym}) answered {StatusCode} in {DurationMs:F0} ms")]
        public static partial void Answered(ILogger logger, string httpMethod, string route, string? uidPseudonym, int statusCode, double durationMs);

        [LoggerMessage(EventId = 6002, Level = LogLevel.Error,
            Message = "The Cal.com API refused the key of tenant {TenantId}: {HttpMethod} {Route} answered {StatusCode}. Set {Setting} to a valid API key (that tenant's reconciliation and series look-ups cannot read bookings until then)")]
        public static partial void KeyRefused(ILogger logger, string httpMethod, string route, int statusCode, string tenantId, string setting);

        [LoggerMessage(EventId = 6003, Level = LogLevel.Warning, Message = "Cal.com API {HttpMethod} {Route} ({UidPseudonym}) failed without an answer ({ExceptionType}) after {DurationMs:F0} ms")]
        public static partial void Failed(ILogger logger, string httpMethod, string route, string? uidPseudonym, string exceptionType, double durationMs);
    }
}
