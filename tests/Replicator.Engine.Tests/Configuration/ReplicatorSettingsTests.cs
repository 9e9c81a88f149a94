using Akka.Configuration;
using Replicator.Binlog.Columns;
using Replicator.Binlog.Positions;
using Replicator.Engine.Configuration;
using Replicator.Engine.Replication;

namespace Replicator.Engine.Tests.Configuration;

public sealed class ReplicatorSettingsTests
{
    private const string Source = """
        replicator.sources.main {
          connection-string = "Server=127.0.0.1;Port=3306;User ID=cdc;Password=CANARY-5f2a"
          server-id = 1001
        }
        """;

    private static ReplicatorSettings Parse(string hocon) => ReplicatorSettings.Create(HoconLoader.LoadString(hocon));

    [Fact]
    public void Defaults_are_those_documented_in_reference_conf()
    {
        var settings = Parse(Source + "\nreplicator.definitions.cache.topics = [\"*_write\"]");
        Assert.Equal("data", settings.DataDirectory);
        Assert.False(settings.Insecure);
        Assert.Equal(ZeroDateHandling.Literal, settings.ZeroDates);
        Assert.Equal(20_000, settings.Capture.MaxInFlight);
        Assert.Equal(TimeSpan.FromSeconds(1), settings.Capture.OffsetCommitInterval);
        Assert.Equal(PersistenceProvider.Sqlite, settings.Persistence);
        var source = Assert.Single(settings.Sources);
        Assert.Equal(StartPosition.CurrentEnd, source.Start);
        Assert.Equal(TimeSpan.FromSeconds(5), source.Heartbeat);
        Assert.Equal(ResumeBy.Position, source.ResumeBy);
        Assert.Null(source.ResyncedThrough);
        var definition = Assert.Single(settings.Definitions);
        Assert.Equal("main", definition.Source);
        Assert.Equal(64, definition.Buckets);
        Assert.Equal(DedupeMode.Row, definition.Mode);
        Assert.Equal(new RetryPolicy(TimeSpan.FromSeconds(1), 2.0, TimeSpan.FromMinutes(15), 20, 0.2), definition.Retry);
        Assert.Equal("redis-cache", definition.Job.Type);
    }

    [Theory]
    [InlineData("replicator.capture.max-in-fligth = 5", "replicator.capture.max-in-fligth is not a known setting. Did you mean replicator.capture.max-in-flight?")]
    [InlineData("replicator.capture.max-in-flight = abc", "replicator.capture.max-in-flight must be a whole number, not 'abc'.")]
    [InlineData("replicator.capture.max-in-flight = 0", "replicator.capture.max-in-flight must be between 1 and 10000000, not 0.")]
    [InlineData("replicator.sources.main.server-id = 0", "replicator.sources.main.server-id must be set")]
    [InlineData("replicator.sources.main.heartbeat = -5s", "replicator.sources.main.heartbeat must be")]
    [InlineData("replicator.definitions.cache.mode = fastest", "replicator.definitions.cache.mode must be one of row, pk, every-change, not 'fastest'.")]
    [InlineData("replicator.definitions.cache.source = nope", "replicator.definitions.cache.source names 'nope'")]
    [InlineData("replicator.sources.other { connection-string = \"Server=127.0.0.1;User ID=a;Password=b\", server-id = 1001 }", "server-id 1001 is also used by source")]
    [InlineData("replicator.sources.main.start = yesterday", "replicator.sources.main.start must be end, oldest, or file:position")]
    [InlineData("replicator.remember-entites = on", "replicator.remember-entites is not a known setting")]
    [InlineData("replicator.sources.main.resume-by = binlog", "replicator.sources.main.resume-by must be one of position, gtid, not 'binlog'.")]
    [InlineData("replicator.sources.main.resynced-through = yesterday", "replicator.sources.main.resynced-through must be empty or a binlog position file:position")]
    public void A_bad_setting_fails_with_its_key_path_and_never_the_password(string line, string expected)
    {
        var hocon = Source + "\nreplicator.definitions.cache.topics = [\"*_write\"]\n" + line;
        var error = Assert.Throws<ConfigurationException>(() => Parse(hocon));
        Assert.Contains(expected, error.Message);
        Assert.DoesNotContain("CANARY", error.Message);
    }

    [Fact]
    public void Unbalanced_braces_are_reported_with_the_line()
    {
        var error = Assert.Throws<ConfigurationException>(() => HoconLoader.LoadString("replicator {\n  data-dir = x\n", "node.conf"));
        Assert.Equal("node.conf:1: '{' is never closed.", error.Message);
    }

    [Fact]
    public void Environment_substitutions_are_quoted_optional_or_required()
    {
        Environment.SetEnvironmentVariable("REPLICATOR_TEST_SECRET", "pa\"ss{word}");
        var config = HoconLoader.LoadString("""
            a = "default"
            a = ${?REPLICATOR_TEST_SECRET}
            b = "kept"
            b = ${?REPLICATOR_TEST_UNSET_VARIABLE}
            """);
        Assert.Equal("pa\"ss{word}", config.GetString("a"));
        Assert.Equal("kept", config.GetString("b"));
        var error = Assert.Throws<ConfigurationException>(() => HoconLoader.LoadString("c = ${REPLICATOR_TEST_UNSET_VARIABLE}", "x.conf"));
        Assert.Contains("x.conf:1: environment variable REPLICATOR_TEST_UNSET_VARIABLE is not set", error.Message);
    }

    [Fact]
    public void Includes_are_resolved_relative_to_the_including_file()
    {
        var dir = Directory.CreateTempSubdirectory();
        try
        {
            File.WriteAllText(Path.Combine(dir.FullName, "base.conf"), "replicator.data-dir = from-base\nreplicator.capture.max-in-flight = 7");
            File.WriteAllText(Path.Combine(dir.FullName, "node.conf"), "include \"base.conf\"\nreplicator.capture.max-in-flight = 9");
            var settings = ReplicatorSettings.Create(HoconLoader.LoadFile(Path.Combine(dir.FullName, "node.conf")));
            Assert.Equal("from-base", settings.DataDirectory);
            Assert.Equal(9, settings.Capture.MaxInFlight);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void Resume_by_gtid_starts_after_the_saved_gtid_position_and_falls_back_to_the_position_without_one()
    {
        var byGtid = Assert.Single(Parse(Source + "\nreplicator.sources.main.resume-by = gtid").Sources);
        var byPosition = Assert.Single(Parse(Source).Sources);
        var withGtid = new Replicator.Engine.Offsets.SourceOffset(new BinlogPosition("mariadb-bin.000007", 1234), 3, "0-1-42,1-2-7");
        var withoutGtid = withGtid with { Gtid = null };

        Assert.Equal(ResumeBy.Gtid, byGtid.ResumeBy);
        Assert.Equal(StartPosition.After(MariaDbGtidPosition.Parse("0-1-42,1-2-7")).ToString(), byGtid.ResumeFrom(withGtid).ToString());
        Assert.Equal(StartPosition.At("mariadb-bin.000007", 1234), byGtid.ResumeFrom(withoutGtid));
        Assert.Equal(StartPosition.At("mariadb-bin.000007", 1234), byPosition.ResumeFrom(withGtid));
    }

    [Fact]
    public void The_password_never_shows_in_a_described_source()
    {
        var settings = Parse(Source);
        Assert.DoesNotContain("CANARY", settings.Sources[0].Describe());
        Assert.DoesNotContain("CANARY", settings.Sources[0].ToString());
    }
}
