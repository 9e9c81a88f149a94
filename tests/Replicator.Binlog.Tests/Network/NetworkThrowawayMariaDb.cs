using System.Diagnostics;
using Replicator.Binlog.Network;
using Replicator.Testing;

namespace Replicator.Binlog.Tests.Network;

/// <summary>
/// A private MariaDB for one test class (the shared <see cref="ThrowawayMariaDb"/> launcher) set up
/// for the binlog client: a row-based binlog with full images and metadata, GTID strict mode,
/// optionally TLS with certificates of its own, and a capture user with the replication grants.
/// Tests may kill, freeze or reconfigure it; it is killed and its directory removed on dispose.
/// </summary>
public sealed class NetworkThrowawayMariaDb : IAsyncDisposable
{
    public const string CdcUser = "nettest_cdc";
    public const string CdcPassword = "throwaway-cdc-password";

    private readonly ThrowawayMariaDb _server;

    private NetworkThrowawayMariaDb(ThrowawayMariaDb server, NetworkTestCertificates? certificates)
    {
        _server = server;
        Certificates = certificates;
    }

    public int Port => _server.Port;

    public int ProcessId => _server.ProcessId ?? throw new InvalidOperationException("The throwaway MariaDB is not running.");

    public NetworkTestCertificates? Certificates { get; }

    public static async Task<NetworkThrowawayMariaDb> StartAsync(bool tls = false, bool binaryLog = true)
    {
        var directory = Directory.CreateTempSubdirectory("replicator-nettest-").FullName;
        var certificates = tls ? NetworkTestCertificates.Create(Path.Combine(directory, "tls")) : null;
        List<string> options =
        [
            "--server-id=1", binaryLog ? $"--log-bin={Path.Combine(directory, "data", "mariadb-bin")}" : "--skip-log-bin",
            "--binlog-format=ROW", "--binlog-row-image=FULL", "--binlog-row-metadata=FULL", "--gtid-strict-mode=ON",
            "--character-set-server=utf8mb4", "--innodb-buffer-pool-size=32M",
            "--innodb-flush-log-at-trx-commit=2", "--max-allowed-packet=64M",
        ];
        if (certificates is not null)
        {
            options.Add($"--ssl-ca={certificates.CaFile}");
            options.Add($"--ssl-cert={certificates.ServerCertificateFile}");
            options.Add($"--ssl-key={certificates.ServerKeyFile}");
        }

        ThrowawayMariaDb? server = null;
        try
        {
            server = await ThrowawayMariaDb.StartAsync(new ThrowawayMariaDbOptions { Name = "nettest", Directory = directory, ServerOptions = options });
            await server.ExecuteAsync(
                $"CREATE USER '{CdcUser}'@'127.0.0.1' IDENTIFIED BY '{CdcPassword}';"
                + $"GRANT REPLICATION SLAVE, REPLICATION CLIENT, SELECT ON *.* TO '{CdcUser}'@'127.0.0.1';");
            return new NetworkThrowawayMariaDb(server, certificates);
        }
        catch
        {
            if (server is not null)
            {
                await server.DisposeAsync();
            }

            certificates?.Dispose();
            DeleteDirectory(directory);
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

    /// <summary>Runs SQL as root over the unix socket (the mariadb client) and returns the tab-separated output.</summary>
    public async Task<string> SqlAsync(string sql)
    {
        var start = new ProcessStartInfo(Tools.Require("mariadb", "mariadb-client"))
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in new[] { "--no-defaults", "-u" + Environment.UserName, $"--socket={_server.Socket}", "--batch", "--skip-column-names", "-e", sql })
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("mariadb did not start");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return process.ExitCode == 0
            ? await output
            : throw new InvalidOperationException($"mariadb failed with exit code {process.ExitCode}: {(await error).Trim()}");
    }

    public Task SignalAsync(string signal)
    {
        _server.Signal(signal);
        return Task.CompletedTask;
    }

    /// <summary>kill -9, and wait until the process is gone.</summary>
    public Task KillAsync()
    {
        _server.Kill();
        return Task.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_server.ProcessId is not null)
            {
                // A frozen server must run again to die of SIGKILL promptly.
                _server.Thaw();
            }

            await _server.DisposeAsync();
        }
        finally
        {
            Certificates?.Dispose();
            DeleteDirectory(_server.Directory);
        }
    }

    private static void DeleteDirectory(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
            // A file still held open by a dying process: the temporary directory is cleaned up later.
        }
    }
}
