using Azure;

namespace AskPro.Functions.Storage;

/// <summary>
/// Which storage failures pass by themselves: timeouts, throttling (429, 503 ServerBusy), server errors and network
/// failures. Everything else (400, 403, 404, 413, a bug) would fail the same way on every retry.
/// </summary>
public static class TransientFailure
{
    public static bool Is(Exception exception, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return exception switch
        {
            // Status 0: no response at all (connection refused or reset, DNS), after the SDK's own retries.
            RequestFailedException rf => rf.Status is 0 or 408 or 429 or 500 or 502 or 503 or 504
                // Lost optimistic-concurrency races beyond the store's own re-reads: contention passes too.
                or 409 or 412,
            // The SDK's network timeout surfaces as a cancellation nobody asked for.
            OperationCanceledException => !ct.IsCancellationRequested,
            TimeoutException or IOException or HttpRequestException => true,
            AggregateException a => a.InnerExceptions.Count > 0 && a.InnerExceptions.All(e => Is(e, ct)),
            _ => false,
        };
    }
}
