namespace Replicator.IntegrationTests.Infrastructure;

/// <summary>Server A and its replica B, both writing GTIDs in strict mode; B logs what it applies.</summary>
public sealed class ReplicaPair : IAsyncDisposable
{
    private ReplicaPair(ThrowawayMariaDb a, ThrowawayMariaDb b)
    {
        A = a;
        B = b;
    }

    public ThrowawayMariaDb A { get; }

    public ThrowawayMariaDb B { get; }

    public static async Task<ReplicaPair> StartAsync()
    {
        string[] common = ["--log-bin=binlog", "--log-slave-updates", "--gtid-strict-mode=ON", "--binlog-format=ROW", "--binlog-row-metadata=FULL", "--character-set-server=utf8mb4"];
        var a = await ThrowawayMariaDb.StartAsync(["--server-id=1", .. common]);
        ThrowawayMariaDb? b = null;
        try
        {
            b = await ThrowawayMariaDb.StartAsync(["--server-id=2", .. common]);
            await a.CreateUserAsync("cdc", "REPLICATION SLAVE, BINLOG MONITOR, SELECT");
            await a.CreateUserAsync("repl", "REPLICATION SLAVE");

            // A's binlog files are numbered above B's: versions by file position would order B's changes first.
            await a.ExecuteAsync("FLUSH BINARY LOGS; FLUSH BINARY LOGS; FLUSH BINARY LOGS; FLUSH BINARY LOGS");
            await b.ExecuteAsync($"CHANGE MASTER TO MASTER_HOST = '127.0.0.1', MASTER_PORT = {a.Port}, MASTER_USER = 'repl', MASTER_PASSWORD = 'pw-repl', MASTER_USE_GTID = slave_pos; START SLAVE");
            return new ReplicaPair(a, b);
        }
        catch
        {
            if (b is not null)
            {
                await b.DisposeAsync();
            }

            await a.DisposeAsync();
            throw;
        }
    }

    /// <summary>A table of 200 rows on A, in 20 transactions.</summary>
    public async Task<string> CreateWorkloadAsync()
    {
        var schema = Servers.UniqueSchema("it_failover");
        await A.ExecuteAsync($"CREATE DATABASE {schema}; CREATE TABLE {schema}.t (id INT PRIMARY KEY, v BIGINT NOT NULL)");
        for (var tx = 0; tx < 20; tx++)
        {
            await A.ExecuteAsync($"INSERT INTO {schema}.t VALUES " + string.Join(",", Enumerable.Range((tx * 10) + 1, 10).Select(id => $"({id}, {id})")));
        }

        return schema;
    }

    /// <summary>Waits until B has applied all of A, then promotes it: replication stops and writes go to B.</summary>
    public async Task PromoteBAsync()
    {
        var position = (string)(await A.QueryAsync("SELECT @@gtid_binlog_pos"))[0][0]!;
        await Eventually.UntilAsync(async () => (string?)(await B.QueryAsync("SELECT @@gtid_slave_pos"))[0][0], p => p == position, TimeSpan.FromSeconds(30));
        Assert.Equal(position, (string?)(await B.QueryAsync("SELECT @@gtid_slave_pos"))[0][0]);
        await B.ExecuteAsync("STOP SLAVE; RESET SLAVE ALL");
    }

    /// <summary>HOCON pointing source <c>it</c> at <paramref name="server"/>'s capture user.</summary>
    public string SourceSettings(ThrowawayMariaDb server, string extra = "") =>
        $"replicator.sources.it {{ connection-string = {System.Text.Json.JsonSerializer.Serialize(server.ConnectionString("cdc"))}\n{extra} }}";

    public async ValueTask DisposeAsync()
    {
        await B.DisposeAsync();
        await A.DisposeAsync();
    }
}
