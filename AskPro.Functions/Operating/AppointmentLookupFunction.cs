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
/// <c>GET /api/appointments/{uid}[?include=personal]</c> (function key): the record(s) any uid of a chain reaches,
/// with their history. Thin adapter over <see cref="AppointmentTableStore.LookupByUidAsync"/>.
/// </summary>
public sealed partial class AppointmentLookupFunction(AppointmentTableStore store, ILogger<AppointmentLookupFunction> logger)
{
    public const string Route = "appointments/{uid}";

    [Function(nameof(AppointmentLookup))]
    public async Task<IActionResult> AppointmentLookup(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = Route)] HttpRequest request,
        string uid,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (string.IsNullOrEmpty(uid) || uid.Length > CalcomWebhookReader.MaxUidLength || !uid.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
        {
            return ApiResult.Error(StatusCodes.Status400BadRequest, OperatorErrorCodes.InvalidUid,
                $"A Cal.com booking uid is 1 to {CalcomWebhookReader.MaxUidLength} letters, digits, '-' or '_'.");
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

    private static partial class Log
    {
        [LoggerMessage(EventId = 4000, Level = LogLevel.Information, Message = "Operator looked up uid {UidPseudonym}: {Count} appointment(s), personal fields {IncludePersonal}")]
        public static partial void Lookup(ILogger logger, string uidPseudonym, int count, bool includePersonal);
    }
}

/// <summary>Error codes of the operator endpoints (README "Operating").</summary>
public static class OperatorErrorCodes
{
    public const string InvalidUid = "invalid_uid";
    public const string InvalidQuery = "invalid_query";
    public const string UnknownUid = "unknown_uid";
    public const string InvalidBody = "invalid_body";
    public const string SharedSeats = "shared_seats";
}
