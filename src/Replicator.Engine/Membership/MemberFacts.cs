using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using MySqlConnector;
using Replicator.Binlog.Network;
using Replicator.Engine.Configuration;
using Replicator.Engine.Serialization;

namespace Replicator.Engine.Membership;

/// <summary>
/// What a node tells every other member about itself when it sees it join: the cluster it belongs
/// to, a fingerprint of its sources and definitions, and where it keeps its offsets. Two members
/// whose facts disagree cannot share captures and buckets (see <see cref="JoinCompatibility"/>).
/// </summary>
/// <param name="ClusterName">replicator.cluster-name (the actor system's name).</param>
/// <param name="DefinitionsFingerprint">A digest of what must be the same on every node: sources (server, tables, key columns; not the server-id, which may differ per node) and definitions (source, topics, buckets, mode, job type, key prefix).</param>
/// <param name="Journal">Where offsets and dead letters are kept, without credentials: <c>sqlite:&lt;host&gt;:&lt;path&gt;</c> or <c>mysql:&lt;server&gt;:&lt;port&gt;/&lt;database&gt;</c>.</param>
/// <param name="Answer">True for the reply to another member's facts (a reply is not replied to).</param>
public sealed record MemberFacts(string ClusterName, string DefinitionsFingerprint, string Journal, bool Answer = false) : IReplicatorWireMessage
{
    public bool EmbeddedJournal => Journal.StartsWith("sqlite:", StringComparison.Ordinal);

    public static MemberFacts Of(ReplicatorSettings settings) =>
        new(settings.ClusterName, Fingerprint(settings), JournalOf(settings));

    public static string JournalOf(ReplicatorSettings settings)
    {
        if (settings.Persistence == PersistenceProvider.Sqlite)
        {
            return $"sqlite:{Environment.MachineName}:{Path.Combine(settings.DataDirectory, "replicator.db")}";
        }

        var builder = new MySqlConnectionStringBuilder(settings.PersistenceConnectionString);
        return string.Create(CultureInfo.InvariantCulture, $"mysql:{builder.Server}:{builder.Port}/{builder.Database}");
    }

    /// <summary>The first 16 hex digits of a SHA-256 over a canonical text of the sources and definitions (no credentials in it).</summary>
    public static string Fingerprint(ReplicatorSettings settings)
    {
        var text = new StringBuilder();
        foreach (var source in settings.Sources.OrderBy(s => s.Name, StringComparer.Ordinal))
        {
            var client = BinlogClientOptions.FromConnectionString(source.ConnectionString);
            text.Append(CultureInfo.InvariantCulture, $"source {source.Name} {client.Host}:{client.Port}\n");
            foreach (var table in source.Tables.Order(StringComparer.Ordinal))
            {
                text.Append("  table ").Append(table).Append('\n');
            }

            foreach (var (table, columns) in source.KeyColumns.OrderBy(k => k.Key, StringComparer.OrdinalIgnoreCase))
            {
                text.Append("  key ").Append(table.ToLowerInvariant()).Append(' ').AppendJoin(',', columns).Append('\n');
            }
        }

        foreach (var definition in settings.Definitions.OrderBy(d => d.Name, StringComparer.Ordinal))
        {
            var prefix = definition.Job.Config.HasPath("key-prefix") ? definition.Job.Config.GetString("key-prefix") : "";
            text.Append(CultureInfo.InvariantCulture, $"definition {definition.Name} {definition.Source} {definition.Buckets} {definition.Mode} {definition.Job.Type} '{prefix}'\n");
            foreach (var topic in definition.Topics.Order(StringComparer.Ordinal))
            {
                text.Append("  topic ").Append(topic).Append('\n');
            }
        }

        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())))[..16];
    }
}
