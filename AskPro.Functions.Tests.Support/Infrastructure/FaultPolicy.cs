using Azure;
using Azure.Core;
using Azure.Core.Pipeline;

namespace AskPro.Functions.Tests.Infrastructure;

/// <summary>
/// Injects storage failures into the app's own clients (registered in DI; StorageClients adds it to every client,
/// inside the SDK's retry loop, so the SDK's retries see each failure too). <see cref="Fault"/> decides per request:
/// null lets it through, an exception fails it before it is sent.
/// </summary>
public sealed class FaultPolicy : HttpPipelinePolicy
{
    private int _injected;

    public Func<string, HttpMessage, Exception?>? Fault { get; set; }

    /// <summary>Decides after the request was sent and answered: the work is done, but the caller sees a failure (a lost response, a crash).</summary>
    public Func<string, HttpMessage, Exception?>? FaultAfter { get; set; }

    public int Injected => Volatile.Read(ref _injected);

    /// <summary>503 ServerBusy, the Table service's throttling answer, for every request to <paramref name="service"/>.</summary>
    public static Exception? ServerBusy(string service, string actual) =>
        actual == service ? new RequestFailedException(503, "injected: the server is busy", "ServerBusy", null) : null;

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        Check(Fault, message);
        ProcessNext(message, pipeline);
        Check(FaultAfter, message);
    }

    public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        Check(Fault, message);
        await ProcessNextAsync(message, pipeline);
        Check(FaultAfter, message);
    }

    private void Check(Func<string, HttpMessage, Exception?>? fault, HttpMessage message)
    {
        if (fault?.Invoke(ServiceOf(message), message) is { } failure)
        {
            Interlocked.Increment(ref _injected);
            throw failure;
        }
    }

    /// <summary>"table", "queue" or "blob".</summary>
    public static string ServiceOf(HttpMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var uri = message.Request.Uri.ToUri();
        return message.Request.Headers.TryGetValue("DataServiceVersion", out _) || uri.AbsolutePath.EndsWith("$batch", StringComparison.Ordinal)
            // Every queue is calcom-webhooks[-…]; no container name contains it ("calcom-webhook-bodies", "calcom-dead-letters").
            ? "table" : uri.AbsolutePath.Contains("/calcom-webhooks", StringComparison.Ordinal) ? "queue" : "blob";
    }
}
