using System.Globalization;
using AskPro.Functions.Webhooks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace AskPro.Functions.Operating;

/// <summary><c>GET /api/deadletter?max=</c> and <c>POST /api/deadletter/replay?max=&amp;dryRun=</c> (function key): thin adapters over <see cref="DeadLetterOperations"/>.</summary>
public sealed class DeadLetterFunctions(DeadLetterOperations operations)
{
    [Function(nameof(DeadLetterList))]
    public async Task<IActionResult> DeadLetterList(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "deadletter")] HttpRequest request,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (Max(request, DeadLetterOperations.MaxList, DeadLetterOperations.MaxList) is not { } max)
        {
            return Invalid($"max must be a whole number from 1 to {DeadLetterOperations.MaxList}.");
        }

        return new OperatorResult<DeadLetterListBody>(await operations.ListAsync(max, cancellationToken), OperatorJsonContext.Default.DeadLetterListBody);
    }

    [Function(nameof(DeadLetterReplay))]
    public async Task<IActionResult> DeadLetterReplay(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "deadletter/replay")] HttpRequest request,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (Max(request, 10, DeadLetterOperations.MaxReplay) is not { } max)
        {
            return Invalid($"max must be a whole number from 1 to {DeadLetterOperations.MaxReplay}.");
        }

        var dryRunText = request.Query["dryRun"].ToString();
        if (dryRunText.Length > 0 && !bool.TryParse(dryRunText, out _))
        {
            return Invalid("dryRun must be true or false.");
        }

        var dryRun = dryRunText.Length > 0 && bool.Parse(dryRunText);
        return new OperatorResult<ReplayReport>(await operations.ReplayAsync(max, dryRun, cancellationToken), OperatorJsonContext.Default.ReplayReport);
    }

    private static int? Max(HttpRequest request, int fallback, int limit)
    {
        var text = request.Query["max"].ToString();
        if (text.Length == 0)
        {
            return fallback;
        }

        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var max) && max >= 1 && max <= limit ? max : null;
    }

    private static ApiResult Invalid(string message) => ApiResult.Error(StatusCodes.Status400BadRequest, OperatorErrorCodes.InvalidQuery, message);
}
