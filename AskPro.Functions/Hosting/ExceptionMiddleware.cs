using AskPro.Functions.Webhooks;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Middleware;
using Microsoft.Extensions.Logging;

namespace AskPro.Functions.Hosting;

/// <summary>
/// The one place an unexpected exception of an HTTP function becomes a uniform 500: no stack trace, message,
/// secret or personal data leaves the process, and the log line names only the exception type and invocation.
/// Queue functions rethrow, so the host retries and finally moves the message to the poison queue.
/// </summary>
public sealed partial class ExceptionMiddleware(ILogger<ExceptionMiddleware> logger) : IFunctionsWorkerMiddleware
{
    public async Task Invoke(FunctionContext context, FunctionExecutionDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        try
        {
            await next(context);
        }
        catch (Exception ex) when (context.GetHttpContext() is { } http && !http.Response.HasStarted)
        {
            await HandleUnexpectedAsync(logger, context.FunctionDefinition.Name, context.InvocationId, ex, http.Response);
        }
    }

    /// <summary>
    /// Logs an unexpected exception of an HTTP function (type only) and answers the uniform 500. Public so that a
    /// host other than the Functions worker (the local host under tools/) handles it exactly the same way.
    /// </summary>
    public static Task HandleUnexpectedAsync(ILogger logger, string functionName, string invocationId, Exception exception, HttpResponse response)
    {
        ArgumentNullException.ThrowIfNull(exception);
        Log.Unhandled(logger, functionName, invocationId, exception.GetType().Name);
        return WriteInternalErrorAsync(response);
    }

    public static Task WriteInternalErrorAsync(HttpResponse response) =>
        ApiResult.Error(StatusCodes.Status500InternalServerError, ErrorCodes.InternalError,
            "An unexpected error occurred; the delivery was not stored. Please retry.").WriteAsync(response);

    private static partial class Log
    {
        [LoggerMessage(EventId = 9000, Level = LogLevel.Error, Message = "Function {FunctionName} invocation {InvocationId} failed unexpectedly: {ExceptionType}")]
        public static partial void Unhandled(ILogger logger, string functionName, string invocationId, string exceptionType);
    }
}
