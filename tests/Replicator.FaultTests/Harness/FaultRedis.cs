using System.Diagnostics;
using StackExchange.Redis;

namespace Replicator.FaultTests.Harness;

/// <summary>
/// A private redis-server of one scenario (own port, own directory) with an append-only file
/// fsynced on every write, so a <c>SHUTDOWN NOSAVE</c> followed by a start gives back the same data.
/// </summary>
public sealed class FaultRedis : IAsyncDisposable
{
    private readonly string _redisServer;
    private Process? _process;
    private ConnectionMultiplexer? _client;
    private int _starts;

    private readonly string[] _bind;

    private FaultRedis(string directory, int port, string redisServer, string[] bind)
    {
        _bind = bind;
        Directory = directory;
        Port = port;
        _redisServer = redisServer;
    }

    public string Directory { get; }

    public int Port { get; }

    /// <summary>The StackExchange.Redis configuration string the nodes use.</summary>
    public string Configuration => $"127.0.0.1:{Port}";

    public int? ProcessId => _process is { HasExited: false } p ? p.Id : null;

    /// <summary>Starts a server bound to 127.0.0.1 and <paramref name="alsoBind"/>.</summary>
    public static async Task<FaultRedis> StartAsync(string directory, params string[] alsoBind)
    {
        var server = new FaultRedis(directory, Tools.FreePort(), Tools.Require("redis-server", "redis-server"), ["127.0.0.1", .. alsoBind]);
        System.IO.Directory.CreateDirectory(directory);
        await server.StartAsync();
        return server;
    }

    public async Task StartAsync()
    {
        if (_process is { HasExited: false })
        {
            throw new InvalidOperationException("Redis is already running.");
        }

        _starts++;
        _process = Tools.Spawn(
            _redisServer,
            [
                "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                "--bind", .. _bind,
                // Protected mode refuses every client off loopback while the default user has no
                // password; the only other address ever bound is F5's bridge, which exists only
                // between the test's own network namespaces and this host.
                "--protected-mode", _bind.Length > 1 ? "no" : "yes",
                "--dir", Directory,
                "--save", "",
                "--appendonly", "yes",
                "--appendfsync", "always",
                "--daemonize", "no",
                "--logfile", Path.Combine(Directory, "redis.log"),
            ],
            Path.Combine(Directory, $"stdout.{_starts}.log"));

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            try
            {
                var client = await ClientAsync();
                await client.GetDatabase().PingAsync();
                return;
            }
            catch (RedisException) when (DateTime.UtcNow < deadline && !_process.HasExited)
            {
                await Task.Delay(100);
            }
        }
    }

    /// <summary>
    /// kill -STOP the server: connections stay open and nothing answers, so commands time out on the
    /// client and run when <see cref="Thaw"/> resumes it, after the client has given up on them.
    /// </summary>
    public void Freeze() => Tools.Signal(ProcessId ?? throw new InvalidOperationException("Redis is not running."), "STOP");

    /// <summary>kill -CONT a frozen server.</summary>
    public void Thaw() => Tools.Signal(ProcessId ?? throw new InvalidOperationException("Redis is not running."), "CONT");

    /// <summary>SHUTDOWN NOSAVE (the AOF keeps the data), and waits until the process is gone.</summary>
    public async Task ShutdownAsync()
    {
        var client = await ClientAsync();
        try
        {
            await client.GetServer(Configuration).ExecuteAsync("SHUTDOWN", "NOSAVE");
        }
        catch (RedisException)
        {
            // The connection closes as the server goes away.
        }

        if (_process is not null)
        {
            if (!_process.WaitForExit(15_000))
            {
                throw new InvalidOperationException("Redis did not shut down within 15 s.");
            }

            ProcessRegistry.Forget(_process);
            _process = null;
        }
    }

    /// <summary>A client of the suite's own (admin allowed), reconnecting on its own.</summary>
    public async Task<ConnectionMultiplexer> ClientAsync()
    {
        if (_client is null)
        {
            var options = ConfigurationOptions.Parse(Configuration);
            options.AllowAdmin = true;
            options.AbortOnConnectFail = false;
            options.ConnectTimeout = 2000;
            options.SyncTimeout = 30_000;
            options.AsyncTimeout = 30_000;
            options.ClientName = "fault-suite";
            _client = await ConnectionMultiplexer.ConnectAsync(options);
        }

        return _client;
    }

    public async ValueTask DisposeAsync()
    {
        if (_client is not null)
        {
            await _client.DisposeAsync();
        }

        if (_process is not null)
        {
            ProcessRegistry.Kill(_process);
            _process = null;
        }
    }
}
