namespace Replicator.Engine.Membership;

/// <summary>
/// Whether two members may form one cluster, from their <see cref="MemberFacts"/>; a pure decision.
/// They may when they name the same cluster, have the same sources and definitions, and keep their
/// offsets in the same shared journal. The embedded SQLite journal is per node, so a member on it
/// can never share a cluster: a capture moving to another node would find no offset there and
/// start at the end of the binlog, skipping every change since the last commit.
/// </summary>
public static class JoinCompatibility
{
    public const string SharedJournalFix =
        "A cluster of more than one node needs a shared journal: include \"persistence-mysql.conf\" (hocon/persistence-mysql.conf) after replicator.conf on every node.";

    /// <summary>Null when <paramref name="own"/> and <paramref name="peer"/> are compatible, else why not, as seen from this node.</summary>
    public static string? Check(MemberFacts own, MemberFacts peer, string peerAddress)
    {
        if (own.ClusterName != peer.ClusterName)
        {
            return $"{peerAddress} belongs to cluster '{peer.ClusterName}', this node to '{own.ClusterName}' (replicator.cluster-name).";
        }

        if (own.EmbeddedJournal)
        {
            return $"this node keeps its offsets in the embedded SQLite journal (replicator.persistence.provider = sqlite, {own.Journal}), which is per node, and {peerAddress} would join it. " + SharedJournalFix;
        }

        if (peer.EmbeddedJournal)
        {
            return $"{peerAddress} keeps its offsets in the embedded SQLite journal (replicator.persistence.provider = sqlite, {peer.Journal}), which is per node. " + SharedJournalFix;
        }

        if (own.Journal != peer.Journal)
        {
            return $"{peerAddress} keeps its offsets in {peer.Journal}, this node in {own.Journal}: every node of a cluster must use the same journal (replicator.persistence.connection-string).";
        }

        if (own.DefinitionsFingerprint != peer.DefinitionsFingerprint)
        {
            return $"{peerAddress} has other sources or definitions (fingerprint {peer.DefinitionsFingerprint}, this node {own.DefinitionsFingerprint}): every node of a cluster needs the same replicator.sources and replicator.definitions.";
        }

        return null;
    }
}
