using System.Collections.Concurrent;
using System.Text.Json;
using AskPro.Functions.Queueing;
using AskPro.Functions.Storage;
using AskPro.Functions.Tests.Infrastructure;
using AskPro.LocalHost;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using Microsoft.Azure.WebJobs;
using Microsoft.Azure.WebJobs.Host;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AskPro.Functions.Tests.Queueing;

/// <summary>
/// The WebJobs SDK queue listener (Microsoft.Azure.WebJobs.Extensions.Storage.Queues, the version the Functions host
/// loads for this app) hosted in-process on a real Azurite, configured the way the host configures it: the top-level
/// host.json under <c>AzureFunctionsJobHost</c>, which the SDK binds to <see cref="QueuesOptions"/> itself.
/// Its one job calls the app's real <see cref="CalcomEventProcessor"/> exactly as <see cref="ApplyCalcomEventFunction"/>
/// does and records every attempt, so a test sees what the host's retry and poison handling did.
/// </summary>
public sealed class QueueListenerHarness : IAsyncDisposable
{
    /// <summary>The configuration section the Functions host loads host.json into.</summary>
    public const string HostJsonRoot = LocalFunctionsHost.HostJsonRoot;

    private readonly IHost _host;

    private QueueListenerHarness(IHost host, AttemptLog attempts, LogCapture logs)
    {
        _host = host;
        Attempts = attempts;
        HostLogs = logs;
        Options = host.Services.GetRequiredService<IOptions<QueuesOptions>>().Value;
    }

    public AttemptLog Attempts { get; }

    /// <summary>The SDK's own log lines (listener, poison handling, function results).</summary>
    public LogCapture HostLogs { get; }

    /// <summary>The options the listener runs with, as the SDK resolved them.</summary>
    public QueuesOptions Options { get; }

    public static string HostJsonPath => Path.Combine(Azurite.RepoRoot(), "host.json");

    /// <summary>host.json flattened into configuration keys under <see cref="HostJsonRoot"/>, as the host does.</summary>
    public static Dictionary<string, string?> HostJsonSettings() => LocalFunctionsHost.HostJson(HostJsonPath);

    /// <summary>The <c>extensions.queues</c> object of host.json, read with a JSON parser, not the configuration binder.</summary>
    public static JsonElement HostJsonQueues()
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(HostJsonPath));
        return doc.RootElement.GetProperty("extensions").GetProperty("queues").Clone();
    }

    /// <param name="storageConnectionString">The listener's <c>AzureWebJobsStorage</c> (where the queue lives).</param>
    /// <param name="processor">The app's processor (its own storage may differ, e.g. to take the tables down).</param>
    /// <param name="testTiming">Changes to the bound options for test speed only, applied after host.json.</param>
    public static async Task<QueueListenerHarness> StartAsync(string storageConnectionString, CalcomEventProcessor processor, Action<QueuesOptions>? testTiming = null)
    {
        var settings = HostJsonSettings();
        settings["AzureWebJobsConfigurationSection"] = HostJsonRoot;
        settings[StorageNames.Connection] = storageConnectionString;

        var attempts = new AttemptLog();
        var logs = new LogCapture();
        var job = new ApplyJob(processor, attempts);
        var host = new HostBuilder()
            .UseEnvironment(Environments.Production)
            .ConfigureWebJobs(b =>
            {
                b.AddAzureStorageQueues();
                if (testTiming is not null)
                {
                    b.Services.PostConfigure(testTiming);
                }
            })
            // After ConfigureWebJobs, so these settings win over any environment variable it adds.
            .ConfigureAppConfiguration(c => c.AddInMemoryCollection(settings))
            .ConfigureLogging(l => l.ClearProviders().AddProvider(logs).SetMinimumLevel(LogLevel.Debug))
            .ConfigureServices(s =>
            {
                s.AddSingleton<ITypeLocator>(new SingleTypeLocator(typeof(ApplyJob)));
                s.AddSingleton<IJobActivator>(new InstanceActivator(job));
            })
            .Build();
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await host.StartAsync(cts.Token);
        }
        catch
        {
            host.Dispose();
            throw;
        }

        return new QueueListenerHarness(host, attempts, logs);
    }

    public async ValueTask DisposeAsync()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await _host.StopAsync(cts.Token);
        }
        finally
        {
            _host.Dispose();
        }
    }

    /// <summary>Waits (polling, bounded) until <paramref name="condition"/> holds; fails with <paramref name="what"/> otherwise.</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Timed out after {timeout.TotalSeconds:F0} s waiting until {what}.");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>Messages in a queue, visible or not (0 when the queue does not exist).</summary>
    public static async Task<int> CountAsync(QueueClient queue)
    {
        if (!(await queue.ExistsAsync()).Value)
        {
            return 0;
        }

        return (await queue.GetPropertiesAsync()).Value.ApproximateMessagesCount;
    }

    /// <summary>The job the listener runs: the same call as <see cref="ApplyCalcomEventFunction"/>, with every attempt recorded.</summary>
    public sealed class ApplyJob(CalcomEventProcessor processor, AttemptLog attempts)
    {
        public async Task ApplyCalcomEvent(
            [QueueTrigger(StorageNames.WebhookQueue, Connection = StorageNames.Connection)] QueueMessage message,
            CancellationToken cancellationToken)
        {
            ArgumentNullException.ThrowIfNull(message);
            var started = DateTimeOffset.UtcNow;
            try
            {
                await processor.ProcessAsync(message, cancellationToken);
                attempts.Add(new Attempt(message.MessageId, message.DequeueCount, started, message.Body, null));
            }
            catch (Exception ex)
            {
                attempts.Add(new Attempt(message.MessageId, message.DequeueCount, started, message.Body, ex));
                throw;
            }
        }
    }

    private sealed class SingleTypeLocator(Type type) : ITypeLocator
    {
        public IReadOnlyList<Type> GetTypes() => [type];
    }

    private sealed class InstanceActivator(ApplyJob job) : IJobActivator
    {
        public T CreateInstance<T>() => job is T t ? t : throw new InvalidOperationException($"Only {nameof(ApplyJob)} is activated here, not {typeof(T)}.");
    }
}

/// <summary>One run of the job on one delivery of a message: what the processor saw and how it ended.</summary>
public sealed record Attempt(string MessageId, long DequeueCount, DateTimeOffset StartedAt, BinaryData Body, Exception? Failure)
{
    public bool Succeeded => Failure is null;
}

public sealed class AttemptLog
{
    private readonly ConcurrentQueue<Attempt> _attempts = new();

    public IReadOnlyList<Attempt> All => [.. _attempts];

    public void Add(Attempt attempt) => _attempts.Enqueue(attempt);

    public IReadOnlyList<Attempt> Of(string messageId) => [.. _attempts.Where(a => a.MessageId == messageId)];
}
