using System.Text;
using System.Text.Json;
using AskPro.Functions.Webhooks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Abstractions;
using Microsoft.AspNetCore.Routing;

namespace AskPro.Functions.Tests.Infrastructure;

/// <summary>What the endpoint answered: status, headers and the parsed JSON body.</summary>
public sealed record WebhookResponse(int StatusCode, IHeaderDictionary Headers, string ContentType, string Text)
{
    public JsonElement Json => JsonDocument.Parse(Text).RootElement;

    public string? Status => Json.GetProperty("status").GetString();

    public string? ErrorCode => Json.GetProperty("error").GetProperty("code").GetString();

    public IReadOnlyList<string> Details => Json.GetProperty("error").TryGetProperty("details", out var d)
        ? d.EnumerateArray().Select(e => e.GetString() ?? "").ToList()
        : [];

    public override string ToString() => $"{StatusCode} {Text}";
}

/// <summary>
/// Calls <see cref="CalcomWebhookFunction"/> the way the ASP.NET Core integration does: a plain <see cref="DefaultHttpContext"/>
/// in, the returned <see cref="IActionResult"/> executed against it, the response body read back.
/// </summary>
public static class WebhookCall
{
    public static string Sign(byte[] body, string secret = TestApp.Secret) => WebhookSignature.Sign(body, Encoding.UTF8.GetBytes(secret));

    /// <summary>A delivery signed with the test secret, as Cal.com sends it (bare lowercase hex, Content-Length set).</summary>
    public static Task<WebhookResponse> PostSignedAsync(TestApp app, byte[] body) =>
        PostAsync(app, new MemoryStream(body), body.Length, new() { [WebhookSignature.HeaderName] = Sign(body) });

    public static Task<WebhookResponse> PostAsync(TestApp app, Stream body, long? contentLength, Dictionary<string, string> headers, CancellationToken requestAborted = default) =>
        PostWithHeadersAsync(app, body, contentLength, headers.ToDictionary(h => h.Key, h => new Microsoft.Extensions.Primitives.StringValues(h.Value)), requestAborted);

    /// <summary>With any header values, repeated ones included.</summary>
    public static async Task<WebhookResponse> PostWithHeadersAsync(TestApp app, Stream body, long? contentLength, Dictionary<string, Microsoft.Extensions.Primitives.StringValues> headers, CancellationToken requestAborted = default)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "POST";
        context.Request.Path = "/api/" + CalcomWebhookFunction.Route;
        context.Request.ContentType = "application/json";
        context.Request.ContentLength = contentLength;
        context.Request.Body = body;
        foreach (var (name, value) in headers)
        {
            context.Request.Headers[name] = value;
        }

        using var responseBody = new MemoryStream();
        context.Response.Body = responseBody;
        context.RequestAborted = requestAborted;
        var result = await app.Get<CalcomWebhookFunction>().CalcomWebhook(context.Request, requestAborted);
        await result.ExecuteResultAsync(new ActionContext(context, new RouteData(), new ActionDescriptor()));
        return new WebhookResponse(context.Response.StatusCode, context.Response.Headers, context.Response.ContentType ?? "",
            Encoding.UTF8.GetString(responseBody.ToArray()));
    }
}
