using System.Globalization;
using MySqlConnector;

namespace Replicator.FaultTests.Harness;

/// <summary>The probe a scenario writes at its end to know how far the capture must get.</summary>
public static class SourceProbe
{
    /// <summary>
    /// Inserts a row into src.probe (an uncaptured table) and returns the binlog's end and the
    /// probe transaction's GTID sequence number (domain 0) right after it.
    /// </summary>
    public static async Task<(BinlogPoint End, long Sequence)> ProbeAsync(this ThrowawayMariaDb source)
    {
        string gtid;
        await using (var connection = new MySqlConnection(source.RootConnectionString))
        {
            await connection.OpenAsync();
            await using (var insert = new MySqlCommand("INSERT INTO src.probe (at) VALUES (NOW(6))", connection))
            {
                await insert.ExecuteNonQueryAsync();
            }

            await using var command = new MySqlCommand("SELECT @@last_gtid", connection);
            gtid = (string)(await command.ExecuteScalarAsync())!;
        }

        var (file, position) = await source.MasterStatusAsync();
        return (new BinlogPoint(file, position, 0), long.Parse(gtid[(gtid.LastIndexOf('-') + 1)..], CultureInfo.InvariantCulture));
    }
}
