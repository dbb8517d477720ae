using System.Text;
using AskPro.Functions.Webhooks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Abstractions;
using Microsoft.AspNetCore.Routing;

namespace AskPro.Functions.Tests.Infrastructure;

/// <summary>
/// Calls a tenant's route (<c>POST /api/webhooks/calcom/{tenant}</c>, <see cref="CalcomWebhookFunction.CalcomTenantWebhook"/>)
/// the way <see cref="WebhookCall"/> calls the default one: a plain <see cref="DefaultHttpContext"/> in, the returned
/// result executed against it, the response read back. The route value is passed as the host would bind it.
/// </summary>
public static class TenantWebhookCall
{
    /// <summary>A delivery to <paramref name="tenant"/>'s route signed with <paramref name="secret"/>, as Cal.com sends it.</summary>
    public static Task<WebhookResponse> PostSignedAsync(TestApp app, string tenant, byte[] body, string secret) =>
        PostAsync(app, tenant, body, new() { [WebhookSignature.HeaderName] = WebhookCall.Sign(body, secret) });

    public static async Task<WebhookResponse> PostAsync(TestApp app, string tenant, byte[] body, Dictionary<string, string> headers)
    {
        ArgumentNullException.ThrowIfNull(app);
        ArgumentNullException.ThrowIfNull(body);
        ArgumentNullException.ThrowIfNull(headers);
        var context = new DefaultHttpContext();
        context.Request.Method = "POST";
        context.Request.Path = "/api/" + CalcomWebhookFunction.Route + "/" + Uri.EscapeDataString(tenant);
        context.Request.ContentType = "application/json";
        context.Request.ContentLength = body.Length;
        context.Request.Body = new MemoryStream(body);
        foreach (var (name, value) in headers)
        {
            context.Request.Headers[name] = value;
        }

        using var responseBody = new MemoryStream();
        context.Response.Body = responseBody;
        var result = await app.Get<CalcomWebhookFunction>().CalcomTenantWebhook(context.Request, tenant, CancellationToken.None);
        await result.ExecuteResultAsync(new ActionContext(context, new RouteData(), new ActionDescriptor()));
        return new WebhookResponse(context.Response.StatusCode, context.Response.Headers, context.Response.ContentType ?? "",
            Encoding.UTF8.GetString(responseBody.ToArray()));
    }
}
