using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace Replicator.FaultTests.Harness;

/// <summary>
/// One <c>replicator run</c> cluster node as a separate process (dotnet replicator.dll) on
/// 127.0.0.1 (or on its own address in a network namespace, for F5), with its admin endpoint. It can be killed with SIGKILL and started again on the same
/// ports and config (a new incarnation); each incarnation logs to its own file.
/// </summary>
public sealed class NodeProcess
{
    /// <summary>The admin token of every node of this run (retry and purge need it); passed in the environment, never on the command line.</summary>
    public static readonly string AdminToken = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(24));

    private static readonly HttpClient Http = CreateHttp();

    private readonly string _evidence;
    private readonly Dictionary<string, long> _peakRssMb = new();
    private Process? _process;

    private readonly Func<string, IEnumerable<string>, (string File, IEnumerable<string> Arguments)>? _launcher;

    /// <param name="host">The address the node binds (remoting and admin endpoint).</param>
    /// <param name="launcher">Wraps the node's command line (to run it in a network namespace), or null.</param>
    public NodeProcess(string name, int akkaPort, int adminPort, string configPath, string evidence, string host = "127.0.0.1", Func<string, IEnumerable<string>, (string File, IEnumerable<string> Arguments)>? launcher = null)
    {
        Name = name;
        Host = host;
        _launcher = launcher;
        AkkaPort = akkaPort;
        AdminPort = adminPort;
        ConfigPath = configPath;
        _evidence = evidence;
    }

    public string Name { get; }

    public int AkkaPort { get; }

    public int AdminPort { get; }

    public string ConfigPath { get; }

    public string Host { get; }

    public string Address => $"akka.tcp://replicator@{Host}:{AkkaPort}";

    /// <summary>1 for the first process, 2 after the first restart, …</summary>
    public int Incarnation { get; private set; }

    public string LogPath => LogOf(Incarnation);

    public string LedgerPath => Path.Combine(_evidence, $"{Name}.ledger.tsv");

    public bool Running => _process is { HasExited: false };

    /// <summary>The crash point the next incarnation is configured with (replicator.testing.crash-at), or null.</summary>
    public NodeCrash? Crash { get; set; }

    /// <summary>The exit code of the current incarnation once it has exited on its own (134 after a crash point's abort), else null.</summary>
    public int? ExitCode => _process is { HasExited: true } p ? p.ExitCode : null;

    /// <summary>Waits until the current incarnation exits on its own; false when it still runs after <paramref name="timeout"/>.</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        if (_process is not { } process)
        {
            return true;
        }

        using var waited = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(waited.Token);
        }
        catch (OperationCanceledException)
        {
            return false;
        }

        ProcessRegistry.Forget(process);
        return true;
    }

    /// <summary>True when this incarnation's log shows that it exited at <paramref name="point"/> (the abort message of replicator.testing.crash-at).</summary>
    public bool LogShowsCrashAt(string point) =>
        File.Exists(LogPath) && ReadShared(LogPath).Contains($"replicator.testing.crash-at: crashing at {point} ", StringComparison.Ordinal);

    public int? ProcessId => Running ? _process!.Id : null;

    /// <summary>When the current incarnation was started.</summary>
    public DateTime StartedUtc { get; private set; }

    /// <summary>Peak resident memory (VmHWM) of every incarnation so far, in MB, by "node1", "node1#2", ….</summary>
    public IReadOnlyDictionary<string, long> PeakRssMb
    {
        get
        {
            SampleRss();
            lock (_peakRssMb)
            {
                return new Dictionary<string, long>(_peakRssMb);
            }
        }
    }

    public string LogOf(int incarnation) => Path.Combine(_evidence, $"{Name}.{incarnation}.log");

    public IEnumerable<string> AllLogs => Enumerable.Range(1, Incarnation).Select(LogOf);

    public void Start()
    {
        if (Running)
        {
            throw new InvalidOperationException($"{Name} is already running.");
        }

        Incarnation++;
        StartedUtc = DateTime.UtcNow;
        var environment = new Dictionary<string, string>
        {
            // Two cores for three nodes, two databases and Redis: workstation GC, bounded heap.
            ["DOTNET_gcServer"] = "0",
            ["DOTNET_GCHeapHardLimit"] = "0x20000000",
            ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
            ["REPLICATOR_ADMIN_TOKEN"] = AdminToken,
        };
        string[] command = [RepoPaths.ReplicatorDll, "run", "--config", ConfigPath, "--admin", $"{Host}:{AdminPort}"];
        var (file, arguments) = _launcher?.Invoke("dotnet", command) ?? ("dotnet", command);
        _process = Tools.Spawn(file, arguments, LogPath, environment);
    }

    /// <summary>kill -9 the node.</summary>
    public void Kill()
    {
        if (_process is null)
        {
            return;
        }

        SampleRss();
        ProcessRegistry.Kill(_process);
        _process = null;
    }

    /// <summary>Records the current incarnation's peak resident memory.</summary>
    public void SampleRss()
    {
        if (_process is not { HasExited: false } process)
        {
            return;
        }

        var mb = ReadVmHwmMb(process.Id);
        if (mb is null)
        {
            return;
        }

        var key = Incarnation == 1 ? Name : $"{Name}#{Incarnation}";
        lock (_peakRssMb)
        {
            _peakRssMb[key] = Math.Max(_peakRssMb.GetValueOrDefault(key), mb.Value);
        }
    }

    /// <summary>GET /status, or null when the node does not answer.</summary>
    public async Task<NodeStatus?> StatusAsync()
    {
        if (!Running)
        {
            return null;
        }

        try
        {
            var json = await Http.GetStringAsync($"http://{Host}:{AdminPort}/status");
            return NodeStatus.Parse(json);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException)
        {
            return null;
        }
    }

    public async Task<string> GetAsync(string path)
    {
        using var response = await Http.GetAsync($"http://{Host}:{AdminPort}{path}");
        var body = await response.Content.ReadAsStringAsync();
        return response.IsSuccessStatusCode ? body : throw new HttpRequestException($"GET {path} on {Name}: {(int)response.StatusCode} {body}");
    }

    public async Task<string> PostAsync(string path)
    {
        using var response = await Http.PostAsync($"http://{Host}:{AdminPort}{path}", content: null);
        var body = await response.Content.ReadAsStringAsync();
        return response.IsSuccessStatusCode ? body : throw new HttpRequestException($"POST {path} on {Name}: {(int)response.StatusCode} {body}");
    }

    private static HttpClient CreateHttp()
    {
        var http = new HttpClient { Timeout = TimeSpan.FromSeconds(8) };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", AdminToken);
        return http;
    }

    /// <summary>True when this incarnation's log says the capture singleton started reading here.</summary>
    public bool LogShowsCaptureReading(string source) =>
        Running && File.Exists(LogPath) && ReadShared(LogPath).Contains($"Capture {source}: reading", StringComparison.Ordinal);

    public static string ReadShared(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    private static long? ReadVmHwmMb(int pid)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                {
                    var kb = long.Parse(line["VmHWM:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
                    return kb / 1024;
                }
            }
        }
        catch (IOException)
        {
        }

        return null;
    }
}
