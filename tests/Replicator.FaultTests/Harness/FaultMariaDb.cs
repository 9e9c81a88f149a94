using System.Diagnostics;
using MySqlConnector;

namespace Replicator.FaultTests.Harness;

/// <summary>
/// A private MariaDB server of one scenario, on its own port and data directory, that the suite can
/// kill -9 and start again on the same data (and port), as FAULTS.md §4.1 describes.
/// </summary>
/// <remarks>
/// The integration tests' ThrowawayMariaDb owns its process for the server's whole life and cannot
/// restart it on the same data directory, which is what F3 needs; this class adds that. Data
/// directories are copied from one template made by mariadb-install-db once per test run, which
/// saves the install for every server.
/// </remarks>
public sealed class FaultMariaDb : IAsyncDisposable
{
    private static readonly SemaphoreSlim TemplateGate = new(1, 1);
    private static string? _template;

    private readonly string _mariadbd;
    private readonly string[] _options;
    private Process? _process;
    private int _starts;

    private FaultMariaDb(string name, string directory, int port, string mariadbd, string[] options)
    {
        Name = name;
        Directory = directory;
        Port = port;
        _mariadbd = mariadbd;
        _options = options;
    }

    public string Name { get; }

    public string Directory { get; }

    public int Port { get; }

    public string Socket => Path.Combine(Directory, "sock");

    public string ErrorLog => Path.Combine(Directory, "error.log");

    /// <summary>The server's pid, or null while it is not running.</summary>
    public int? ProcessId => _process is { HasExited: false } p ? p.Id : null;

    /// <summary>Connects as root over the server's unix socket (socket authentication).</summary>
    public string RootConnectionString =>
        $"Server={Socket};Protocol=Unix;User ID=root;Pooling=false;Allow User Variables=true;Default Command Timeout=120";

    /// <summary>Copies the template data directory to <paramref name="directory"/> and starts the server with <paramref name="options"/>.</summary>
    /// <remarks>A <c>--bind-address</c> in <paramref name="options"/> replaces the default 127.0.0.1 (the last one given wins).</remarks>
    public static async Task<FaultMariaDb> StartAsync(string name, string directory, params string[] options)
    {
        var mariadbd = Tools.Require("mariadbd", "mariadb-server");
        var template = await TemplateAsync();
        System.IO.Directory.CreateDirectory(directory);
        Tools.CopyDirectory(template, Path.Combine(directory, "data"));
        var server = new FaultMariaDb(name, directory, Tools.FreePort(), mariadbd, options);
        await server.StartAsync();
        return server;
    }

    /// <summary>Starts the server (again) on its data directory and port; returns once it accepts connections.</summary>
    public async Task StartAsync()
    {
        if (_process is { HasExited: false })
        {
            throw new InvalidOperationException($"MariaDB {Name} is already running.");
        }

        _starts++;
        var arguments = new List<string>
        {
            "--no-defaults", // must come first: keeps /etc/mysql (expire_logs_days, …) out of the test server
            "--user=" + Environment.UserName,
            "--datadir=" + Path.Combine(Directory, "data"),
            "--socket=" + Socket,
            "--port=" + Port,
            "--bind-address=127.0.0.1",
            "--pid-file=" + Path.Combine(Directory, "mariadb.pid"),
            "--log-error=" + ErrorLog,
            "--skip-name-resolve",
            "--innodb-buffer-pool-size=64M",
            "--innodb-log-file-size=16M",
            "--max-connections=200",
            "--character-set-server=utf8mb4",
            "--collation-server=utf8mb4_general_ci",
        };
        arguments.AddRange(_options);
        _process = Tools.Spawn(_mariadbd, arguments, Path.Combine(Directory, $"stdout.{_starts}.log"));

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (true)
        {
            try
            {
                await ExecuteAsync("SELECT 1");
                return;
            }
            catch (MySqlException) when (DateTime.UtcNow < deadline && !_process.HasExited)
            {
                await Task.Delay(100);
            }
            catch (MySqlException e)
            {
                throw new InvalidOperationException($"MariaDB {Name} did not start ({e.Message}). Its error log:\n{Tools.Tail(ErrorLog, 30)}", e);
            }
        }
    }

    /// <summary>
    /// kill -STOP the server: it keeps its sockets open and answers nothing (Maxwell's freeze, a
    /// half-open source). <see cref="Thaw"/> resumes it.
    /// </summary>
    public void Freeze() => Signal("STOP");

    /// <summary>kill -CONT a frozen server.</summary>
    public void Thaw() => Signal("CONT");

    private void Signal(string signal) =>
        Tools.Signal(ProcessId ?? throw new InvalidOperationException($"MariaDB {Name} is not running."), signal);

    /// <summary>kill -9 the server.</summary>
    public void Kill()
    {
        if (_process is not null)
        {
            ProcessRegistry.Kill(_process);
            _process = null;
        }
    }

    /// <summary>
    /// A graceful stop (SQL SHUTDOWN, as <c>mariadb -e shutdown</c>): the server writes a STOP event
    /// to its binlog, closes its connections and exits. Waits until the process is gone.
    /// </summary>
    public async Task ShutdownAsync(TimeSpan timeout)
    {
        var process = _process ?? throw new InvalidOperationException($"MariaDB {Name} is not running.");
        await ExecuteAsync("SHUTDOWN");
        using var waited = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(waited.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"MariaDB {Name} did not exit within {timeout.TotalSeconds:0} s of SHUTDOWN. Its error log:\n{Tools.Tail(ErrorLog, 30)}");
        }

        _process = null;
    }

    public async Task ExecuteAsync(string sql)
    {
        await using var connection = new MySqlConnection(RootConnectionString);
        await connection.OpenAsync();
        await using var command = new MySqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    public async Task<T> ScalarAsync<T>(string sql)
    {
        await using var connection = new MySqlConnection(RootConnectionString);
        await connection.OpenAsync();
        await using var command = new MySqlCommand(sql, connection);
        var value = await command.ExecuteScalarAsync();
        return (T)Convert.ChangeType(value!, typeof(T), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// Inserts a row into src.probe (an uncaptured table) and returns the binlog's end and the
    /// probe transaction's GTID sequence number (domain 0) right after it.
    /// </summary>
    public async Task<(BinlogPoint End, long Sequence)> ProbeAsync()
    {
        await using var connection = new MySqlConnection(RootConnectionString);
        await connection.OpenAsync();
        await using (var insert = new MySqlCommand("INSERT INTO src.probe (at) VALUES (NOW(6))", connection))
        {
            await insert.ExecuteNonQueryAsync();
        }

        await using var command = new MySqlCommand("SELECT @@last_gtid", connection);
        var gtid = (string)(await command.ExecuteScalarAsync())!;
        var (file, position) = await MasterStatusAsync();
        return (new BinlogPoint(file, position, 0), long.Parse(gtid[(gtid.LastIndexOf('-') + 1)..], System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>The end of the binlog (SHOW MASTER STATUS): file and position.</summary>
    public async Task<(string File, long Position)> MasterStatusAsync()
    {
        await using var connection = new MySqlConnection(RootConnectionString);
        await connection.OpenAsync();
        await using var command = new MySqlCommand("SHOW MASTER STATUS", connection);
        await using var reader = await command.ExecuteReaderAsync();
        if (!await reader.ReadAsync())
        {
            throw new InvalidOperationException($"MariaDB {Name} writes no binlog.");
        }

        return (reader.GetString(0), Convert.ToInt64(reader.GetValue(1), System.Globalization.CultureInfo.InvariantCulture));
    }

    public ValueTask DisposeAsync()
    {
        Kill();
        return ValueTask.CompletedTask;
    }

    private static async Task<string> TemplateAsync()
    {
        await TemplateGate.WaitAsync();
        try
        {
            if (_template is not null)
            {
                return _template;
            }

            var installer = Tools.Require("mariadb-install-db", "mariadb-server");
            var directory = Path.Combine(FaultRunDirectory.Root, "mariadb-template");
            await Tools.RunAsync(
                installer,
                "--no-defaults",
                "--user=" + Environment.UserName,
                "--datadir=" + directory,
                "--auth-root-authentication-method=socket",
                "--skip-test-db",
                "--innodb-log-file-size=16M");
            _template = directory;
            return directory;
        }
        finally
        {
            TemplateGate.Release();
        }
    }
}
