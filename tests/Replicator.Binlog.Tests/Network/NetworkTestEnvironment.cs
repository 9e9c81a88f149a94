using Replicator.Binlog.Network;

namespace Replicator.Binlog.Tests.Network;

/// <summary>
/// The shared development MariaDB (deploy/local/servers.sh), found through environment variables.
/// A missing variable fails the test: these tests never skip.
/// </summary>
internal static class NetworkTestEnvironment
{
    public const string CdcVariable = "REPLICATOR_MARIADB_CDC";
    public const string AdminVariable = "REPLICATOR_MARIADB_ADMIN";

    /// <summary>The capture user (REPLICATION SLAVE, REPLICATION CLIENT, SELECT) with its own replica server_id.</summary>
    public static BinlogClientOptions Cdc(uint serverId) => FromVariable(CdcVariable) with
    {
        ServerId = serverId,
        SslMode = BinlogSslMode.None,
        ConnectTimeout = TimeSpan.FromSeconds(10),
    };

    public static BinlogClientOptions Admin() => FromVariable(AdminVariable) with
    {
        ServerId = 1999,
        SslMode = BinlogSslMode.None,
    };

    public static async Task<BinlogConnection> OpenAdminAsync() => await BinlogConnection.OpenAsync(Admin());

    /// <summary>Runs statements as the admin user, one connection for all of them.</summary>
    public static async Task AdminAsync(params string[] statements)
    {
        await using var admin = await OpenAdminAsync();
        foreach (var statement in statements)
        {
            await admin.ExecuteAsync(statement);
        }
    }

    public static string Variable(string name) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException(
                $"{name} is not set. Start the servers with deploy/local/servers.sh start and export what it prints (eval \"$(deploy/local/servers.sh env)\").");

    private static BinlogClientOptions FromVariable(string name) => BinlogClientOptions.FromConnectionString(Variable(name));
}
