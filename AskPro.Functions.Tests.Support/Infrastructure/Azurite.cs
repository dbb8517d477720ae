using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace AskPro.Functions.Tests.Infrastructure;

/// <summary>
/// A real Azurite (the npm package pinned in the top-level package.json), in memory, on free loopback ports.
/// Set ASKPRO_TEST_STORAGE to a connection string to use an already running emulator or account instead.
/// </summary>
public sealed class Azurite : IAsyncDisposable
{
    public const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
    private Process? _process;
    private string? _entry;
    private Ports? _ports;

    private Azurite(string connectionString, Process? process)
    {
        ConnectionString = connectionString;
        _process = process;
    }

    public string ConnectionString { get; }

    public bool IsExternal => _entry is null;

    public static async Task<Azurite> StartAsync(bool allowExternal = true)
    {
        if (allowExternal && Environment.GetEnvironmentVariable("ASKPRO_TEST_STORAGE") is { Length: > 0 } external)
        {
            return new Azurite(external, null);
        }

        var root = RepoRoot();
        var entry = Path.Combine(root, "node_modules", "azurite", "dist", "src", "azurite.js");
        if (!File.Exists(entry))
        {
            throw new InvalidOperationException($"Azurite is not installed: run 'npm ci' in {root} first (expected {entry}).");
        }

        for (var attempt = 1; ; attempt++)
        {
            var ports = new Ports(FreePort(), FreePort(), FreePort());
            if (await LaunchAsync(entry, ports) is { } process)
            {
                var cs = $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={AccountKey};"
                    + $"BlobEndpoint=http://127.0.0.1:{ports.Blob}/devstoreaccount1;QueueEndpoint=http://127.0.0.1:{ports.Queue}/devstoreaccount1;"
                    + $"TableEndpoint=http://127.0.0.1:{ports.Table}/devstoreaccount1;";
                return new Azurite(cs, process) { _entry = entry, _ports = ports };
            }

            if (attempt == 3)
            {
                throw new InvalidOperationException("Azurite did not start listening within 30 s (three attempts).");
            }
        }
    }

    /// <summary>
    /// Starts a stopped emulator again on the same ports, so clients built on <see cref="ConnectionString"/> reach it
    /// again (storage "briefly down"). The data is gone: it was in memory.
    /// </summary>
    public async Task RestartAsync()
    {
        if (_entry is null || _ports is null)
        {
            throw new InvalidOperationException("Only an emulator this class started can be restarted.");
        }

        await StopAsync();
        for (var attempt = 1; _process is null; attempt++)
        {
            _process = await LaunchAsync(_entry, _ports);
            if (_process is null && attempt == 3)
            {
                throw new InvalidOperationException("Azurite did not start again on its ports within 30 s (three attempts).");
            }
        }
    }

    private sealed record Ports(int Blob, int Queue, int Table);

    private static async Task<Process?> LaunchAsync(string entry, Ports ports)
    {
        var workspace = Directory.CreateTempSubdirectory("azurite-").FullName;
        var info = new ProcessStartInfo("node")
        {
            ArgumentList =
            {
                // In memory: Azurite 3.37 refuses --location together with --inMemoryPersistence, so the
                // workspace is only the working directory (for anything it still writes, e.g. a debug log).
                entry, "--inMemoryPersistence", "--disableTelemetry", "--silent", "--skipApiVersionCheck", "--loose",
                "--blobHost", "127.0.0.1", "--blobPort", ports.Blob.ToString(System.Globalization.CultureInfo.InvariantCulture),
                "--queueHost", "127.0.0.1", "--queuePort", ports.Queue.ToString(System.Globalization.CultureInfo.InvariantCulture),
                "--tableHost", "127.0.0.1", "--tablePort", ports.Table.ToString(System.Globalization.CultureInfo.InvariantCulture),
            },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workspace,
        };
        var process = Process.Start(info) ?? throw new InvalidOperationException("node could not be started");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (await WaitForPortsAsync(process, TimeSpan.FromSeconds(30), ports.Blob, ports.Queue, ports.Table))
        {
            return process;
        }

        Kill(process);
        process.Dispose();
        return null;
    }

    /// <summary>Stops the emulator (used to prove what happens when storage is down).</summary>
    public Task StopAsync()
    {
        if (_process is { } p)
        {
            Kill(p);
            p.Dispose();
            _process = null;
        }

        return Task.CompletedTask;
    }

    public ValueTask DisposeAsync() => new(StopAsync());

    public static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "AskPro.Functions.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("AskPro.Functions.sln not found above " + AppContext.BaseDirectory);
    }

    private static void Kill(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task<bool> WaitForPortsAsync(Process process, TimeSpan timeout, params int[] ports)
    {
        var deadline = DateTime.UtcNow + timeout;
        foreach (var port in ports)
        {
            while (true)
            {
                if (process.HasExited)
                {
                    return false;
                }

                try
                {
                    using var client = new TcpClient();
                    await client.ConnectAsync(IPAddress.Loopback, port);
                    break;
                }
                catch (SocketException) when (DateTime.UtcNow < deadline)
                {
                    await Task.Delay(100);
                }
                catch (SocketException)
                {
                    return false;
                }
            }
        }

        return true;
    }
}
