using System.Collections.Concurrent;
using Akka.Actor;
using MySqlConnector;

namespace Replicator.Engine.Jobs;

/// <summary>
/// One <see cref="MySqlDataSource"/> (and so one connection pool) per connection string per node,
/// shared by the schema reader and every pk-mode row reader, disposed when the actor system
/// terminates. Connection strings are keyed in a normal form (MySqlConnector's option names, in
/// order), so two spellings of the same settings share a pool, and settings that differ (a pool
/// size, a timeout) keep pools of their own. The key holds the password; it is never logged.
/// </summary>
public sealed class MySqlDataSources : IExtension, IDisposable
{
    private readonly ConcurrentDictionary<string, Lazy<MySqlDataSource>> _sources = new(StringComparer.Ordinal);

    public MySqlDataSources(ActorSystem system)
    {
        system.RegisterOnTermination(Dispose);
    }

    /// <summary>A registry outside any actor system (tests); its owner disposes it.</summary>
    internal MySqlDataSources()
    {
    }

    /// <summary>How many data sources this node holds.</summary>
    public int Count => _sources.Count;

    public static MySqlDataSources Get(ActorSystem system) => system.WithExtension<MySqlDataSources, MySqlDataSourcesProvider>();

    /// <summary>The node's data source for <paramref name="connectionString"/>, created on first use.</summary>
    public MySqlDataSource For(string connectionString) =>
        _sources.GetOrAdd(Normalize(connectionString), c => new Lazy<MySqlDataSource>(() => new MySqlDataSource(c))).Value;

    /// <summary>The connection string with MySqlConnector's own option names, sorted: equal settings give equal text.</summary>
    internal static string Normalize(string connectionString)
    {
        var given = new MySqlConnectionStringBuilder(connectionString);
        var normal = new MySqlConnectionStringBuilder();
        foreach (var key in given.Keys.Cast<string>().Order(StringComparer.OrdinalIgnoreCase))
        {
            normal[key] = given[key];
        }

        return normal.ConnectionString;
    }

    public void Dispose()
    {
        foreach (var source in _sources.Values.Where(l => l.IsValueCreated))
        {
            source.Value.Dispose();
        }

        _sources.Clear();
    }
}

public sealed class MySqlDataSourcesProvider : ExtensionIdProvider<MySqlDataSources>
{
    public override MySqlDataSources CreateExtension(ExtendedActorSystem system) => new(system);
}
