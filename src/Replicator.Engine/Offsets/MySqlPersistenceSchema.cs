using MySqlConnector;

namespace Replicator.Engine.Offsets;

/// <summary>
/// Creates the journal and snapshot tables in MySQL or MariaDB. Akka.Persistence.Sql's own
/// initialisation looks indexes up in a MySQL 8-only view (information_schema.INNODB_INDEXES) and
/// fails on MariaDB, so Replicator creates the tables itself with portable DDL (the same as
/// deploy/sql/persistence-mysql.sql) and keeps the plugin's auto-initialize off.
/// </summary>
public static class MySqlPersistenceSchema
{
    public static async Task EnsureAsync(string connectionString, CancellationToken cancellationToken = default)
    {
        using var stream = typeof(MySqlPersistenceSchema).Assembly.GetManifestResourceStream("Replicator.Engine.persistence-mysql.sql")
            ?? throw new InvalidOperationException("persistence-mysql.sql is not embedded in Replicator.Engine.");
        using var reader = new StreamReader(stream);
        var script = await reader.ReadToEndAsync(cancellationToken).ConfigureAwait(false);
        await using var connection = new MySqlConnection(connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            var withoutComments = string.Join('\n', script.Split('\n').Where(l => !l.TrimStart().StartsWith("--", StringComparison.Ordinal)));
            foreach (var statement in withoutComments.Split(';').Where(s => !string.IsNullOrWhiteSpace(s)))
            {
                await using var command = new MySqlCommand(statement, connection);
                await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch (MySqlException e)
        {
            var builder = new MySqlConnectionStringBuilder(connectionString);
            throw new Akka.Configuration.ConfigurationException(
                $"replicator.persistence: cannot create the journal tables in {builder.Server}:{builder.Port}/{builder.Database}: {e.Message}. Create them with deploy/sql/persistence-mysql.sql and set replicator.persistence.auto-initialize = off.");
        }
    }
}
