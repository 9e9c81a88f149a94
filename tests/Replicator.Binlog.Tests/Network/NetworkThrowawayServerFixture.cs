namespace Replicator.Binlog.Tests.Network;

/// <summary>
/// One throwaway MariaDB with TLS (certificates from a private CA) and the ed25519 plugin, shared
/// by the tests of <see cref="NetworkThrowawayCollection"/>, which run one at a time.
/// </summary>
public sealed class NetworkThrowawayServerFixture : IAsyncLifetime
{
    public const string Ed25519User = "nettest_ed";
    public const string Ed25519Password = "ed25519-dev-password";
    public const string NoReplicationUser = "nettest_noslave";
    public const string NoReplicationPassword = "noslave-dev-password";

    private NetworkThrowawayMariaDb? _server;

    public NetworkThrowawayMariaDb Server => _server ?? throw new InvalidOperationException("the throwaway MariaDB is not started");

    public async Task InitializeAsync()
    {
        _server = await NetworkThrowawayMariaDb.StartAsync(tls: true);
        await _server.SqlAsync(
            "INSTALL SONAME 'auth_ed25519';"
            + $"CREATE USER '{Ed25519User}'@'127.0.0.1' IDENTIFIED VIA ed25519 USING PASSWORD('{Ed25519Password}');"
            + $"GRANT REPLICATION SLAVE, REPLICATION CLIENT, SELECT ON *.* TO '{Ed25519User}'@'127.0.0.1';"
            + $"CREATE USER '{NoReplicationUser}'@'127.0.0.1' IDENTIFIED BY '{NoReplicationPassword}';"
            + $"GRANT SELECT ON *.* TO '{NoReplicationUser}'@'127.0.0.1';"
            + "CREATE DATABASE nettest_throwaway;");
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
