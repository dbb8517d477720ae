using System.Collections.Concurrent;
using AskPro.Functions.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AskPro.Functions.Tests.Infrastructure;

/// <summary>
/// The app's real object graph (<c>AddAskProFunctions</c>) over the given settings,
/// with every log line captured so tests can check what is (and is not) logged.
/// </summary>
public sealed class TestApp : IAsyncDisposable
{
    public const string Secret = "askpro-test-secret-7f3c9a1e5b2d8c4f6a0e";
    public const string SecondSecret = "askpro-rotated-secret-2b8e4d6f0a1c3e5b7d9f";

    private TestApp(ServiceProvider services, LogCapture logs)
    {
        Services = services;
        Logs = logs;
    }

    public ServiceProvider Services { get; }
    public LogCapture Logs { get; }

    public T Get<T>() where T : notnull => Services.GetRequiredService<T>();

    public static Dictionary<string, string?> Settings(string storageConnectionString) => new()
    {
        ["AzureWebJobsStorage"] = storageConnectionString,
        ["CalcomWebhook:Secrets:0"] = Secret,
        ["CalcomWebhook:Secrets:1"] = SecondSecret,
        ["ReconciliationSchedule"] = "0 */10 * * * *",
    };

    public static TestApp Create(string storageConnectionString, Action<Dictionary<string, string?>>? edit = null, Action<IServiceCollection>? services = null)
    {
        var settings = Settings(storageConnectionString);
        edit?.Invoke(settings);
        return Create(settings, services);
    }

    public static TestApp Create(Dictionary<string, string?> settings, Action<IServiceCollection>? services = null)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var logs = new LogCapture();
        var collection = new ServiceCollection();
        collection.AddSingleton<IConfiguration>(configuration);
        collection.AddLogging(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Trace));
        collection.AddAskProFunctions(configuration);
        services?.Invoke(collection);
        return new TestApp(collection.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true }), logs);
    }

    public ValueTask DisposeAsync() => Services.DisposeAsync();
}

public sealed class LogCapture : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _lines = new();

    public IReadOnlyCollection<string> Lines => _lines;

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _lines);

    public void Dispose()
    {
    }

    private sealed class Logger(string category, ConcurrentQueue<string> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            // The whole structured state, not only the message: a property that is not in the template is still logged.
            var properties = state is IEnumerable<KeyValuePair<string, object?>> kv ? string.Join(";", kv.Select(p => $"{p.Key}={p.Value}")) : "";
            var line = $"{logLevel} {category} [{eventId.Id}] {formatter(state, exception)} | {properties} | {exception}";
            LogAudit.Check(line);
            lines.Enqueue(line);
        }
    }
}
