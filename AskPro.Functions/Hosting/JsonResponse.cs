using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Mvc;

namespace AskPro.Functions.Hosting;

/// <summary>
/// A JSON answer of any source-generated type, written straight to the response like <c>ApiResult</c>, so it runs
/// on a plain <c>DefaultHttpContext</c> (tests, the local host) without MVC's executors.
/// </summary>
public sealed class JsonResponse<T>(int statusCode, T value, JsonTypeInfo<T> type) : IActionResult
{
    public int StatusCode { get; } = statusCode;
    public T Value { get; } = value;

    public async Task ExecuteResultAsync(ActionContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var response = context.HttpContext.Response;
        response.StatusCode = StatusCode;
        response.ContentType = "application/json; charset=utf-8";
        var bytes = JsonSerializer.SerializeToUtf8Bytes(Value, type);
        response.ContentLength = bytes.Length;
        await response.Body.WriteAsync(bytes);
    }
}
