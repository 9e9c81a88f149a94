using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Replicator.Binlog.Network;

namespace Replicator.Binlog.Tests.Network;

/// <summary>
/// A private MariaDB started for one test class, in a temporary directory on a free port, the way
/// deploy/local/servers.sh starts the shared one (--no-defaults first). Tests may kill, freeze or
/// reconfigure it; it is killed and its directory removed on dispose. It needs the mariadb-server
/// package (mariadbd, mariadb-install-db, mariadb).
/// </summary>
public sealed class NetworkThrowawayMariaDb : IAsyncDisposable
{
    public const string CdcUser = "nettest_cdc";
    public const string CdcPassword = "throwaway-cdc-password";

    private readonly Process _process;

    private NetworkThrowawayMariaDb(string directory, int port, Process process, NetworkTestCertificates? certificates)
    {
        Directory = directory;
        Port = port;
        _process = process;
        Certificates = certificates;
    }

    public string Directory { get; }

    public int Port { get; }

    public int ProcessId => _process.Id;

    public NetworkTestCertificates? Certificates { get; }

    private string Socket => Path.Combine(Directory, "mariadb.sock");

    public static async Task<NetworkThrowawayMariaDb> StartAsync(bool tls = false, bool binaryLog = true)
    {
        var directory = Path.Combine(Path.GetTempPath(), "replicator-nettest-" + Guid.NewGuid().ToString("N")[..12]);
        System.IO.Directory.CreateDirectory(Path.Combine(directory, "binlog"));
        var user = Environment.UserName;
        await RunAsync(Find("mariadb-install-db"),
            ["--no-defaults", $"--user={user}", $"--datadir={Path.Combine(directory, "data")}", "--auth-root-authentication-method=normal", "--skip-test-db"]);

        var certificates = tls ? NetworkTestCertificates.Create(Path.Combine(directory, "tls")) : null;
        var port = FreePort();
        var arguments = new List<string>
        {
            "--no-defaults", $"--user={user}", $"--datadir={Path.Combine(directory, "data")}",
            $"--socket={Path.Combine(directory, "mariadb.sock")}", $"--port={port}", "--bind-address=127.0.0.1",
            $"--pid-file={Path.Combine(directory, "mariadb.pid")}", $"--log-error={Path.Combine(directory, "error.log")}",
            "--server-id=1", binaryLog ? $"--log-bin={Path.Combine(directory, "binlog", "mariadb-bin")}" : "--skip-log-bin",
            "--binlog-format=ROW", "--binlog-row-image=FULL", "--binlog-row-metadata=FULL", "--gtid-strict-mode=ON",
            "--skip-name-resolve", "--character-set-server=utf8mb4", "--innodb-buffer-pool-size=32M",
            "--innodb-flush-log-at-trx-commit=2", "--max-allowed-packet=64M",
        };
        if (certificates is not null)
        {
            arguments.Add($"--ssl-ca={certificates.CaFile}");
            arguments.Add($"--ssl-cert={certificates.ServerCertificateFile}");
            arguments.Add($"--ssl-key={certificates.ServerKeyFile}");
        }

        var start = new ProcessStartInfo(Find("mariadbd"))
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("mariadbd did not start");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new NetworkThrowawayMariaDb(directory, port, process, certificates);
        try
        {
            await server.WaitUntilReadyAsync();
            await server.SqlAsync(
                $"CREATE USER '{CdcUser}'@'127.0.0.1' IDENTIFIED BY '{CdcPassword}';"
                + $"GRANT REPLICATION SLAVE, REPLICATION CLIENT, SELECT ON *.* TO '{CdcUser}'@'127.0.0.1';");
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>The capture user over TCP, without TLS unless asked.</summary>
    public BinlogClientOptions Cdc(uint serverId) => new()
    {
        Host = "127.0.0.1",
        Port = Port,
        User = CdcUser,
        Password = CdcPassword,
        ServerId = serverId,
        SslMode = BinlogSslMode.None,
        ConnectTimeout = TimeSpan.FromSeconds(10),
    };

    /// <summary>Runs SQL as root over the Unix socket and returns the tab-separated output.</summary>
    public Task<string> SqlAsync(string sql) =>
        RunAsync(Find("mariadb"), ["--no-defaults", "-uroot", $"--socket={Socket}", "--batch", "--skip-column-names", "-e", sql]);

    public Task SignalAsync(string signal) => RunAsync("kill", [$"-{signal}", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);

    /// <summary>kill -9, and wait until the process is gone.</summary>
    public async Task KillAsync()
    {
        _process.Kill();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _process.WaitForExitAsync(timeout.Token);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                await SignalAsync("CONT");
                _process.Kill();
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                await _process.WaitForExitAsync(timeout.Token);
            }
        }
        finally
        {
            _process.Dispose();
            Certificates?.Dispose();
            try
            {
                System.IO.Directory.Delete(Directory, recursive: true);
            }
            catch (IOException)
            {
                // A file still held open by a dying process: the temp directory is cleaned up later.
            }
        }
    }

    private async Task WaitUntilReadyAsync()
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"mariadbd exited with {_process.ExitCode}: {ErrorLogTail()}");
            }

            try
            {
                await SqlAsync("SELECT 1");
                return;
            }
            catch (InvalidOperationException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
            }
        }
    }

    private string ErrorLogTail()
    {
        var log = Path.Combine(Directory, "error.log");
        return File.Exists(log) ? string.Join(" | ", File.ReadLines(log).TakeLast(5)) : "no error log";
    }

    private static async Task<string> RunAsync(string file, IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(file)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{file} did not start");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return process.ExitCode == 0
            ? await output
            : throw new InvalidOperationException($"{Path.GetFileName(file)} failed with exit code {process.ExitCode}: {(await error).Trim()}");
    }

    private static string Find(string name)
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        foreach (var directory in path.Split(Path.PathSeparator).Concat(["/usr/sbin", "/usr/local/sbin", "/usr/bin"]))
        {
            var candidate = Path.Combine(directory, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException($"{name} is not installed; install the mariadb-server package (deploy/local/servers.sh start does)");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
