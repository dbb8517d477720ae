using System.Diagnostics;
using System.Net.Http.Headers;

namespace AskPro.Send;

/// <summary>What one delivery got back.</summary>
public sealed record Delivery(Webhook Webhook, int StatusCode, string ReasonPhrase, string Body, TimeSpan Elapsed)
{
    public bool Succeeded => StatusCode is >= 200 and < 300;
}

/// <summary>
/// Posts bodies the way Cal.com does: the exact bytes, <c>Content-Type: application/json</c> (no charset), the
/// signature header, no redirects followed by the caller's handler and no retry (Cal.com sends each webhook once).
/// </summary>
public sealed class WebhookSender(HttpClient http, Uri url, string secret)
{
    public async Task<Delivery> SendAsync(Webhook webhook, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(webhook);
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(webhook.Body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.TryAddWithoutValidation(CalcomSignature.HeaderName, CalcomSignature.Sign(webhook.Body, secret));
        var started = Stopwatch.GetTimestamp();
        using var response = await http.SendAsync(request, ct);
        var body = await response.Content.ReadAsStringAsync(ct);
        return new Delivery(webhook, (int)response.StatusCode, response.ReasonPhrase ?? "", body, Stopwatch.GetElapsedTime(started));
    }

    /// <summary>
    /// A story out of order with re-deliveries, as Cal.com's unordered, duplicating deliveries can look: one body
    /// always twice, each other one twice with probability ⅓, then shuffled.
    /// </summary>
    public static IReadOnlyList<Webhook> ShuffledWithDuplicates(IReadOnlyList<Webhook> story, Random random)
    {
        ArgumentNullException.ThrowIfNull(story);
        ArgumentNullException.ThrowIfNull(random);
        var plan = new List<Webhook>(story);
        if (story.Count > 0)
        {
            var always = random.Next(story.Count);
            plan.AddRange(story.Where((_, i) => i == always || random.Next(3) == 0));
        }

        var shuffled = plan.ToArray();
        random.Shuffle(shuffled);
        return shuffled;
    }
}
