using MySqlConnector;
using StackExchange.Redis;

namespace Replicator.IntegrationTests.Infrastructure;

/// <summary>
/// The MariaDB and Redis servers started by deploy/local/servers.sh, found through the environment
/// it prints (<c>eval "$(deploy/local/servers.sh env)"</c>). A missing server is a test failure,
/// never a skip.
/// </summary>
public static class Servers
{
    public static string MariaDbAdmin => Require("REPLICATOR_MARIADB_ADMIN");

    public static string MariaDbCdc => Require("REPLICATOR_MARIADB_CDC");

    public static string Redis => Require("REPLICATOR_REDIS");

    private static string Require(string name) =>
        Environment.GetEnvironmentVariable(name)
        ?? throw new InvalidOperationException(
            $"{name} is not set: start the servers with deploy/local/servers.sh start and export their connection strings with eval \"$(deploy/local/servers.sh env)\" (deploy/local/test.sh does both).");

    public static async Task<MySqlConnection> OpenAdminAsync()
    {
        var connection = new MySqlConnection(MariaDbAdmin + ";Allow User Variables=true;CharSet=utf8mb4");
        await connection.OpenAsync();
        return connection;
    }

    public static async Task ExecuteAsync(string sql)
    {
        await using var connection = await OpenAdminAsync();
        await using var command = new MySqlCommand(sql, connection) { CommandTimeout = 300 };
        await command.ExecuteNonQueryAsync();
    }

    public static async Task<T> ScalarAsync<T>(string sql)
    {
        await using var connection = await OpenAdminAsync();
        await using var command = new MySqlCommand(sql, connection);
        return (T)Convert.ChangeType((await command.ExecuteScalarAsync())!, typeof(T), System.Globalization.CultureInfo.InvariantCulture);
    }

    public static ConnectionMultiplexer ConnectRedis()
    {
        var options = ConfigurationOptions.Parse(Redis);
        options.AllowAdmin = true;
        return ConnectionMultiplexer.Connect(options);
    }

    /// <summary>A schema name unique to this test run.</summary>
    public static string UniqueSchema(string prefix) => $"{prefix}_{Guid.NewGuid():N}"[..(prefix.Length + 9)];
}
