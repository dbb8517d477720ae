using System.Text.Json;
using AskPro.Functions.Appointments;
using AskPro.Functions.Calcom;
using AskPro.Functions.Logging;
using AskPro.Functions.Webhooks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging;

namespace AskPro.Functions.Operating;

/// <summary>
/// <c>POST /api/appointments/lookup[?include=personal]</c> with the body <c>{"uid":"…"}</c> (function key): the
/// record(s) any uid of a chain reaches, with their history. The uid is in the body, not the path: a uid is a bearer
/// token, and the Functions host records every invocation's URL in Application Insights (<c>requests</c>), outside
/// anything the worker can redact. Thin adapter over <see cref="AppointmentTableStore.LookupByUidAsync(string, CancellationToken)"/>.
/// </summary>
public sealed partial class AppointmentLookupFunction(AppointmentTableStore store, ILogger<AppointmentLookupFunction> logger)
{
    public const string Route = "appointments/lookup";
    /// <summary>A lookup body is one short JSON object; anything longer is refused unread.</summary>
    public const int MaxBodyBytes = 4096;

    [Function(nameof(AppointmentLookup))]
    public async Task<IActionResult> AppointmentLookup(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = Route)] HttpRequest request,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var uid = await UidOfAsync(request, cancellationToken);
        if (string.IsNullOrEmpty(uid) || uid.Length > CalcomWebhookReader.MaxUidLength || !uid.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
        {
            return ApiResult.Error(StatusCodes.Status400BadRequest, OperatorErrorCodes.InvalidUid,
                $"The body must be a JSON object {{\"uid\": \"…\"}}; a Cal.com booking uid is 1 to {CalcomWebhookReader.MaxUidLength} letters, digits, '-' or '_'.");
        }

        var include = request.Query["include"].ToString();
        if (include.Length > 0 && include != "personal")
        {
            return ApiResult.Error(StatusCodes.Status400BadRequest, OperatorErrorCodes.InvalidQuery, "include accepts only 'personal'.");
        }

        var found = await store.LookupByUidAsync(uid, cancellationToken);
        var pseudonym = UidPseudonym.Of(uid);
        Log.Lookup(logger, pseudonym, found.Count, include == "personal");
        if (found.Count == 0)
        {
            return ApiResult.Error(StatusCodes.Status404NotFound, OperatorErrorCodes.UnknownUid,
                $"No appointment has the booking uid {pseudonym} (pseudonym): no event for it has been applied.");
        }

        return new OperatorResult<AppointmentLookupBody>(
            new AppointmentLookupBody("ok", pseudonym, [.. found.Select(f => AppointmentView.Of(f.Appointment, f.History, include == "personal"))]),
            OperatorJsonContext.Default.AppointmentLookupBody);
    }

    /// <summary>The body's <c>uid</c> string, or null when the body is not <c>{"uid":"…"}</c> within <see cref="MaxBodyBytes"/>.</summary>
    private static async Task<string?> UidOfAsync(HttpRequest request, CancellationToken ct)
    {
        if (request.ContentLength is > MaxBodyBytes)
        {
            return null;
        }

        var buffer = new byte[MaxBodyBytes + 1];
        var length = 0;
        int read;
        while (length < buffer.Length && (read = await request.Body.ReadAsync(buffer.AsMemory(length), ct)) > 0)
        {
            length += read;
        }

        if (length is 0 or > MaxBodyBytes)
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(buffer.AsMemory(0, length));
            return document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("uid", out var uid) && uid.ValueKind == JsonValueKind.String
                ? uid.GetString()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 4000, Level = LogLevel.Information, Message = "Operator looked up uid {UidPseudonym}: {Count} appointment(s), personal fields {IncludePersonal}")]
        public static partial void Lookup(ILogger logger, string uidPseudonym, int count, bool includePersonal);
    }
}

/// <summary>Error codes of the operator endpoints (docs/operating.md#what-happened-to-booking-x).</summary>
public static class OperatorErrorCodes
{
    public const string InvalidUid = "invalid_uid";
    public const string InvalidQuery = "invalid_query";
    public const string UnknownUid = "unknown_uid";
    public const string InvalidBody = "invalid_body";
    public const string SharedSeats = "shared_seats";
}
