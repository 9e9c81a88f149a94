using System.Diagnostics;
using System.Globalization;
using MySqlConnector;

namespace Replicator.Testing;

/// <summary>
/// A private MariaDB server of a test's own: its own data directory and free port on 127.0.0.1,
/// started with <c>--no-defaults</c> first (as deploy/local/servers.sh does) and the server options
/// the test chooses (a binlog or none, statement-based, GTID strict mode, TLS, …). A test may kill -9
/// it, freeze it, shut it down and start it again on the same data and port. Disposing kills it
/// and, unless the test gave the directory, removes its data.
/// </summary>
/// <remarks>
/// Data directories are copies of a template that mariadb-install-db makes once per test process
/// (one per set of install options), which saves an install for every server. Root connects over
/// the server's unix socket as the operating-system user running the tests (socket authentication,
/// which mariadb-install-db grants that user).
/// </remarks>
public sealed class ThrowawayMariaDb : IAsyncDisposable
{
    private static readonly SemaphoreSlim TemplateGate = new(1, 1);
    private static readonly Dictionary<string, string> Templates = [];
    private static readonly string TemplateRoot = Path.Combine(Path.GetTempPath(), $"replicator-mariadb-templates-{Environment.ProcessId}");

    private readonly string _mariadbd;
    private readonly IReadOnlyList<string> _options;
    private readonly bool _ownsDirectory;
    private Process? _process;
    private int _starts;

    static ThrowawayMariaDb()
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) => TryDelete(TemplateRoot);
    }

    private ThrowawayMariaDb(string name, string directory, bool ownsDirectory, int port, string mariadbd, IReadOnlyList<string> options)
    {
        Name = name;
        Directory = directory;
        Port = port;
        _ownsDirectory = ownsDirectory;
        _mariadbd = mariadbd;
        _options = options;
    }

    /// <summary>The server's name in messages.</summary>
    public string Name { get; }

    /// <summary>Where the server keeps its data (<see cref="DataDirectory"/>), socket, pid and logs.</summary>
    public string Directory { get; }

    /// <summary>The server's data directory, where its binlog files are unless the options put them elsewhere.</summary>
    public string DataDirectory => Path.Combine(Directory, "data");

    public int Port { get; }

    /// <summary>The server's unix socket.</summary>
    public string Socket => Path.Combine(Directory, "sock");

    public string ErrorLog => Path.Combine(Directory, "error.log");

    /// <summary>The server's pid, or null while it is not running.</summary>
    public int? ProcessId => _process is { HasExited: false } p ? p.Id : null;

    /// <summary>Connects as root over the server's unix socket (socket authentication).</summary>
    public string RootConnectionString =>
        $"Server={Socket};Protocol=Unix;User ID={Environment.UserName};Pooling=false;Allow User Variables=true;Default Command Timeout=120";

    /// <summary>Starts a server in a temporary directory with <paramref name="serverOptions"/>.</summary>
    public static Task<ThrowawayMariaDb> StartAsync(params string[] serverOptions) =>
        StartAsync(new ThrowawayMariaDbOptions { ServerOptions = serverOptions });

    /// <summary>Copies the template data directory and starts the server as <paramref name="options"/> say.</summary>
    public static async Task<ThrowawayMariaDb> StartAsync(ThrowawayMariaDbOptions options)
    {
        var mariadbd = Tools.Require("mariadbd", "mariadb-server");
        var template = await TemplateAsync(options.InstallOptions);
        var ownsDirectory = options.Directory is null;
        var directory = options.Directory ?? System.IO.Directory.CreateTempSubdirectory("replicator-mariadb-").FullName;
        System.IO.Directory.CreateDirectory(directory);
        Tools.CopyDirectory(template, Path.Combine(directory, "data"));
        var server = new ThrowawayMariaDb(options.Name, directory, ownsDirectory, Tools.FreePort(), mariadbd, options.ServerOptions);
        try
        {
            await server.StartAsync();
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts the server (again) on its data directory and port; returns once it accepts connections.</summary>
    /// <remarks>A <c>--bind-address</c> among the server options replaces the default 127.0.0.1 (the last one given wins).</remarks>
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
            "--datadir=" + DataDirectory,
            "--socket=" + Socket,
            "--port=" + Port.ToString(CultureInfo.InvariantCulture),
            "--bind-address=127.0.0.1",
            "--pid-file=" + Path.Combine(Directory, "mariadb.pid"),
            "--log-error=" + ErrorLog,
            "--skip-name-resolve",
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

    /// <summary>Sends <paramref name="signal"/> (STOP, CONT, …) to the server.</summary>
    public void Signal(string signal) =>
        Tools.Signal(ProcessId ?? throw new InvalidOperationException($"MariaDB {Name} is not running."), signal);

    /// <summary>kill -9 the server and wait until it is gone.</summary>
    public void Kill()
    {
        if (_process is not null)
        {
            ProcessRegistry.Kill(_process);
            _process.Dispose();
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

        ProcessRegistry.Forget(process);
        process.Dispose();
        _process = null;
    }

    /// <summary>Runs <paramref name="sql"/> (one statement or several) as root.</summary>
    public async Task ExecuteAsync(string sql)
    {
        await using var connection = new MySqlConnection(RootConnectionString);
        await connection.OpenAsync();
        await using var command = new MySqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>Runs <paramref name="sql"/> as root and returns the first column of its first row.</summary>
    public async Task<T> ScalarAsync<T>(string sql)
    {
        await using var connection = new MySqlConnection(RootConnectionString);
        await connection.OpenAsync();
        await using var command = new MySqlCommand(sql, connection);
        var value = await command.ExecuteScalarAsync();
        return (T)Convert.ChangeType(value!, typeof(T), CultureInfo.InvariantCulture);
    }

    /// <summary>Runs <paramref name="sql"/> as root and returns every row of its last result.</summary>
    public async Task<List<object?[]>> QueryAsync(string sql)
    {
        await using var connection = new MySqlConnection(RootConnectionString);
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
        await ExecuteAsync($"CREATE USER '{user}'@'127.0.0.1' IDENTIFIED BY '{PasswordOf(user)}'" + (grants.Length > 0 ? $"; GRANT {grants} ON *.* TO '{user}'@'127.0.0.1'" : ""));
        return ConnectionString(user);
    }

    /// <summary>The password <see cref="CreateUserAsync"/> gives <paramref name="user"/>.</summary>
    public static string PasswordOf(string user) => "pw-" + user;

    /// <summary>The connection string of a user made by <see cref="CreateUserAsync"/>.</summary>
    public string ConnectionString(string user) => $"Server=127.0.0.1;Port={Port};User ID={user};Password={PasswordOf(user)}";

    /// <summary>The server's binlog files in order (SHOW BINARY LOGS).</summary>
    public async Task<List<string>> BinlogFilesAsync() =>
        (await QueryAsync("SHOW BINARY LOGS")).Select(r => (string)r[0]!).ToList();

    /// <summary>The end of the binlog (SHOW MASTER STATUS): file and position.</summary>
    public async Task<(string File, long Position)> MasterStatusAsync()
    {
        var rows = await QueryAsync("SHOW MASTER STATUS");
        return rows.Count == 0
            ? throw new InvalidOperationException($"MariaDB {Name} writes no binlog.")
            : ((string)rows[0][0]!, Convert.ToInt64(rows[0][1], CultureInfo.InvariantCulture));
    }

    public ValueTask DisposeAsync()
    {
        Kill();
        if (_ownsDirectory)
        {
            TryDelete(Directory);
        }

        return ValueTask.CompletedTask;
    }

    private static async Task<string> TemplateAsync(IReadOnlyList<string> installOptions)
    {
        var key = string.Join('\u001f', installOptions);
        await TemplateGate.WaitAsync();
        try
        {
            if (Templates.TryGetValue(key, out var existing))
            {
                return existing;
            }

            var installer = Tools.Require("mariadb-install-db", "mariadb-server");
            var directory = Path.Combine(TemplateRoot, Templates.Count.ToString(CultureInfo.InvariantCulture));
            await Tools.RunAsync(
                installer,
                [
                    "--no-defaults",
                    "--user=" + Environment.UserName,
                    "--datadir=" + directory,
                    "--auth-root-authentication-method=socket",
                    "--skip-test-db",
                    .. installOptions,
                ]);
            Templates[key] = directory;
            return directory;
        }
        finally
        {
            TemplateGate.Release();
        }
    }

    private static void TryDelete(string directory)
    {
        try
        {
            if (System.IO.Directory.Exists(directory))
            {
                System.IO.Directory.Delete(directory, recursive: true);
            }
        }
        catch (IOException)
        {
            // A file still held open by a dying process: the temporary directory is cleaned up later.
        }
        catch (UnauthorizedAccessException)
        {
            // The same, for a file the server made read-only.
        }
    }
}
