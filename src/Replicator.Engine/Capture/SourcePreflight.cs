using System.Net.Sockets;
using MySqlConnector;
using Replicator.Binlog.Positions;

namespace Replicator.Engine.Capture;

/// <summary>
/// Checks a source before capture starts, through an ordinary MySqlConnector session: that it can
/// be reached with the given credentials, writes a row-based binlog with the row image capture
/// needs, that the capture user has the privileges it needs, that our server_id is not the
/// server's own, and that a saved position still exists. Each failure is one line naming the
/// setting and how to fix it.
/// </summary>
public static partial class SourcePreflight
{
    /// <summary>Which binlog_row_metadata the source writes, and what it means for capture.</summary>
    /// <param name="Mode">FULL, MINIMAL or NO_LOG; null on a server without the variable (MySQL before 8.0.1, MariaDB before 10.5).</param>
    public sealed record RowMetadata(string? Mode, bool Full, string Description);

    /// <summary>Reads binlog_row_metadata and says what it costs.</summary>
    public static async Task<RowMetadata> RowMetadataAsync(string connectionString, CancellationToken cancellationToken = default)
    {
        var builder = new MySqlConnectionStringBuilder(connectionString) { PersistSecurityInfo = false, Pooling = false };
        string? mode;
        await using (var connection = new MySqlConnection(builder.ConnectionString))
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT @@binlog_row_metadata";
            try
            {
                mode = Convert.ToString(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);
            }
            catch (MySqlException e) when (e.ErrorCode == MySqlErrorCode.UnknownSystemVariable)
            {
                mode = null;
            }
        }

        return DescribeRowMetadata(mode);
    }

    /// <summary>What capture does under a binlog_row_metadata mode, and what it costs.</summary>
    public static RowMetadata DescribeRowMetadata(string? mode)
    {
        if (string.Equals(mode, "FULL", StringComparison.OrdinalIgnoreCase))
        {
            return new RowMetadata(mode, true, "binlog_row_metadata=FULL: column names and the key come from each TABLE_MAP event, so rows are labelled as they were written, across any DDL; it costs a few bytes per column in each TABLE_MAP.");
        }

        return new RowMetadata(
            mode,
            false,
            $"binlog_row_metadata={mode ?? "(not supported by this server)"}: the binlog carries no column names, so names and the key come from information_schema as the table is now. "
            + "Rows written before a DDL on their table (a replay after a restart, or a DDL while the reader lags) cannot be labelled with them: the table stops until it is resynced (resynced-through), "
            + "and each read of names costs a scan of the binlog between the rows and the server's end (SHOW BINLOG EVENTS). Set binlog_row_metadata=FULL on the source to label every row from its own event.");
    }

    /// <summary>Runs the checks; throws <see cref="PreflightException"/> on the first failure. Returns warnings that do not stop capture.</summary>
    public static async Task<IReadOnlyList<string>> CheckAsync(
        string connectionString,
        uint replicaServerId,
        BinlogPosition? savedPosition,
        CancellationToken cancellationToken = default)
    {
        var builder = new MySqlConnectionStringBuilder(connectionString) { PersistSecurityInfo = false, Pooling = false };
        if (!builder.ContainsKey("Connection Timeout") && !builder.ContainsKey("Connect Timeout"))
        {
            builder.ConnectionTimeout = 10;
        }

        var where = $"{builder.Server}:{builder.Port}";
        var warnings = new List<string>();
        await using var connection = new MySqlConnection(builder.ConnectionString);
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (MySqlException e) when (e.ErrorCode is MySqlErrorCode.AccessDenied or MySqlErrorCode.DatabaseAccessDenied || e.Number == 1045)
        {
            throw new PreflightException($"Wrong credentials for the source at {where}: the server said \"{e.Message}\". Check the user name and password in the source's connection string.");
        }
        catch (MySqlException e) when (e.ErrorCode == MySqlErrorCode.UnableToConnectToHost || e.InnerException is SocketException || e.InnerException is TimeoutException)
        {
            var reason = await ProbeAsync(builder.Server, (int)builder.Port, TimeSpan.FromSeconds(builder.ConnectionTimeout)).ConfigureAwait(false) ?? Reason(e);
            throw new PreflightException($"Cannot reach the source at {where} ({reason}). Check the host and port and that the server is running and accepts TCP connections.");
        }

        var variables = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        await using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT @@log_bin, @@binlog_format, @@binlog_row_image, @@server_id, @@version";
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            variables["log_bin"] = reader.IsDBNull(0) ? null : Convert.ToString(reader.GetValue(0), System.Globalization.CultureInfo.InvariantCulture);
            variables["binlog_format"] = reader.IsDBNull(1) ? null : reader.GetString(1);
            variables["binlog_row_image"] = reader.IsDBNull(2) ? null : reader.GetString(2);
            variables["server_id"] = Convert.ToString(reader.GetValue(3), System.Globalization.CultureInfo.InvariantCulture);
            variables["version"] = reader.GetString(4);
        }

        if (variables["log_bin"] is not ("1" or "ON" or "on"))
        {
            throw new PreflightException($"The source at {where} has binary logging disabled (log_bin=OFF). Start the server with --log-bin (and --binlog-format=ROW) to capture it.");
        }

        if (!string.Equals(variables["binlog_format"], "ROW", StringComparison.OrdinalIgnoreCase))
        {
            throw new PreflightException($"The source at {where} writes binlog_format={variables["binlog_format"]}, not ROW: row changes cannot be captured. Set binlog_format=ROW (SET GLOBAL binlog_format='ROW' and in the server config).");
        }

        var rowImage = variables["binlog_row_image"] ?? "FULL";
        if (rowImage.Equals("MINIMAL", StringComparison.OrdinalIgnoreCase) || rowImage.Equals("NOBLOB", StringComparison.OrdinalIgnoreCase))
        {
            warnings.Add($"The source at {where} has binlog_row_image={rowImage}: updates carry only the key and changed columns, so jobs see partial rows (left-out columns are absent, not null). Set binlog_row_image=FULL for whole rows.");
        }

        if (variables["server_id"] == replicaServerId.ToString(System.Globalization.CultureInfo.InvariantCulture))
        {
            throw new PreflightException($"server-id {replicaServerId} is the source's own server_id at {where}. Give the capture a server-id no server or replica uses.");
        }

        var grants = new List<string>();
        await using (var command = connection.CreateCommand())
        {
            command.CommandText = "SHOW GRANTS";
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                grants.Add(reader.GetString(0));
            }
        }

        var privileges = GlobalPrivileges(grants);
        var hasAll = privileges.Contains("ALL PRIVILEGES") || privileges.Contains("ALL");
        if (!hasAll && !privileges.Contains("REPLICATION SLAVE") && !privileges.Contains("REPLICATION REPLICA"))
        {
            throw new PreflightException($"The capture user at {where} lacks the REPLICATION SLAVE privilege, needed to read the binlog. GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO the user.");
        }

        if (!hasAll && !privileges.Contains("REPLICATION CLIENT") && !privileges.Contains("BINLOG MONITOR") && !privileges.Contains("SUPER"))
        {
            throw new PreflightException($"The capture user at {where} lacks REPLICATION CLIENT (BINLOG MONITOR on MariaDB), needed for SHOW BINARY LOGS and SHOW MASTER STATUS. GRANT REPLICATION CLIENT ON *.* TO the user.");
        }

        if (await ReplicaUsingAsync(connection, replicaServerId, cancellationToken).ConfigureAwait(false) is { } replica)
        {
            throw new PreflightException($"server-id {replicaServerId} is already used by a replica connected to the source at {where} ({replica}). Two readers with one server_id make the server disconnect them in turn; give this capture a server-id no other replica uses.");
        }

        if (savedPosition is { } saved)
        {
            await CheckSavedPositionAsync(connection, where, saved, cancellationToken).ConfigureAwait(false);
        }

        return warnings;
    }

    /// <summary>Refuses a saved position whose file is gone (purged) or that lies past the end of its file.</summary>
    internal static async Task CheckSavedPositionAsync(MySqlConnection connection, string where, BinlogPosition saved, CancellationToken cancellationToken)
    {
        var files = new List<(string Name, long Size)>();
        await using var command = connection.CreateCommand();
        command.CommandText = "SHOW BINARY LOGS";
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            files.Add((reader.GetString(0), Convert.ToInt64(reader.GetValue(1), System.Globalization.CultureInfo.InvariantCulture)));
        }

        var file = files.FindIndex(f => f.Name == saved.File);
        if (file < 0)
        {
            var oldest = files.Count > 0 ? files[0].Name : "none";
            throw new PreflightException($"The saved position {saved} is gone from the source at {where}: {saved.File} was purged (oldest binlog now: {oldest}). Changes after the saved position are lost to the binlog; re-seed the sinks and reset the capture's offset, or restore the binlog files.");
        }

        if (saved.Position > files[file].Size)
        {
            throw new PreflightException($"The saved position {saved} is past the end of {saved.File} ({files[file].Size} bytes) on the source at {where}: the offset was not written by this server's binlog (a different server, or a restored data directory). Reset the capture's offset to a position of this server.");
        }
    }

    /// <summary>The privileges granted ON *.* (upper case, one per entry), from SHOW GRANTS lines.</summary>
    internal static HashSet<string> GlobalPrivileges(IEnumerable<string> grants)
    {
        var privileges = new HashSet<string>(StringComparer.Ordinal);
        foreach (var grant in grants)
        {
            var match = GlobalGrant().Match(grant);
            if (!match.Success)
            {
                continue;
            }

            foreach (var privilege in match.Groups["privileges"].Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                privileges.Add(privilege.ToUpperInvariant());
            }
        }

        return privileges;
    }

    /// <summary>
    /// A replica registered with <paramref name="serverId"/> (SHOW SLAVE HOSTS), described as host:port,
    /// or null. The list needs REPLICATION MASTER ADMIN on MariaDB (REPLICATION SLAVE on MySQL); without
    /// it the check is left out.
    /// </summary>
    private static async Task<string?> ReplicaUsingAsync(MySqlConnection connection, uint serverId, CancellationToken cancellationToken)
    {
        try
        {
            await using var command = connection.CreateCommand();
            command.CommandText = "SHOW SLAVE HOSTS";
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                if (Convert.ToUInt32(reader.GetValue(0), System.Globalization.CultureInfo.InvariantCulture) == serverId)
                {
                    var host = reader.IsDBNull(1) ? "" : reader.GetString(1);
                    var port = reader.IsDBNull(2) ? "" : Convert.ToString(reader.GetValue(2), System.Globalization.CultureInfo.InvariantCulture);
                    return host.Length == 0 ? $"registered without a host name, port {port}" : $"{host}:{port}";
                }
            }

            return null;
        }
        catch (MySqlException e) when (e.Number is 1227 or 1044 or 1045 or 1142)
        {
            // ER_SPECIFIC_ACCESS_DENIED_ERROR (1227) and its kin: not permitted to list replicas.
            return null;
        }
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^GRANT\s+(?<privileges>.+?)\s+ON\s+\*\.\*\s+TO\s", System.Text.RegularExpressions.RegexOptions.IgnoreCase | System.Text.RegularExpressions.RegexOptions.Singleline)]
    private static partial System.Text.RegularExpressions.Regex GlobalGrant();

    /// <summary>Connects over plain TCP to say why the server cannot be reached (refused, timed out, unknown host).</summary>
    private static async Task<string?> ProbeAsync(string host, int port, TimeSpan timeout)
    {
        using var client = new TcpClient();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await client.ConnectAsync(host, port, cts.Token).ConfigureAwait(false);
            return null;
        }
        catch (SocketException socket)
        {
            return socket.SocketErrorCode switch
            {
                SocketError.ConnectionRefused => "connection refused",
                SocketError.TimedOut => "timed out",
                SocketError.HostNotFound or SocketError.NoData => "host not found",
                SocketError.NetworkUnreachable or SocketError.HostUnreachable => "no route to host",
                _ => socket.Message,
            };
        }
        catch (OperationCanceledException)
        {
            return $"no answer within {timeout.TotalSeconds:0}s";
        }
    }

    /// <summary>
    /// Refuses captured tables that have no primary key and no configured key columns, naming them:
    /// their changes could not be routed or deduplicated by pk.
    /// </summary>
    public static async Task CheckKeysAsync(
        string connectionString,
        TableFilter filter,
        IReadOnlyDictionary<string, IReadOnlyList<string>> keyColumns,
        CancellationToken cancellationToken = default)
    {
        await using var connection = new MySqlConnection(new MySqlConnectionStringBuilder(connectionString) { PersistSecurityInfo = false, Pooling = false }.ConnectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        // KEY_COLUMN_USAGE, not TABLE_CONSTRAINTS: MariaDB shows the latter only to users with more than SELECT.
        command.CommandText = """
            SELECT t.TABLE_SCHEMA, t.TABLE_NAME
            FROM information_schema.TABLES t
            WHERE t.TABLE_TYPE = 'BASE TABLE'
              AND t.TABLE_SCHEMA NOT IN ('mysql', 'sys', 'information_schema', 'performance_schema')
              AND NOT EXISTS (
                SELECT 1 FROM information_schema.KEY_COLUMN_USAGE k
                WHERE k.TABLE_SCHEMA = t.TABLE_SCHEMA AND k.TABLE_NAME = t.TABLE_NAME AND k.CONSTRAINT_NAME = 'PRIMARY')
            ORDER BY t.TABLE_SCHEMA, t.TABLE_NAME
            """;
        var keyless = new List<string>();
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var schema = reader.GetString(0);
                var table = reader.GetString(1);
                if (filter.Includes(schema, table) && !keyColumns.ContainsKey($"{schema}.{table}"))
                {
                    keyless.Add($"{schema}.{table}");
                }
            }
        }

        if (keyless.Count > 0)
        {
            var shown = string.Join(", ", keyless.Take(10)) + (keyless.Count > 10 ? $" and {keyless.Count - 10} more" : "");
            throw new PreflightException($"Captured tables without a primary key: {shown}. Set key-columns {{ \"{keyless[0]}\" = [<column>, …] }} for each in the source's config, or leave them out of its tables.");
        }
    }

    private static string Reason(MySqlException e) =>
        e.InnerException switch
        {
            SocketException socket => socket.SocketErrorCode switch
            {
                SocketError.ConnectionRefused => "connection refused",
                SocketError.TimedOut => "timed out",
                SocketError.HostNotFound => "host not found",
                _ => socket.Message,
            },
            TimeoutException => "timed out",
            _ => e.Message,
        };
}

/// <summary>A source is not fit for capture; the message says what to change.</summary>
public sealed class PreflightException(string message) : Exception(message);
