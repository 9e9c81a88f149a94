using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using MySqlConnector;

namespace Replicator.IntegrationTests.Infrastructure;

/// <summary>
/// A private MariaDB instance of a test's own, with the server options the test chooses (no binlog,
/// statement-based binlog, …), on a free port with a temporary data directory. Disposed with its data.
/// </summary>
public sealed class ThrowawayMariaDb : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _directory;

    private ThrowawayMariaDb(Process process, string directory, int port)
    {
        _process = process;
        _directory = directory;
        Port = port;
    }

    public int Port { get; }

    public string RootSocket => Path.Combine(_directory, "sock");

    /// <summary>The server's data directory, where its binlog files are.</summary>
    public string DataDirectory => Path.Combine(_directory, "data");

    /// <summary>The process id of the server.</summary>
    public int ProcessId => _process.Id;

    public static async Task<ThrowawayMariaDb> StartAsync(params string[] options)
    {
        var directory = Directory.CreateTempSubdirectory("replicator-mariadb-").FullName;
        var user = Environment.UserName;
        await RunAsync("mariadb-install-db", "--no-defaults", $"--user={user}", $"--datadir={directory}/data", "--auth-root-authentication-method=socket", "--skip-test-db");
        var port = FreePort();
        var start = new ProcessStartInfo(File.Exists("/usr/sbin/mariadbd") ? "/usr/sbin/mariadbd" : "mariadbd") { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var argument in new[] { "--no-defaults", $"--user={user}", $"--datadir={directory}/data", $"--socket={directory}/sock", $"--port={port}", "--bind-address=127.0.0.1", $"--pid-file={directory}/pid", "--skip-name-resolve" }.Concat(options))
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start)!;
        var server = new ThrowawayMariaDb(process, directory, port);
        for (var i = 0; i < 100; i++)
        {
            try
            {
                await server.RootExecuteAsync("SELECT 1");
                return server;
            }
            catch (MySqlException)
            {
                await Task.Delay(200);
            }
        }

        await server.DisposeAsync();
        throw new InvalidOperationException("The throwaway MariaDB did not start.");
    }

    public async Task RootExecuteAsync(string sql)
    {
        await using var connection = new MySqlConnection($"Server={RootSocket};Protocol=Unix;User ID={Environment.UserName};Pooling=false");
        await connection.OpenAsync();
        await using var command = new MySqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>Runs <paramref name="sql"/> as root and returns every row of its last result.</summary>
    public async Task<List<object?[]>> RootQueryAsync(string sql)
    {
        await using var connection = new MySqlConnection($"Server={RootSocket};Protocol=Unix;User ID={Environment.UserName};Pooling=false");
        await connection.OpenAsync();
        await using var command = new MySqlCommand(sql, connection) { CommandTimeout = 600 };
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<object?[]>();
        do
        {
            rows.Clear();
            while (await reader.ReadAsync())
            {
                var row = new object?[reader.FieldCount];
                for (var i = 0; i < row.Length; i++)
                {
                    row[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
                }

                rows.Add(row);
            }
        }
        while (await reader.NextResultAsync());

        return rows;
    }

    /// <summary>Creates a user for 127.0.0.1 with <paramref name="grants"/> (e.g. <c>REPLICATION SLAVE, SELECT</c>) and returns its connection string.</summary>
    public async Task<string> CreateUserAsync(string user, string grants)
    {
        await RootExecuteAsync($"CREATE USER '{user}'@'127.0.0.1' IDENTIFIED BY 'pw-{user}'" + (grants.Length > 0 ? $"; GRANT {grants} ON *.* TO '{user}'@'127.0.0.1'" : ""));
        return ConnectionString(user);
    }

    /// <summary>The connection string of a user made by <see cref="CreateUserAsync"/>.</summary>
    public string ConnectionString(string user) => $"Server=127.0.0.1;Port={Port};User ID={user};Password=pw-{user}";

    /// <summary>The server's binlog files in order (SHOW BINARY LOGS).</summary>
    public async Task<List<string>> BinlogFilesAsync() =>
        (await RootQueryAsync("SHOW BINARY LOGS")).Select(r => (string)r[0]!).ToList();

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task RunAsync(string file, params string[] arguments)
    {
        var start = new ProcessStartInfo(file) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} failed: {output}");
        }
    }
}
