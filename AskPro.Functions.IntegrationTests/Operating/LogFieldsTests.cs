using System.Collections.Concurrent;
using AskPro.Functions.Queueing;
using AskPro.Functions.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;

namespace AskPro.Functions.Tests.Operating;

/// <summary>
/// Without Application Insights (local runs, the local host, tests) the same fields are on the log lines' state and
/// scopes, read here by a provider that sees scopes the way the console and the Application Insights logger do.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class LogFieldsTests(AzuriteFixture azurite)
{
    private sealed record Entry(int EventId, LogLevel Level, IReadOnlyDictionary<string, object?> Fields);

    private sealed class ScopeCapture : ILoggerProvider, ISupportExternalScope
    {
        private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();
        public ConcurrentQueue<Entry> Entries { get; } = new();
        public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;
        public ILogger CreateLogger(string categoryName) => new Logger(this);
        public void Dispose() { }

        private sealed class Logger(ScopeCapture owner) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => owner._scopes.Push(state);
            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                var fields = new Dictionary<string, object?>(StringComparer.Ordinal);
                owner._scopes.ForEachScope((scope, f) =>
                {
                    if (scope is IEnumerable<KeyValuePair<string, object?>> kv)
                    {
                        foreach (var (k, v) in kv)
                        {
                            f[k] = v;
                        }
                    }
                }, fields);
                if (state is IEnumerable<KeyValuePair<string, object?>> own)
                {
                    foreach (var (k, v) in own)
                    {
                        fields[k] = v;
                    }
                }

                owner.Entries.Enqueue(new Entry(eventId.Id, logLevel, fields));
            }
        }
    }

    [Fact]
    public async Task Apply_and_dead_letter_lines_carry_their_fields_in_state_and_scope_and_consoles_show_scopes()
    {
        var capture = new ScopeCapture();
        await using var app = TestApp.Create(azurite.ConnectionString, s => s["Appointments:TableName"] = "lf" + Guid.NewGuid().ToString("N")[..12],
            s => s.AddLogging(b => b.AddProvider(capture)));
        var body = Examples.Calcom("booking_created_web.json");
        var envelope = new WebhookEnvelope(WebhookEnvelope.CurrentVersion, WebhookQueue.DeliveryIdOf(body), DateTimeOffset.UtcNow, "BOOKING_CREATED",
            "k3VbP9qWm2xYc7RtL5nD8a", null, body.Length, System.Text.Encoding.UTF8.GetString(body), null);
        var processor = app.Get<CalcomEventProcessor>();

        var applied = await processor.ProcessAsync(new BinaryData(envelope.ToUtf8()), "m-apply", 3, CancellationToken.None);
        await processor.ProcessAsync(BinaryData.FromString("[]"), "m-dead", 1, CancellationToken.None);

        var apply = Assert.Single(capture.Entries, e => e.EventId == 2000);
        Assert.Equal("m-apply", apply.Fields["MessageId"]);
        Assert.Equal(3L, apply.Fields["DequeueCount"]);
        Assert.Equal(envelope.DeliveryId, apply.Fields["DeliveryId"]);
        Assert.Equal("BOOKING_CREATED", apply.Fields["TriggerEvent"]);
        Assert.Equal(applied!.AppointmentId, apply.Fields["AppointmentId"]);
        Assert.Equal("applied", apply.Fields["HistoryOutcome"]);
        Assert.IsType<double>(apply.Fields["DurationMs"]);
        Assert.IsType<double>(apply.Fields["QueueAgeSeconds"]);
        var dead = Assert.Single(capture.Entries, e => e.EventId == 2001);
        Assert.Equal(LogLevel.Error, dead.Level);
        Assert.Equal("m-dead", dead.Fields["MessageId"]);
        Assert.Equal("not_an_envelope", dead.Fields["ReasonKind"]);
        Assert.DoesNotContain(capture.Entries.SelectMany(e => e.Fields.Values), v => v?.ToString()?.Contains("k3VbP9qWm2xYc7RtL5nD8a", StringComparison.Ordinal) == true);

        Assert.True(app.Get<IOptionsMonitor<SimpleConsoleFormatterOptions>>().CurrentValue.IncludeScopes);
        Assert.True(app.Get<IOptionsMonitor<JsonConsoleFormatterOptions>>().CurrentValue.IncludeScopes);
    }
}
