using System.Text;
using MySqlConnector;
using Replicator.Binlog.Positions;

namespace Replicator.Bench.Pipeline;

/// <summary>
/// The benchmark workload: 10,000 transactions of 100 row changes each (1,000,000 in all): 50 rows
/// inserted in one statement, 40 single-row updates of a 10,000-row hot set, and 10 deletes of
/// rows inserted before. Recorded between two binlog positions so every reader reads the same range.
/// </summary>
internal static class Workload
{
    public sealed record Range(BinlogPosition Start, BinlogPosition End, long Changes);

    public static async Task<Range> BuildAsync(string adminConnectionString, string schema, int transactions)
    {
        await using var connection = new MySqlConnection(adminConnectionString + ";Allow User Variables=true");
        await connection.OpenAsync();
        await ExecuteAsync(connection, $"DROP DATABASE IF EXISTS {schema}; CREATE DATABASE {schema}; CREATE TABLE {schema}.t (id BIGINT PRIMARY KEY, v BIGINT NOT NULL, payload VARCHAR(32) NOT NULL, ver BIGINT NOT NULL)");
        // The hot set exists before the measured range.
        await ExecuteAsync(connection, $"INSERT INTO {schema}.t SELECT seq, seq, 'hot', 1 FROM {schema}.seq_1_to_10000");
        await ExecuteAsync(connection, "FLUSH BINARY LOGS");
        var start = await PositionAsync(connection);

        var random = new Random(42);
        long nextId = 1_000_000;
        long deleteFrom = nextId;
        long changes = 0;
        var sql = new StringBuilder(16 * 1024);
        for (var tx = 0; tx < transactions; tx++)
        {
            sql.Clear().Append("START TRANSACTION;INSERT INTO ").Append(schema).Append(".t VALUES ");
            for (var i = 0; i < 50; i++)
            {
                var id = nextId++;
                sql.Append(i == 0 ? "(" : ",(").Append(id).Append(',').Append(random.Next()).Append(",'p").Append(id).Append("',1)");
            }

            sql.Append(';');
            for (var i = 0; i < 40; i++)
            {
                sql.Append("UPDATE ").Append(schema).Append(".t SET v=").Append(random.Next()).Append(",ver=ver+1 WHERE id=").Append(1 + random.Next(10_000)).Append(';');
            }

            sql.Append("DELETE FROM ").Append(schema).Append(".t WHERE id BETWEEN ").Append(deleteFrom).Append(" AND ").Append(deleteFrom + 9).Append(";COMMIT;");
            deleteFrom += 10;
            await ExecuteAsync(connection, sql.ToString());
            changes += 100;
        }

        var end = await PositionAsync(connection);
        return new Range(start, end, changes);
    }

    /// <summary>Only single-row updates of 1,000 hot keys, 100 per transaction: where dedupe pays.</summary>
    public static async Task<Range> BuildHotAsync(string adminConnectionString, string schema, int transactions)
    {
        await using var connection = new MySqlConnection(adminConnectionString + ";Allow User Variables=true");
        await connection.OpenAsync();
        await ExecuteAsync(connection, $"DROP DATABASE IF EXISTS {schema}; CREATE DATABASE {schema}; CREATE TABLE {schema}.t (id BIGINT PRIMARY KEY, v BIGINT NOT NULL, payload VARCHAR(32) NOT NULL, ver BIGINT NOT NULL)");
        await ExecuteAsync(connection, $"INSERT INTO {schema}.t SELECT seq, seq, 'hot', 1 FROM {schema}.seq_1_to_1000");
        await ExecuteAsync(connection, "FLUSH BINARY LOGS");
        var start = await PositionAsync(connection);
        var random = new Random(7);
        var sql = new StringBuilder(8 * 1024);
        for (var tx = 0; tx < transactions; tx++)
        {
            sql.Clear().Append("START TRANSACTION;");
            for (var i = 0; i < 100; i++)
            {
                sql.Append("UPDATE ").Append(schema).Append(".t SET v=").Append(random.Next()).Append(",ver=ver+1 WHERE id=").Append(1 + random.Next(1_000)).Append(';');
            }

            await ExecuteAsync(connection, sql.Append("COMMIT;").ToString());
        }

        return new Range(start, await PositionAsync(connection), transactions * 100L);
    }

    private static async Task<BinlogPosition> PositionAsync(MySqlConnection connection)
    {
        await using var command = new MySqlCommand("SHOW MASTER STATUS", connection);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return new BinlogPosition(reader.GetString(0), reader.GetInt64(1));
    }

    private static async Task ExecuteAsync(MySqlConnection connection, string sql)
    {
        await using var command = new MySqlCommand(sql, connection) { CommandTimeout = 600 };
        await command.ExecuteNonQueryAsync();
    }
}
