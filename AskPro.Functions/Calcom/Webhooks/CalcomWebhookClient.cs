using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using AskPro.Functions.Reconciliation;

namespace AskPro.Functions.Calcom.Webhooks;

/// <summary>
/// Where a webhook lives in Cal.com (docs/onboarding.md#where-the-webhook-lives): an event type of a team, a personal
/// event type, or the key's user. A user webhook does not fire for team event types, so a team needs its event types.
/// </summary>
public sealed record CalcomWebhookScope(long? EventTypeId = null, long? TeamId = null)
{
    public static CalcomWebhookScope User { get; } = new();

    /// <summary>One scope per event type (in the team's scope when a team is given), else the user's.</summary>
    public static IReadOnlyList<CalcomWebhookScope> For(IReadOnlyList<long> eventTypeIds, long? teamId)
    {
        ArgumentNullException.ThrowIfNull(eventTypeIds);
        return eventTypeIds.Count == 0 ? [User] : [.. eventTypeIds.Select(id => new CalcomWebhookScope(id, teamId))];
    }

    /// <summary>The collection's path relative to the API's base URL.</summary>
    public string Path => (EventTypeId, TeamId) switch
    {
        (null, _) => "v2/webhooks",
        ({ } et, null) => string.Create(CultureInfo.InvariantCulture, $"v2/event-types/{et}/webhooks"),
        ({ } et, { } team) => string.Create(CultureInfo.InvariantCulture, $"v2/teams/{team}/event-types/{et}/webhooks"),
    };

    public override string ToString() => (EventTypeId, TeamId) switch
    {
        (null, _) => "user",
        ({ } et, null) => string.Create(CultureInfo.InvariantCulture, $"event type {et}"),
        ({ } et, { } team) => string.Create(CultureInfo.InvariantCulture, $"team {team} event type {et}"),
    };
}

/// <summary>What a webhook should be: subscriber URL, triggers, the signing secret, active.</summary>
public sealed record CalcomWebhookSpec(Uri SubscriberUrl, IReadOnlyList<string> Triggers, string Secret, bool Active = true)
{
    /// <summary>Never prints the secret.</summary>
    public override string ToString() => $"webhook to {SubscriberUrl} ({Triggers.Count} triggers)";
}

/// <summary>A webhook as Cal.com answered it, without its secret (the answer carries it in plain text; it is dropped on reading).</summary>
public sealed record CalcomWebhook(string Id, string SubscriberUrl, IReadOnlyList<string> Triggers, bool Active);

/// <summary>The webhook after <see cref="CalcomWebhookClient.UpsertAsync"/>, and whether it was created (false: an existing one was updated).</summary>
public sealed record CalcomWebhookResult(CalcomWebhook Webhook, bool Created);

/// <summary>
/// Typed client for Cal.com API v2's webhook management (docs/onboarding.md#the-calcom-webhook-api): one client for
/// every practice, the bearer key given per call (<see cref="CalcomAccount"/>, reconciliation's record of a tenant's key). Creates a webhook or, when the subscriber URL is already registered
/// in that scope (409), finds it by listing and patches it; rotates a secret by PATCH. Answers carry the secret in plain
/// text, so they are never logged or put into messages: a failure names the request, the status and Cal.com's error
/// code and message, nothing else. Retries, timeouts and 429 waits are the resilience handler's
/// (<see cref="CalcomWebhookRegistration"/>).
/// </summary>
public sealed class CalcomWebhookClient(HttpClient http)
{
    /// <summary>The largest page the list endpoint serves.</summary>
    public const int MaxTake = 250;

    /// <summary>Creates the webhook in <paramref name="scope"/>, or updates the one with the same subscriber URL there.</summary>
    public async Task<CalcomWebhookResult> UpsertAsync(CalcomAccount account, CalcomWebhookScope scope, CalcomWebhookSpec spec, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(account);
        ArgumentNullException.ThrowIfNull(scope);
        ArgumentNullException.ThrowIfNull(spec);
        var body = new JsonObject
        {
            ["subscriberUrl"] = spec.SubscriberUrl.AbsoluteUri,
            ["triggers"] = new JsonArray([.. spec.Triggers.Select(t => JsonValue.Create(t))]),
            ["active"] = spec.Active,
            ["secret"] = spec.Secret,
        };
        using (var response = await SendAsync(account, HttpMethod.Post, scope.Path, body, ct, HttpStatusCode.Conflict))
        {
            if (response.StatusCode != HttpStatusCode.Conflict)
            {
                return new CalcomWebhookResult(await ReadOneAsync(response, "POST " + scope.Path, ct), Created: true);
            }
        }

        // Unique per scope and URL: the webhook exists (an earlier run, or one made by hand). Bring it to the spec.
        var existing = await FindAsync(account, scope, spec.SubscriberUrl, ct)
            ?? throw new CalcomApiException(409, null, $"POST {scope.Path} answered 409 (subscriber URL exists) but no webhook of the {scope} scope has that URL");
        return new CalcomWebhookResult(await PatchAsync(account, scope, existing.Id, body, ct), Created: false);
    }

    /// <summary>Every webhook of the scope (paged by take/skip; Cal.com keeps no order, so all pages are read).</summary>
    public async Task<IReadOnlyList<CalcomWebhook>> ListAsync(CalcomAccount account, CalcomWebhookScope scope, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(account);
        ArgumentNullException.ThrowIfNull(scope);
        var all = new List<CalcomWebhook>();
        for (var skip = 0; ; skip += MaxTake)
        {
            var path = string.Create(CultureInfo.InvariantCulture, $"{scope.Path}?take={MaxTake}&skip={skip}");
            using var response = await SendAsync(account, HttpMethod.Get, path, null, ct);
            using var doc = await ReadAsync(response, "GET " + scope.Path, ct);
            if (doc.RootElement.TryGetProperty("data", out var data) is false || data.ValueKind != JsonValueKind.Array)
            {
                throw new CalcomApiException((int)response.StatusCode, null, $"GET {scope.Path} answered without a data array");
            }

            var page = data.EnumerateArray().Select(w => ToWebhook(w, "GET " + scope.Path)).ToList();
            all.AddRange(page);
            if (page.Count < MaxTake)
            {
                return all;
            }
        }
    }

    /// <summary>The webhook of the scope with this subscriber URL, or null.</summary>
    public async Task<CalcomWebhook?> FindAsync(CalcomAccount account, CalcomWebhookScope scope, Uri subscriberUrl, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(subscriberUrl);
        var list = await ListAsync(account, scope, ct);
        return list.FirstOrDefault(w => Uri.TryCreate(w.SubscriberUrl, UriKind.Absolute, out var u) && u == subscriberUrl)
            ?? list.FirstOrDefault(w => string.Equals(w.SubscriberUrl.TrimEnd('/'), subscriberUrl.AbsoluteUri.TrimEnd('/'), StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>
    /// Gives the webhook a new signing secret. Cal.com keeps one secret per webhook; deliveries queued before this
    /// (retries included) still carry the old signature for about ten minutes (docs/onboarding.md#rotating-a-secret).
    /// </summary>
    public Task<CalcomWebhook> RotateSecretAsync(CalcomAccount account, CalcomWebhookScope scope, string webhookId, string secret, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrEmpty(secret);
        return PatchAsync(account, scope, webhookId, new JsonObject { ["secret"] = secret }, ct);
    }

    private async Task<CalcomWebhook> PatchAsync(CalcomAccount account, CalcomWebhookScope scope, string webhookId, JsonObject body, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(account);
        ArgumentNullException.ThrowIfNull(scope);
        ArgumentException.ThrowIfNullOrEmpty(webhookId);
        var path = scope.Path + "/" + Uri.EscapeDataString(webhookId);
        using var response = await SendAsync(account, HttpMethod.Patch, path, body, ct);
        return await ReadOneAsync(response, "PATCH " + scope.Path + "/{id}", ct);
    }

    private async Task<HttpResponseMessage> SendAsync(CalcomAccount account, HttpMethod method, string relativePath, JsonObject? body, CancellationToken ct,
        HttpStatusCode? alsoAccepted = null)
    {
        var route = method.Method + " " + relativePath.Split('?')[0];
        using var request = new HttpRequestMessage(method, new Uri(WithSlash(account.BaseUrl), relativePath));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", account.ApiKey);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        if (body is not null)
        {
            request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        }

        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead, ct);
        }
        catch (Exception ex) when (ex is HttpRequestException or TimeoutException or Polly.Timeout.TimeoutRejectedException
            || (ex is OperationCanceledException && !ct.IsCancellationRequested))
        {
            throw new CalcomApiException(0, null, $"{route}: the Cal.com API at {account.BaseUrl} could not be reached ({ex.GetType().Name})", ex);
        }

        if (response.IsSuccessStatusCode || response.StatusCode == alsoAccepted)
        {
            return response;
        }

        using (response)
        {
            var status = (int)response.StatusCode;
            var (code, message) = await ErrorOfAsync(response, ct);
            var detail = $"{code ?? "no error code"}{(message is null ? "" : ": " + message)}";
            throw new CalcomApiException(status, code, status is 401 or 403
                ? $"{route}: Cal.com refused the API key ({status} {detail}); check the key and that it may manage this scope's webhooks"
                : $"{route}: Cal.com answered {status} ({detail})")
            {
                RetryAfter = CalcomApiRegistration.ResetOf(response),
            };
        }
    }

    /// <summary>The error envelope's code and message (never the rest of the body), the message cut short.</summary>
    private static async Task<(string? Code, string? Message)> ErrorOfAsync(HttpResponseMessage response, CancellationToken ct)
    {
        try
        {
            using var doc = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(ct), default, ct);
            if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object)
            {
                var code = error.TryGetProperty("code", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null;
                var message = error.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString() : null;
                return (code, message is { Length: > 200 } ? message[..200] + "…" : message);
            }
        }
        catch (JsonException)
        {
            // Not the documented envelope (a proxy's page): the status says enough.
        }

        return (null, null);
    }

    private static async Task<CalcomWebhook> ReadOneAsync(HttpResponseMessage response, string route, CancellationToken ct)
    {
        using var doc = await ReadAsync(response, route, ct);
        return doc.RootElement.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.Object
            ? ToWebhook(data, route)
            : throw new CalcomApiException((int)response.StatusCode, null, $"{route} answered without a webhook in data");
    }

    private static async Task<JsonDocument> ReadAsync(HttpResponseMessage response, string route, CancellationToken ct)
    {
        try
        {
            return await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(ct), default, ct);
        }
        catch (JsonException ex)
        {
            throw new CalcomApiException((int)response.StatusCode, null, $"{route} answered with a body that is not JSON", ex);
        }
    }

    private static CalcomWebhook ToWebhook(JsonElement w, string route)
    {
        var id = w.TryGetProperty("id", out var i) ? i.ValueKind switch
        {
            JsonValueKind.String => i.GetString(),
            JsonValueKind.Number => i.GetRawText(),
            _ => null,
        } : null;
        if (string.IsNullOrEmpty(id))
        {
            throw new CalcomApiException(200, null, $"{route} answered a webhook without an id");
        }

        var url = w.TryGetProperty("subscriberUrl", out var u) && u.ValueKind == JsonValueKind.String ? u.GetString() ?? "" : "";
        IReadOnlyList<string> triggers = w.TryGetProperty("triggers", out var t) && t.ValueKind == JsonValueKind.Array
            ? [.. t.EnumerateArray().Where(x => x.ValueKind == JsonValueKind.String).Select(x => x.GetString()!)]
            : [];
        var active = w.TryGetProperty("active", out var a) && a.ValueKind == JsonValueKind.True;
        return new CalcomWebhook(id, url, triggers, active);
    }

    private static Uri WithSlash(Uri baseUrl) => baseUrl.AbsoluteUri.EndsWith('/') ? baseUrl : new Uri(baseUrl.AbsoluteUri + "/");
}
