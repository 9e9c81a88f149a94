using System.Globalization;
using MySqlConnector;
using Replicator.Binlog.Positions;
using Replicator.Engine.Offsets;

namespace Replicator.Engine.Capture;

/// <summary>
/// Where a capture may start on the server it reaches now. A saved binlog file and position are
/// only meaningful on the server that wrote them, in the binlog history they were read from, so:
/// <list type="bullet">
/// <item>an offset saved on another server (other server_id, or other MySQL server_uuid) is refused
/// unless the capture resumes by GTID;</item>
/// <item>on MariaDB, resuming by position, the GTID position the server's binlog holds at the saved
/// file and position (<c>BINLOG_GTID_POS</c>) must be the one saved with it: after RESET MASTER, a
/// restore or on another server it is not;</item>
/// <item>resuming by GTID, the server must hold every transaction up to the saved GTID position and
/// still have the binlog after it (the saved file and position are not checked: they are another
/// server's);</item>
/// <item>the GTID position reading starts from is the server's full one, every domain included, so a
/// later resume by GTID does not read other domains from their beginning.</item>
/// </list>
/// </summary>
public static partial class SourcePreflight
{
    /// <summary>
    /// Identifies the server, checks that <paramref name="saved"/> may be resumed on it from
    /// <paramref name="start"/> (throws <see cref="PreflightException"/> naming the fix when not), and
    /// pins where reading starts together with the GTID position there.
    /// </summary>
    /// <param name="source">The source's configured name, for messages.</param>
    /// <param name="saved">The persisted offset, or null on a first start.</param>
    /// <param name="start">Where the capture would start: the configured start, or the saved offset's position or GTID position.</param>
    public static async Task<ResumePlan> PlanResumeAsync(string connectionString, string source, SourceOffset? saved, StartPosition start, CancellationToken cancellationToken = default)
    {
        var builder = new MySqlConnectionStringBuilder(connectionString) { PersistSecurityInfo = false, Pooling = false };
        await using var connection = new MySqlConnection(builder.ConnectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        var version = await ScalarAsync(connection, "SELECT @@version", cancellationToken).ConfigureAwait(false) ?? "";
        var mariaDb = version.Contains("MariaDB", StringComparison.OrdinalIgnoreCase);
        var serverId = uint.Parse(await ScalarAsync(connection, "SELECT @@server_id", cancellationToken).ConfigureAwait(false) ?? "0", CultureInfo.InvariantCulture);
        var uuid = mariaDb ? null : await ScalarAsync(connection, "SELECT @@server_uuid", cancellationToken).ConfigureAwait(false);
        var server = new SourceServer(serverId, uuid, $"{builder.Server}:{builder.Port}");

        // Another server is named as such before its binlog is searched for a file it never had.
        var byGtid = start is StartPosition.AfterMariaDbGtids;
        var changed = CheckSameServer(source, saved, server, byGtid);
        if (saved is not null && start is StartPosition.AtPosition)
        {
            await CheckSavedPositionAsync(connection, server.Endpoint, saved.Position, cancellationToken).ConfigureAwait(false);
        }

        if (!mariaDb)
        {
            return new ResumePlan(server, start, null, changed, []);
        }

        var warnings = new List<string>();
        if (await ScalarAsync(connection, "SELECT @@gtid_strict_mode", cancellationToken).ConfigureAwait(false) is "0" or "OFF")
        {
            warnings.Add($"The source at {server.Endpoint} has gtid_strict_mode=OFF: a GTID domain's sequence numbers can then go back, and sinks, fenced by GTID version, would refuse such changes as stale. Set gtid_strict_mode=ON on every server of the topology.");
        }

        switch (start)
        {
            case StartPosition.AfterMariaDbGtids { Gtids: var after }:
            {
                var current = MariaDbGtidPosition.Parse(await ScalarAsync(connection, "SELECT @@gtid_binlog_pos", cancellationToken).ConfigureAwait(false) ?? "");
                var oldestFile = (await BinaryLogsAsync(connection, cancellationToken).ConfigureAwait(false)).FirstOrDefault();
                var oldest = oldestFile is null ? null : await GtidPositionAtAsync(connection, new BinlogPosition(oldestFile, BinlogPosition.FirstEventPosition), cancellationToken).ConfigureAwait(false);
                warnings.AddRange(CheckGtidResume(source, after, server, current, oldestFile, oldest));
                return new ResumePlan(server, start, after, changed, warnings);
            }

            case StartPosition.AtPosition { Position: var position } when saved is not null:
            {
                var atSaved = await GtidPositionAtAsync(connection, position, cancellationToken).ConfigureAwait(false);
                CheckSavedGtid(source, saved, server, atSaved);
                return new ResumePlan(server, start, atSaved, changed, warnings);
            }

            default:
            {
                // A first start: pin the position now, so that the GTID position read for it is exactly its own.
                var position = start switch
                {
                    StartPosition.AtPosition at => at.Position,
                    StartPosition.AtOldest => BinlogPosition.StartOf((await BinaryLogsAsync(connection, cancellationToken).ConfigureAwait(false)).FirstOrDefault()
                        ?? throw new PreflightException($"The source at {server.Endpoint} lists no binary logs (SHOW BINARY LOGS); start it with --log-bin.")),
                    _ => await CurrentPositionAsync(connection, server, cancellationToken).ConfigureAwait(false),
                };
                var gtids = await GtidPositionAtAsync(connection, position, cancellationToken).ConfigureAwait(false);
                return new ResumePlan(server, StartPosition.At(position), gtids, changed, warnings);
            }
        }
    }

    /// <summary>
    /// Refuses an offset saved on another server unless resuming by GTID; returns whether the server
    /// changed (an offset without a recorded server adopts this one).
    /// </summary>
    internal static bool CheckSameServer(string source, SourceOffset? saved, SourceServer now, bool byGtid)
    {
        if (saved?.Server is not { } was || was.IsSameServerAs(now))
        {
            return false;
        }

        if (byGtid)
        {
            return true;
        }

        var fix = saved.Gtid is { Length: > 0 } gtid
            ? $"To go on from where it was, set replicator.sources.{source}.resume-by = gtid: it resumes after the saved GTID position {gtid}, which a server of the same replication topology knows (a promoted replica)"
            : $"The offset has no GTID position to resume by (resume-by = gtid needs MariaDB GTIDs)";
        throw new PreflightException(
            $"The saved offset of source {source} ({saved}) was read from {was}, but the source is now {now}: a fail-over, a different server, or a reused address. "
            + $"A binlog file and position mean nothing on another server. {fix}; or reset the capture's offset and re-seed the sinks.");
    }

    /// <summary>
    /// Resuming by position on MariaDB: the GTID position the server's binlog holds at the saved file
    /// and position must be the one saved with it, on every domain the offset names.
    /// </summary>
    internal static void CheckSavedGtid(string source, SourceOffset saved, SourceServer now, MariaDbGtidPosition? atSaved)
    {
        if (saved.Gtid is not { Length: > 0 } text)
        {
            return;
        }

        var expected = MariaDbGtidPosition.Parse(text);
        var fix = $"Set replicator.sources.{source}.resume-by = gtid to resume after the saved GTID position {expected}, or reset the capture's offset and re-seed the sinks.";
        if (atSaved is null)
        {
            throw new PreflightException(
                $"No event starts at the saved position {saved.Position} of source {source} in the binlog of {now}: the binlog was reset (RESET MASTER), restored from a backup, or is another server's. {fix}");
        }

        foreach (var gtid in expected.Gtids)
        {
            if (!atSaved.TryGet(gtid.DomainId, out var actual) || actual.Sequence != gtid.Sequence)
            {
                throw new PreflightException(
                    $"At the saved position {saved.Position} of source {source}, the binlog of {now} is at GTID position {(atSaved.IsEmpty ? "(empty)" : atSaved)}, but the offset was saved at {expected}: "
                    + $"the binlog was reset (RESET MASTER), restored from a backup, or is another server's, so the position points into other transactions. {fix}");
            }
        }
    }

    /// <summary>
    /// Resuming by GTID: the server must hold every transaction up to <paramref name="after"/> (it is
    /// not behind what the capture already read) and its binlog must still start at or before it.
    /// Returns warnings for the domains the server has and the position lacks.
    /// </summary>
    internal static IReadOnlyList<string> CheckGtidResume(string source, MariaDbGtidPosition after, SourceServer now, MariaDbGtidPosition current, string? oldestFile, MariaDbGtidPosition? oldest)
    {
        foreach (var gtid in after.Gtids)
        {
            if (!current.TryGet(gtid.DomainId, out var has) || has.Sequence < gtid.Sequence)
            {
                throw new PreflightException(
                    $"Source {source} resumes by GTID after {after}, but {now} is at GTID position {(current.IsEmpty ? "(empty)" : current)}: it lacks transactions of domain {gtid.DomainId} up to {gtid} that the capture already read. "
                    + "It is a replica that has not caught up, has diverged, or is not of the same replication topology. Wait until it has applied them, or point the source at the server that has.");
            }

            if (oldest is not null && oldest.TryGet(gtid.DomainId, out var purged) && purged.Sequence > gtid.Sequence)
            {
                throw new PreflightException(
                    $"Source {source} resumes by GTID after {after}, but the binlog of {now} no longer holds the transactions of domain {gtid.DomainId} after {gtid}: its oldest binlog, {oldestFile}, starts after {purged}. "
                    + "Those changes are lost to the binlog; re-seed the sinks and reset the capture's offset, or point the source at a server that still has them.");
            }
        }

        return current.Gtids
            .Where(g => !after.TryGet(g.DomainId, out _))
            .Select(g => $"GTID domain {g.DomainId} of {now} is not in the saved GTID position {after} of source {source} (an offset saved before full GTID positions were kept): the server sends that domain's transactions from its oldest binlog, and they are captured again.")
            .ToList();
    }

    /// <summary>The GTID position at a binlog file and position (BINLOG_GTID_POS), or null when no event starts there.</summary>
    private static async Task<MariaDbGtidPosition?> GtidPositionAtAsync(MySqlConnection connection, BinlogPosition position, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT BINLOG_GTID_POS(@file, @position)";
        command.Parameters.AddWithValue("@file", position.File);
        command.Parameters.AddWithValue("@position", position.Position);
        var value = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        return value is null or DBNull ? null : MariaDbGtidPosition.Parse(Convert.ToString(value, CultureInfo.InvariantCulture)!);
    }

    private static async Task<BinlogPosition> CurrentPositionAsync(MySqlConnection connection, SourceServer server, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = "SHOW MASTER STATUS";
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            throw new PreflightException($"The source at {server.Endpoint} answers SHOW MASTER STATUS with no row: binary logging is off. Start it with --log-bin.");
        }

        return new BinlogPosition(reader.GetString(0), Convert.ToInt64(reader.GetValue(1), CultureInfo.InvariantCulture));
    }

    private static async Task<List<string>> BinaryLogsAsync(MySqlConnection connection, CancellationToken cancellationToken)
    {
        var files = new List<string>();
        await using var command = connection.CreateCommand();
        command.CommandText = "SHOW BINARY LOGS";
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            files.Add(reader.GetString(0));
        }

        return files;
    }

    private static async Task<string?> ScalarAsync(MySqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        var value = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        return value is null or DBNull ? null : Convert.ToString(value, CultureInfo.InvariantCulture);
    }
}

/// <summary>
/// Where a capture starts, as <see cref="SourcePreflight.PlanResumeAsync"/> worked it out.
/// </summary>
/// <param name="Server">The server the capture reads; every offset it saves names it.</param>
/// <param name="Start">Where the dump starts (a first start's "end" or "oldest" pinned to a file and position).</param>
/// <param name="Gtids">The server's full MariaDB GTID position at <paramref name="Start"/>; null on MySQL or where unknown.</param>
/// <param name="ServerChanged">The saved offset was read from another server (resuming by GTID): its file position is not this server's.</param>
public sealed record ResumePlan(SourceServer Server, StartPosition Start, MariaDbGtidPosition? Gtids, bool ServerChanged, IReadOnlyList<string> Warnings);
