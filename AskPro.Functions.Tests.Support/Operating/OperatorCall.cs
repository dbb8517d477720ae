using System.Text;
using AskPro.Functions.Operating;
using AskPro.Functions.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Abstractions;
using Microsoft.AspNetCore.Routing;

namespace AskPro.Functions.Tests.Operating;

/// <summary>Calls the operator functions the way the ASP.NET Core integration does: query string in, result executed on a <see cref="DefaultHttpContext"/>.</summary>
public static class OperatorCall
{
    /// <summary>The lookup as an operator sends it: <c>POST</c> with <c>{"uid":"…"}</c> as the body.</summary>
    public static Task<WebhookResponse> LookupAsync(TestApp app, string uid, string query = "") =>
        LookupBodyAsync(app, System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, string> { ["uid"] = uid }), query);

    public static Task<WebhookResponse> LookupBodyAsync(TestApp app, string body, string query = "") =>
        RunAsync("POST", query, request => app.Get<AppointmentLookupFunction>().AppointmentLookup(request, CancellationToken.None), body);

    public static Task<WebhookResponse> ListDeadLettersAsync(TestApp app, string query = "") =>
        RunAsync("GET", query, request => app.Get<DeadLetterFunctions>().DeadLetterList(request, CancellationToken.None));

    public static Task<WebhookResponse> ReplayAsync(TestApp app, string query = "") =>
        RunAsync("POST", query, request => app.Get<DeadLetterFunctions>().DeadLetterReplay(request, CancellationToken.None));

    private static async Task<WebhookResponse> RunAsync(string method, string query, Func<HttpRequest, Task<IActionResult>> function, string? requestBody = null)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = method;
        if (requestBody is not null)
        {
            context.Request.Body = new MemoryStream(Encoding.UTF8.GetBytes(requestBody));
            context.Request.ContentType = "application/json";
        }

        context.Request.QueryString = new QueryString(query.Length == 0 ? "" : "?" + query);
        using var body = new MemoryStream();
        context.Response.Body = body;
        var result = await function(context.Request);
        await result.ExecuteResultAsync(new ActionContext(context, new RouteData(), new ActionDescriptor()));
        return new WebhookResponse(context.Response.StatusCode, context.Response.Headers, context.Response.ContentType ?? "", Encoding.UTF8.GetString(body.ToArray()));
    }
}
