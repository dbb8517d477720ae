using System.Text.Json;
using System.Text.Json.Serialization;
using AskPro.Functions.Calcom;
using AskPro.Functions.Logging;
using AskPro.Functions.Tenants;
using AskPro.Functions.Webhooks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace AskPro.Functions.Operating;

/// <summary>The body of <c>POST /api/ops/erase</c>: the uid travels in the body, never in the URL the request telemetry records.</summary>
public sealed record ErasureRequest(
    [property: JsonPropertyName("uid")] string? Uid,
    [property: JsonPropertyName("allSeats")] bool? AllSeats)
{
    /// <summary>The tenant whose booking it is (docs/operating.md#which-tenant); null: the default tenant.</summary>
    [JsonPropertyName("tenant"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Tenant { get; init; }
}

/// <summary>
/// <c>POST /api/ops/erase</c> with <c>{"uid": "…", "allSeats": false, "tenant": "…"}</c> (function key): erases one
/// booking of that tenant (none named: the default tenant; unknown: 404 <c>unknown_tenant</c>) and leaves a tombstone in
/// its partition. Thin adapter over <see cref="Erasure"/>; <c>tools/erase.sh</c> does the same from a shell.
/// </summary>
public sealed class ErasureFunction(Erasure erasure, ITenantDirectory tenants)
{
    public const string Route = "ops/erase";
    /// <summary>A uid and a flag: anything larger is not a request of this endpoint.</summary>
    public const int MaxBodyBytes = 4096;

    [Function(nameof(EraseBooking))]
    public async Task<IActionResult> EraseBooking(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = Route)] HttpRequest request,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.ContentLength > MaxBodyBytes)
        {
            return Invalid("The body is larger than an erasure request.");
        }

        ErasureRequest? body;
        try
        {
            using var buffer = new MemoryStream();
            var chunk = new byte[1024];
            int read;
            while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
            {
                if (buffer.Length + read > MaxBodyBytes)
                {
                    return Invalid("The body is larger than an erasure request.");
                }

                buffer.Write(chunk, 0, read);
            }

            body = JsonSerializer.Deserialize(buffer.ToArray(), ErasureJsonContext.Default.ErasureRequest);
        }
        catch (JsonException)
        {
            return Invalid("The body must be JSON: {\"uid\": \"<booking uid>\", \"allSeats\": false, \"tenant\": \"<tenant id, optional>\"}.");
        }

        if (body?.Uid is not { } uid)
        {
            return Invalid("uid is required: {\"uid\": \"<booking uid>\", \"allSeats\": false}.");
        }

        if (uid.Length == 0 || uid.Length > CalcomWebhookReader.MaxUidLength || !uid.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
        {
            return ApiResult.Error(StatusCodes.Status400BadRequest, OperatorErrorCodes.InvalidUid,
                $"A Cal.com booking uid is 1 to {CalcomWebhookReader.MaxUidLength} letters, digits, '-' or '_'.");
        }

        if (await OperatorTenant.ResolveAsync(tenants, body.Tenant, cancellationToken) is not { } tenant)
        {
            return OperatorTenant.Unknown(body.Tenant);
        }

        var report = await erasure.EraseAsync(tenant.Rows, uid, body.AllSeats ?? false, cancellationToken);
        return report.Outcome switch
        {
            ErasureOutcome.Unknown => ApiResult.Error(StatusCodes.Status404NotFound, OperatorErrorCodes.UnknownUid,
                $"Nothing of tenant {tenant.Id} holds the booking uid {UidPseudonym.Of(uid)} (pseudonym): no record, no tombstone, no dead letter. Nothing was erased."),
            ErasureOutcome.SharedSeats => ApiResult.Error(StatusCodes.Status409Conflict, OperatorErrorCodes.SharedSeats,
                $"The uid {report.UidPseudonym} (pseudonym) belongs to seated booking {report.AppointmentIds[0]}, which holds seats of other customers. "
                + "Erasing it erases every seat and stops later webhooks for all of them; send \"allSeats\": true to do that. Nothing was erased."),
            _ => new OperatorResult<ErasureReport>(report, ErasureJsonContext.Default.ErasureReport),
        };
    }

    private static ApiResult Invalid(string message) => ApiResult.Error(StatusCodes.Status400BadRequest, OperatorErrorCodes.InvalidBody, message);
}

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.Never, WriteIndented = true)]
[JsonSerializable(typeof(ErasureRequest))]
[JsonSerializable(typeof(ErasureReport))]
internal sealed partial class ErasureJsonContext : JsonSerializerContext;
