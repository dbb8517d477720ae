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
    public static Task<WebhookResponse> LookupAsync(TestApp app, string uid, string query = "") =>
        RunAsync("GET", query, request => app.Get<AppointmentLookupFunction>().AppointmentLookup(request, uid, CancellationToken.None));

    public static Task<WebhookResponse> ListDeadLettersAsync(TestApp app, string query = "") =>
        RunAsync("GET", query, request => app.Get<DeadLetterFunctions>().DeadLetterList(request, CancellationToken.None));

    public static Task<WebhookResponse> ReplayAsync(TestApp app, string query = "") =>
        RunAsync("POST", query, request => app.Get<DeadLetterFunctions>().DeadLetterReplay(request, CancellationToken.None));

    private static async Task<WebhookResponse> RunAsync(string method, string query, Func<HttpRequest, Task<IActionResult>> function)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = method;
        context.Request.QueryString = new QueryString(query.Length == 0 ? "" : "?" + query);
        using var body = new MemoryStream();
        context.Response.Body = body;
        var result = await function(context.Request);
        await result.ExecuteResultAsync(new ActionContext(context, new RouteData(), new ActionDescriptor()));
        return new WebhookResponse(context.Response.StatusCode, context.Response.Headers, context.Response.ContentType ?? "", Encoding.UTF8.GetString(body.ToArray()));
    }
}
