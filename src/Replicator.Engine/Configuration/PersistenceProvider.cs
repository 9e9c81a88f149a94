namespace Replicator.Engine.Configuration;

public enum PersistenceProvider
{
    /// <summary>Embedded SQLite under the node's data directory.</summary>
    Sqlite,

    /// <summary>MySQL or MariaDB through MySqlConnector.</summary>
    MySql,
}
