using System.Globalization;

namespace AskPro.LocalHost;

/// <summary>
/// The local host's console for a person, as <c>func start</c> shows it: the functions and the URL once, then one line
/// per delivery the webhook answered (event 1000: trigger, status code, delivery id) and one per applied event (event
/// 2000: trigger, outcome, status, appointment id, delivery id), and every warning and error. Never a uid, its
/// pseudonym, a name, an e-mail or a body; an exception shows its type only. Everything else (the WebJobs SDK's option
/// dumps, ASP.NET Core's per-request lines, the product's other Information lines) is left to <c>--verbose</c>,
/// which keeps the default console logger instead.
/// </summary>
public sealed class PersonConsole(TextWriter writer, TimeProvider time) : ILoggerProvider
{
    /// <summary>The product's "delivery answered" event (CalcomWebhookFunction).</summary>
    public const int DeliveryEvent = 1000;
    /// <summary>The product's "event applied" event (CalcomEventProcessor).</summary>
    public const int AppliedEvent = 2000;

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    /// <summary>One line, whole, even when several threads write (locked on the writer, so a reader can lock it too).</summary>
    public void WriteLine(string line)
    {
        lock (writer)
        {
            writer.WriteLine(line);
            writer.Flush();
        }
    }

    /// <summary>The console line for one log entry, or null when it belongs to <c>--verbose</c> only.</summary>
    public static string? Line(DateTimeOffset at, string category, LogLevel level, EventId eventId, IReadOnlyList<KeyValuePair<string, object?>> fields, string message, Exception? exception)
    {
        ArgumentNullException.ThrowIfNull(fields);
        var clock = at.ToLocalTime().ToString("HH:mm:ss", CultureInfo.InvariantCulture);
        string Field(string name) => Convert.ToString(fields.FirstOrDefault(f => f.Key == name).Value, CultureInfo.InvariantCulture) ?? "";

        if (level < LogLevel.Warning)
        {
            return eventId.Id switch
            {
                DeliveryEvent => $"{clock} delivery {Or(Field("TriggerEvent"), "(no trigger)")} → {Field("StatusCode")} {Field("Outcome")} " +
                    $"({Milliseconds(fields)} ms), delivery {Short(Field("DeliveryId"))}",
                AppliedEvent => $"{clock} applied  {Field("TriggerEvent")} → {Field("Outcome").ToLowerInvariant()}, status {Field("Status")}" +
                    $"{(Field("HasConflict") == "True" ? ", conflict" : "")}, {Field("AppointmentId")}, delivery {Short(Field("DeliveryId"))}",
                _ => null,
            };
        }

        var tag = level switch
        {
            LogLevel.Warning => "warn",
            LogLevel.Error => "error",
            _ => "crit",
        };
        var source = category.StartsWith("AskPro.", StringComparison.Ordinal) ? category[(category.LastIndexOf('.') + 1)..] : category;
        var line = $"{clock} {tag}     {source}[{eventId.Id}]: {message}";
        return exception is null ? line : $"{line} ({exception.GetType().Name}; --verbose shows it)";
    }

    private static string Or(string value, string otherwise) => value.Length == 0 ? otherwise : value;

    /// <summary>The first 12 hex digits: enough to find the delivery in the sender's output and the logs.</summary>
    private static string Short(string deliveryId) => deliveryId.Length > 12 ? deliveryId[..12] : Or(deliveryId, "-");

    private static string Milliseconds(IReadOnlyList<KeyValuePair<string, object?>> fields) =>
        fields.FirstOrDefault(f => f.Key == "DurationMs").Value is double ms ? ms.ToString("F0", CultureInfo.InvariantCulture) : "?";

    private sealed class Logger(PersonConsole console, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel) || (logLevel < LogLevel.Warning && eventId.Id is not (DeliveryEvent or AppliedEvent)))
            {
                return;
            }

            var fields = state as IReadOnlyList<KeyValuePair<string, object?>> ?? [];
            if (Line(console.Now, category, logLevel, eventId, fields, formatter(state, exception), exception) is { } line)
            {
                console.WriteLine(line);
            }
        }
    }

    private DateTimeOffset Now => time.GetLocalNow();
}
