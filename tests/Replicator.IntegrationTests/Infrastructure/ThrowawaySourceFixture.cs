namespace Replicator.IntegrationTests.Infrastructure;

/// <summary>
/// One throwaway MariaDB (row-based binlog, metadata chosen per test with SET GLOBAL
/// binlog_row_metadata) shared by the tests of a class, with a capture user <c>cdc</c>.
/// </summary>
public sealed class ThrowawaySourceFixture : IAsyncLifetime
{
    private ThrowawayMariaDb? _server;

    public ThrowawayMariaDb Server => _server ?? throw new InvalidOperationException("The throwaway MariaDB is not started.");

    /// <summary>Connection string of a user with REPLICATION SLAVE, REPLICATION CLIENT and SELECT.</summary>
    public string Cdc => Server.ConnectionString("cdc");

    public async Task InitializeAsync()
    {
        _server = await ThrowawayMariaDb.StartAsync("--server-id=11", "--log-bin=binlog", "--binlog-format=ROW", "--binlog-row-metadata=FULL", "--character-set-server=utf8mb4");
        await _server.CreateUserAsync("cdc", "REPLICATION SLAVE, REPLICATION CLIENT, SELECT");
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
