using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace AskPro.Functions.Tests.Reconciliation;

/// <summary>
/// Cal.com API v2's webhook management on the same fake (docs/onboarding.md#the-calcom-webhook-api): the user, personal
/// event type and team event type scopes; create (<c>active</c> required, 409 when the scope already has the subscriber
/// URL), list with take/skip (secrets in plain text, as Cal.com answers), PATCH of any subset. Webhooks belong to the
/// key that made them; keys other than <see cref="ApiKey"/> are accepted once <see cref="AcceptKey"/> names them.
/// </summary>
public sealed partial class FakeCalcomApi
{
    private readonly Lock _webhookLock = new();
    private readonly List<FakeWebhook> _webhooks = [];
    private readonly HashSet<string> _keys = new(StringComparer.Ordinal) { ApiKey };

    /// <summary>A webhook as the fake holds it: the scope's collection path (<c>/v2/…/webhooks</c>) and the owning key included.</summary>
    public sealed record FakeWebhook(string Id, string Scope, string Key, string SubscriberUrl, IReadOnlyList<string> Triggers, bool Active, string? Secret);

    /// <summary>Every webhook, in creation order.</summary>
    public IReadOnlyList<FakeWebhook> Webhooks
    {
        get
        {
            lock (_webhookLock)
            {
                return [.. _webhooks];
            }
        }
    }

    /// <summary>Another practice's key, accepted from now on.</summary>
    public void AcceptKey(string key)
    {
        lock (_webhookLock)
        {
            _keys.Add(key);
        }
    }

    /// <summary>A webhook made outside the code under test (by hand in Cal.com's UI, or by an earlier run).</summary>
    public FakeWebhook SeedWebhook(string scope, string subscriberUrl, IReadOnlyList<string> triggers, bool active = true, string? secret = null, string key = ApiKey)
    {
        var webhook = new FakeWebhook(Guid.NewGuid().ToString(), scope, key, subscriberUrl, triggers, active, secret);
        lock (_webhookLock)
        {
            _webhooks.Add(webhook);
        }

        return webhook;
    }

    private static void MapWebhookRoutes(WebApplication app, Func<FakeCalcomApi> fake)
    {
        foreach (var scope in new[] { "/v2/webhooks", "/v2/event-types/{eventTypeId:long}/webhooks", "/v2/teams/{teamId:long}/event-types/{eventTypeId:long}/webhooks" })
        {
            app.MapPost(scope, (HttpContext c) => fake().CreateWebhookAsync(c));
            app.MapGet(scope, (HttpContext c) => fake().ListWebhooksAsync(c));
            app.MapMethods(scope + "/{webhookId}", ["PATCH"], (HttpContext c, string webhookId) => fake().PatchWebhookAsync(c, webhookId));
        }
    }

    private static string ScopeOf(HttpContext c, string? webhookId = null)
    {
        var path = c.Request.Path.Value!;
        return webhookId is null ? path.TrimEnd('/') : path[..path.LastIndexOf('/')];
    }

    private async Task<string?> WebhookKeyAsync(HttpContext c)
    {
        if (await ApplyFaultAsync(c))
        {
            return null;
        }

        var auth = c.Request.Headers.Authorization.ToString();
        var key = auth.StartsWith("Bearer ", StringComparison.Ordinal) ? auth["Bearer ".Length..] : "";
        bool known;
        lock (_webhookLock)
        {
            known = _keys.Contains(key);
        }

        if (!known)
        {
            await WriteErrorAsync(c, 401, "UnauthorizedException", "ApiAuthStrategy - api key - Your api key is not valid");
            return null;
        }

        return key;
    }

    private async Task CreateWebhookAsync(HttpContext c)
    {
        if (await WebhookKeyAsync(c) is not { } key)
        {
            return;
        }

        var body = await JsonNode.ParseAsync(c.Request.Body) as JsonObject;
        if (body?["active"] is not JsonValue a || a.GetValueKind() is not (JsonValueKind.True or JsonValueKind.False))
        {
            await WriteErrorAsync(c, 400, "BadRequestException", "active must be a boolean value");
            return;
        }

        if (body["subscriberUrl"] is not JsonValue u || u.GetValueKind() != JsonValueKind.String || body["triggers"] is not JsonArray triggers)
        {
            await WriteErrorAsync(c, 400, "BadRequestException", "subscriberUrl must be a string; triggers must be an array");
            return;
        }

        var scope = ScopeOf(c);
        var url = u.GetValue<string>();
        FakeWebhook webhook;
        lock (_webhookLock)
        {
            if (_webhooks.Any(w => w.Key == key && w.Scope == scope && w.SubscriberUrl == url))
            {
                webhook = null!;
            }
            else
            {
                webhook = new FakeWebhook(Guid.NewGuid().ToString(), scope, key, url, [.. triggers.Select(t => (string)t!)], a.GetValue<bool>(), (string?)body["secret"]);
                _webhooks.Add(webhook);
            }
        }

        if (webhook is null)
        {
            await WriteErrorAsync(c, 409, "ConflictException", "Webhook with this subscriber url already exists for this user");
            return;
        }

        c.Response.StatusCode = 201;
        await c.Response.WriteAsJsonAsync(new JsonObject { ["status"] = "success", ["data"] = Output(webhook) });
    }

    private async Task ListWebhooksAsync(HttpContext c)
    {
        if (await WebhookKeyAsync(c) is not { } key)
        {
            return;
        }

        var q = c.Request.Query;
        var take = q.TryGetValue("take", out var t) ? int.Parse(t!, CultureInfo.InvariantCulture) : 250;
        var skip = q.TryGetValue("skip", out var s) ? int.Parse(s!, CultureInfo.InvariantCulture) : 0;
        if (take is < 1 or > 250 || skip < 0)
        {
            await WriteErrorAsync(c, 400, "BadRequestException", "take must not be greater than 250");
            return;
        }

        var scope = ScopeOf(c);
        List<FakeWebhook> page;
        lock (_webhookLock)
        {
            page = [.. _webhooks.Where(w => w.Key == key && w.Scope == scope).Skip(skip).Take(take)];
        }

        await c.Response.WriteAsJsonAsync(new JsonObject { ["status"] = "success", ["data"] = new JsonArray([.. page.Select(Output)]) });
    }

    private async Task PatchWebhookAsync(HttpContext c, string webhookId)
    {
        if (await WebhookKeyAsync(c) is not { } key)
        {
            return;
        }

        var body = await JsonNode.ParseAsync(c.Request.Body) as JsonObject ?? [];
        var scope = ScopeOf(c, webhookId);
        FakeWebhook? webhook;
        lock (_webhookLock)
        {
            var i = _webhooks.FindIndex(w => w.Id == webhookId && w.Key == key && w.Scope == scope);
            webhook = i < 0 ? null : _webhooks[i] = _webhooks[i] with
            {
                SubscriberUrl = (string?)body["subscriberUrl"] ?? _webhooks[i].SubscriberUrl,
                Triggers = body["triggers"] is JsonArray triggers ? [.. triggers.Select(t => (string)t!)] : _webhooks[i].Triggers,
                Active = (bool?)body["active"] ?? _webhooks[i].Active,
                Secret = body.ContainsKey("secret") ? (string?)body["secret"] : _webhooks[i].Secret,
            };
        }

        if (webhook is null)
        {
            await WriteErrorAsync(c, 404, "NotFoundException", $"Webhook with id {webhookId} not found");
            return;
        }

        await c.Response.WriteAsJsonAsync(new JsonObject { ["status"] = "success", ["data"] = Output(webhook) });
    }

    private static JsonObject Output(FakeWebhook w)
    {
        var o = new JsonObject
        {
            ["id"] = w.Id,
            ["subscriberUrl"] = w.SubscriberUrl,
            ["triggers"] = new JsonArray([.. w.Triggers.Select(t => JsonValue.Create(t))]),
            ["active"] = w.Active,
            ["payloadTemplate"] = null,
            ["userId"] = 98765,
            ["secret"] = w.Secret,
        };
        var parts = w.Scope.Split('/');
        if (Array.IndexOf(parts, "event-types") is var et and > 0)
        {
            o["eventTypeId"] = long.Parse(parts[et + 1], CultureInfo.InvariantCulture);
        }

        return o;
    }
}
