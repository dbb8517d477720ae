using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace AskPro.Functions.Webhooks;

/// <summary>Stable error codes of the webhook endpoint (listed in docs/webhook-endpoint.md#error-codes).</summary>
public static class ErrorCodes
{
    public const string PayloadTooLarge = "payload_too_large";
    public const string IncompleteBody = "incomplete_body";
    public const string MissingSignature = "missing_signature";
    public const string UnsignedDelivery = "unsigned_delivery";
    public const string InvalidSignature = "invalid_signature";
    public const string InvalidJson = "invalid_json";
    public const string InvalidPayload = "invalid_payload";
    public const string StorageUnavailable = "storage_unavailable";
    public const string InternalError = "internal_error";
    /// <summary>No enabled tenant has this route (docs/tenants.md#routes): 404, never 410, which makes Cal.com deactivate the webhook.</summary>
    public const string UnknownTenant = "unknown_tenant";
}

public sealed record ErrorDetail(
    [property: JsonPropertyName("code")] string Code,
    [property: JsonPropertyName("message")] string Message,
    [property: JsonPropertyName("details"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? Details);

public sealed record ErrorBody([property: JsonPropertyName("status")] string Status, [property: JsonPropertyName("error")] ErrorDetail Error);

public sealed record StatusBody(
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("trigger_event"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? TriggerEvent = null,
    [property: JsonPropertyName("delivery_id"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? DeliveryId = null,
    [property: JsonPropertyName("uid"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Uid = null,
    [property: JsonPropertyName("message"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Message = null);

[JsonSerializable(typeof(ErrorBody))]
[JsonSerializable(typeof(StatusBody))]
internal sealed partial class ApiJsonContext : JsonSerializerContext;

/// <summary>
/// A JSON response written straight to the ASP.NET Core response, so it runs on a plain <c>DefaultHttpContext</c>
/// without MVC's executors.
/// </summary>
public sealed class ApiResult : IActionResult
{
    private ApiResult(int statusCode, object body, TimeSpan? retryAfter)
    {
        StatusCode = statusCode;
        Body = body;
        RetryAfter = retryAfter;
    }

    public int StatusCode { get; }
    public object Body { get; }
    public TimeSpan? RetryAfter { get; }

    public static ApiResult Status(int statusCode, StatusBody body) => new(statusCode, body, null);

    public static ApiResult Error(int statusCode, string code, string message, IReadOnlyList<string>? details = null, TimeSpan? retryAfter = null) =>
        new(statusCode, new ErrorBody("error", new ErrorDetail(code, message, details)), retryAfter);

    public Task ExecuteResultAsync(ActionContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return WriteAsync(context.HttpContext.Response);
    }

    public async Task WriteAsync(HttpResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        response.StatusCode = StatusCode;
        response.ContentType = "application/json; charset=utf-8";
        if (RetryAfter is { } retry)
        {
            response.Headers.RetryAfter = ((int)retry.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        var bytes = Body is ErrorBody error
            ? JsonSerializer.SerializeToUtf8Bytes(error, ApiJsonContext.Default.ErrorBody)
            : JsonSerializer.SerializeToUtf8Bytes((StatusBody)Body, ApiJsonContext.Default.StatusBody);
        response.ContentLength = bytes.Length;
        await response.Body.WriteAsync(bytes);
    }
}
