using System.Collections.Concurrent;
using Azure.Core;
using Azure.Core.Pipeline;

namespace AskPro.Functions.Tests.Infrastructure;

/// <summary>Counts the storage requests the app's clients send (registered in DI, StorageClients adds it to every client).</summary>
public sealed class RequestCounter : HttpPipelinePolicy
{
    private readonly ConcurrentQueue<string> _requests = new();

    /// <summary>"table GET", "table POST" (a transaction), "queue POST", …</summary>
    public IReadOnlyCollection<string> Requests => _requests;

    public int Table => _requests.Count(r => r.StartsWith("table", StringComparison.Ordinal));

    /// <summary>Point reads of erasure tombstones (<c>del_…</c>), which an event pays only for a uid new to the table.</summary>
    public int Tombstones => _requests.Count(r => r.StartsWith("table GET", StringComparison.Ordinal) && r.Contains("'del_", StringComparison.Ordinal));

    public void Reset() => _requests.Clear();

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        Record(message);
        ProcessNext(message, pipeline);
    }

    public override ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        Record(message);
        return ProcessNextAsync(message, pipeline);
    }

    private void Record(HttpMessage message) =>
        _requests.Enqueue($"{ServiceOf(message.Request)} {message.Request.Method} {message.Request.Uri.ToUri().AbsolutePath}");

    /// <summary>"table", "queue" or "blob": which storage service a request goes to.</summary>
    public static string ServiceOf(Request request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var path = request.Uri.Path;
        // Azure.Data.Tables sends the OData DataServiceVersion header on every request (a transaction is one $batch POST).
        return request.Headers.TryGetValue("DataServiceVersion", out _) || path.EndsWith("$batch", StringComparison.Ordinal)
            ? "table" : path.Contains("/messages", StringComparison.Ordinal) ? "queue" : "blob";
    }
}
