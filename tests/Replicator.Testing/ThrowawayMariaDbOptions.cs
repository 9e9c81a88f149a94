namespace Replicator.Testing;

/// <summary>How <see cref="ThrowawayMariaDb.StartAsync(ThrowawayMariaDbOptions)"/> starts a server.</summary>
public sealed record ThrowawayMariaDbOptions
{
    /// <summary>The server's name in messages.</summary>
    public string Name { get; init; } = "throwaway";

    /// <summary>
    /// Where the server's files go. Null: a new temporary directory, removed on dispose; a directory
    /// the test gives is left in place (a fault scenario keeps it as evidence).
    /// </summary>
    public string? Directory { get; init; }

    /// <summary>mariadbd options after the launcher's own (<c>--log-bin</c>, <c>--binlog-format=ROW</c>, …); the last of a repeated option wins.</summary>
    public IReadOnlyList<string> ServerOptions { get; init; } = [];

    /// <summary>mariadb-install-db options for the template data directory (e.g. <c>--innodb-log-file-size=16M</c>).</summary>
    public IReadOnlyList<string> InstallOptions { get; init; } = [];
}
