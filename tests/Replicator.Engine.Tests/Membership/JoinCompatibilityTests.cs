using Replicator.Engine.Configuration;
using Replicator.Engine.Membership;

namespace Replicator.Engine.Tests.Membership;

public sealed class JoinCompatibilityTests
{
    private const string Node = """
        replicator {
          sources.main {
            connection-string = "Server=db1.example;Port=3306;User ID=cdc;Password=CANARY-71c2;SslMode=VerifyFull"
            server-id = 1001
            tables = ["shop.*"]
          }
          definitions.cache {
            topics = ["*_write", "*_update"]
            buckets = 16
            job { type = redis-cache, redis = "r1:6379,ssl=true,password=CANARY-71c2", key-prefix = "shop:" }
          }
          persistence { provider = mysql, connection-string = "Server=journal.example;Port=3306;User ID=j;Password=CANARY-71c2;Database=journal;SslMode=VerifyCA" }
        }
        """;

    private static MemberFacts Facts(string extra = "") => MemberFacts.Of(ReplicatorSettings.Create(HoconLoader.LoadString(Node + "\n" + extra)));

    [Fact]
    public void Nodes_with_the_same_cluster_definitions_and_journal_are_compatible_whatever_their_own_server_id_data_dir_and_batching()
    {
        var other = Facts("replicator { sources.main.server-id = 1002, data-dir = elsewhere, definitions.cache.batch-size = 50 }");

        Assert.Null(JoinCompatibility.Check(Facts(), other, "peer"));
        Assert.Equal("mysql:journal.example:3306/journal", other.Journal);
    }

    [Theory]
    [InlineData("replicator.cluster-name = staging", "belongs to cluster 'staging', this node to 'replicator' (replicator.cluster-name)")]
    [InlineData("replicator.definitions.cache.buckets = 32", "other sources or definitions")]
    [InlineData("replicator.definitions.cache.topics = [\"*_write\"]", "other sources or definitions")]
    [InlineData("replicator.definitions.cache.job.key-prefix = \"staging:\"", "other sources or definitions")]
    [InlineData("replicator.definitions.other { topics = [\"*\"], job.type = log }", "other sources or definitions")]
    [InlineData("replicator.sources.main.connection-string = \"Server=staging-db;Port=3306;User ID=cdc;Password=x;SslMode=VerifyFull\"", "other sources or definitions")]
    [InlineData("replicator.persistence.connection-string = \"Server=journal.example;Port=3306;User ID=j;Password=x;Database=staging;SslMode=VerifyCA\"", "keeps its offsets in mysql:journal.example:3306/staging")]
    [InlineData("replicator.persistence.provider = sqlite", "keeps its offsets in the embedded SQLite journal")]
    public void A_member_of_another_cluster_with_other_definitions_or_another_journal_is_refused_with_the_reason(string difference, string expected)
    {
        var reason = JoinCompatibility.Check(Facts(), Facts(difference), "akka.tcp://replicator@10.0.0.9:4053");

        Assert.NotNull(reason);
        Assert.Contains(expected, reason);
        Assert.DoesNotContain("CANARY", reason);
    }

    [Fact]
    public void A_node_on_the_embedded_journal_refuses_any_member_and_says_to_use_the_mysql_persistence()
    {
        var own = Facts("replicator.persistence.provider = sqlite");

        var reason = JoinCompatibility.Check(own, own, "peer");

        Assert.Contains("this node keeps its offsets in the embedded SQLite journal", reason);
        Assert.Contains("hocon/persistence-mysql.conf", reason);
    }

    [Fact]
    public void The_fingerprint_holds_no_secret()
    {
        var facts = Facts();
        Assert.Matches("^[0-9a-f]{16}$", facts.DefinitionsFingerprint);
        Assert.NotEqual(facts.DefinitionsFingerprint, Facts("replicator.definitions.cache.mode = pk").DefinitionsFingerprint);
        Assert.Equal(facts.DefinitionsFingerprint, Facts("replicator.definitions.cache.job.redis = \"r1:6379,ssl=true,password=another\"").DefinitionsFingerprint);
        Assert.DoesNotContain("CANARY", facts.ToString());
    }
}
