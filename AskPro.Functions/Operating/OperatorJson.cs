using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace AskPro.Functions.Operating;

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.Never, WriteIndented = true)]
[JsonSerializable(typeof(AppointmentLookupBody))]
[JsonSerializable(typeof(DeadLetterListBody))]
[JsonSerializable(typeof(ReplayReport))]
internal sealed partial class OperatorJsonContext : JsonSerializerContext;

/// <summary>A JSON answer of an operator endpoint (200 unless told otherwise), written straight to the response like the webhook's answers.</summary>
public sealed class OperatorResult<T>(T body, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, int statusCode = StatusCodes.Status200OK) : IActionResult
{
    public T Body { get; } = body;

    public int StatusCode { get; } = statusCode;

    public Task ExecuteResultAsync(ActionContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return WriteAsync(context.HttpContext.Response);
    }

    public async Task WriteAsync(HttpResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        var bytes = JsonSerializer.SerializeToUtf8Bytes(Body, type);
        response.StatusCode = StatusCode;
        response.ContentType = "application/json; charset=utf-8";
        response.ContentLength = bytes.Length;
        await response.Body.WriteAsync(bytes);
    }
}
