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
        Assert.Equal(Path.Combine(Directory.GetCurrentDirectory(), "data"), settings.DataDirectory);
        Assert.False(settings.Insecure);
        Assert.Equal(ZeroDateHandling.Literal, settings.ZeroDates);
        Assert.Equal(20_000, settings.Capture.MaxInFlight);
        Assert.Equal(128L << 20, settings.Capture.MaxInFlightBytes);
        Assert.Equal(200, settings.Capture.MaxChangesPerDelivery);
        Assert.Equal(256L << 10, settings.Capture.MaxDeliveryBytes);
        Assert.Equal(4L << 20, settings.Capture.MaxFrameSize);
        Assert.Equal(TimeSpan.FromSeconds(1), settings.Capture.OffsetCommitInterval);
        Assert.Equal(50_000, settings.Capture.MaxHeldXaChanges);
        Assert.Equal(32L << 20, settings.Capture.MaxHeldXaBytes);
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
        Assert.Equal(CrashPoint.None, settings.Testing.CrashAt);
        Assert.Equal(1, settings.Testing.CrashAtOccurrence);
    }

    [Fact]
    public void The_capture_reads_a_compressed_transaction_an_inner_event_at_a_time_with_the_decoder_limits_kept()
    {
        var source = Assert.Single(Parse(Source + "\nreplicator.definitions.cache.topics = [\"*_write\"]").Sources);
        var options = source.ClientOptions(StartPosition.CurrentEnd);
        Assert.True(options.Decoder.StreamTransactionPayloads);
        Assert.Equal(Replicator.Binlog.Parsers.BinlogDecoderOptions.Default.MaxDecompressedSize, options.Decoder.MaxDecompressedSize);
        Assert.True(options.Decoder.VerifyChecksums);
    }

    [Fact]
    public void A_configured_decompression_limit_reaches_the_capture_decoder()
    {
        var source = Assert.Single(Parse(Source + "\nreplicator.sources.main.max-decompressed-size = 64MiB\nreplicator.definitions.cache.topics = [\"*_write\"]").Sources);
        Assert.Equal(64L << 20, source.MaxDecompressedSize);
        Assert.Equal(64 << 20, source.ClientOptions(StartPosition.CurrentEnd).Decoder.MaxDecompressedSize);
    }

    [Fact]
    public void A_source_without_a_type_is_a_mysql_binlog_source()
    {
        var source = Assert.Single(Parse(Source + "\nreplicator.definitions.cache.topics = [\"*_write\"]").Sources);
        Assert.Equal("mysql-binlog", source.Type);
        Assert.Equal(SourceSettings.MySqlBinlogType, source.Type);
    }

    [Fact]
    public void An_unknown_source_type_fails_naming_the_key_path_and_the_known_types()
    {
        var hocon = Source + "\nreplicator.definitions.cache.topics = [\"*_write\"]\nreplicator.sources.main.type = postgres-wal";
        var error = Assert.Throws<ConfigurationException>(() => Parse(hocon));
        Assert.Equal("replicator.sources.main.type must be one of mysql-binlog, not 'postgres-wal'.", error.Message);
    }

    [Fact]
    public void A_crash_point_is_read_with_its_occurrence()
    {
        var settings = Parse(Source + "\nreplicator.testing { crash-at = after-dead-letter, crash-at-occurrence = 7 }");
        Assert.Equal(CrashPoint.AfterDeadLetter, settings.Testing.CrashAt);
        Assert.Equal(7, settings.Testing.CrashAtOccurrence);
    }

    [Theory]
    [InlineData("replicator.capture.max-in-fligth = 5", "replicator.capture.max-in-fligth is not a known setting. Did you mean replicator.capture.max-in-flight?")]
    [InlineData("replicator.capture.max-in-flight = abc", "replicator.capture.max-in-flight must be a whole number, not 'abc'.")]
    [InlineData("replicator.capture.max-in-flight = 0", "replicator.capture.max-in-flight must be between 1 and 10000000, not 0.")]
    [InlineData("replicator.sources.main.server-id = 0", "replicator.sources.main.server-id must be set")]
    [InlineData("replicator.sources.main.heartbeat = -5s", "replicator.sources.main.heartbeat must be")]
    [InlineData("replicator.sources.main.max-decompressed-size = 2GiB", "replicator.sources.main.max-decompressed-size must be between")]
    [InlineData("replicator.sources.main.max-decompressed-size = 1KiB", "replicator.sources.main.max-decompressed-size must be between")]
    [InlineData("replicator.definitions.cache.mode = fastest", "replicator.definitions.cache.mode must be one of row, pk, every-change, not 'fastest'.")]
    [InlineData("replicator.definitions.cache.source = nope", "replicator.definitions.cache.source names 'nope'")]
    [InlineData("replicator.sources.other { connection-string = \"Server=127.0.0.1;User ID=a;Password=b\", server-id = 1001 }", "server-id 1001 is also used by source")]
    [InlineData("replicator.sources.main.start = yesterday", "replicator.sources.main.start must be end, oldest, or file:position")]
    [InlineData("replicator.testing.crash-at = after-commit", "replicator.testing.crash-at must be one of none, after-apply, after-ack, before-persist, after-persist, after-dead-letter, not 'after-commit'.")]
    [InlineData("replicator.testing.crash-at-occurrence = 0", "replicator.testing.crash-at-occurrence must be between 1 and")]
    [InlineData("replicator.remember-entites = on", "replicator.remember-entites is not a known setting")]
    [InlineData("replicator.sources.main.resume-by = binlog", "replicator.sources.main.resume-by must be one of position, gtid, not 'binlog'.")]
    [InlineData("replicator.sources.main.resynced-through = yesterday", "replicator.sources.main.resynced-through must be empty or a binlog position file:position")]
    [InlineData("replicator.capture.max-frame-size = huge", "replicator.capture.max-frame-size must be a size such as 128000b, 256KiB or 4MiB, not 'huge'.")]
    [InlineData("replicator.capture.max-frame-size = 1GiB", "replicator.capture.max-frame-size must be between 32,768 and 268,435,456 bytes, not 1,073,741,824.")]
    [InlineData("replicator.capture.max-frame-size = 128KiB", "replicator.capture.max-delivery-bytes (262,144 bytes) must leave 4,096 bytes of max-frame-size (131,072 bytes)")]
    [InlineData("replicator.capture.max-held-xa-changes = 0", "replicator.capture.max-held-xa-changes must be between 1 and 100000000, not 0.")]
    [InlineData("replicator.capture.max-in-flight-bytes = 2MiB", "replicator.capture.max-in-flight-bytes (2,097,152 bytes) must be at least max-frame-size (4,194,304 bytes)")]
    [InlineData("replicator.definitions.cache.job.tombstone-ttl = 1h", "replicator.definitions.cache.job.tombstone-ttl (1h) is shorter than the 2h45m28s a change can spend in retries")]
    [InlineData("replicator.definitions.cache.job.tombstone-ttl = 10s\nreplicator.definitions.cache.retry { max-attempts = 3, initial = 1s, max = 4s }", "replicator.definitions.cache.job.tombstone-ttl (10s) is shorter than the 1m34s a change can spend in retries")]
    public void A_bad_setting_fails_with_its_key_path_and_never_the_password(string line, string expected)
    {
        var hocon = Source + "\nreplicator.definitions.cache.topics = [\"*_write\"]\n" + line;
        var error = Assert.Throws<ConfigurationException>(() => Parse(hocon));
        Assert.Contains(expected, error.Message);
        Assert.DoesNotContain("CANARY", error.Message);
    }

    [Theory]
    [InlineData("replicator.sources.main.connection-string = \"Server=db.example;User ID=cdc;Password=CANARY-5f2a\"", "replicator.sources.main.connection-string")]
    [InlineData("replicator.sources.main.connection-string = \"Server=db.example;User ID=cdc;Password=CANARY-5f2a;SslMode=Required\"", "replicator.sources.main.connection-string")]
    [InlineData("replicator.sources.main.connection-string = \"Server=10.1.2.3;User ID=cdc;Password=CANARY-5f2a;SslMode=Preferred\"", "replicator.sources.main.connection-string")]
    [InlineData("replicator.persistence { provider = mysql, connection-string = \"Server=journal.example;User ID=j;Password=CANARY-5f2a;Database=j;SslMode=Required\" }", "replicator.persistence.connection-string")]
    public void A_remote_mysql_connection_without_a_verified_certificate_is_refused_unless_insecure(string line, string key)
    {
        var hocon = Source + "\nreplicator.definitions.cache.topics = [\"*_write\"]\n" + line;

        var error = Assert.Throws<ConfigurationException>(() => Parse(hocon));

        Assert.Contains(key, error.Message);
        Assert.Contains("SslMode=VerifyCA or VerifyFull", error.Message);
        Assert.Contains("replicator.insecure = on", error.Message);
        Assert.DoesNotContain("CANARY", error.Message);
        Assert.Single(Parse(hocon + "\nreplicator.insecure = on").Sources);
    }

    [Fact]
    public void A_remote_redis_without_tls_is_refused_unless_insecure()
    {
        var hocon = Source + "\nreplicator.definitions.cache { topics = [\"*_write\"], job.redis = \"cache.example:6379,password=CANARY-5f2a\" }";

        var error = Assert.Throws<ConfigurationException>(() => Parse(hocon));

        Assert.Contains("replicator.definitions.cache.job.redis", error.Message);
        Assert.Contains("ssl=true", error.Message);
        Assert.DoesNotContain("CANARY", error.Message);
        Assert.Single(Parse(hocon + "\nreplicator.insecure = on").Definitions);
        Assert.Single(Parse(hocon.Replace("6379,", "6380,ssl=true,", StringComparison.Ordinal)).Definitions);
    }

    [Fact]
    public void Verified_tls_to_remote_servers_and_anything_on_loopback_are_accepted()
    {
        var settings = Parse("""
            replicator.sources.main { connection-string = "Server=db.example;User ID=cdc;Password=x;SslMode=VerifyFull;SslCa=/etc/ca.pem", server-id = 1 }
            replicator.definitions.cache { topics = ["*"], job.redis = "localhost:6379" }
            replicator.persistence { provider = mysql, connection-string = "Server=journal.example;User ID=j;Password=x;Database=j;SslMode=VerifyCA;SslCa=/etc/ca.pem" }
            """);

        Assert.Single(settings.Sources);
    }

    [Fact]
    public void A_relative_data_dir_resolves_against_the_directory_of_the_config_file_not_the_working_directory()
    {
        var directory = Directory.CreateTempSubdirectory("replicator-config-").FullName;
        try
        {
            var file = Path.Combine(directory, "node.conf");
            File.WriteAllText(file, Source + "\nreplicator.data-dir = \"state/node1\"\n");
            Assert.Equal(Path.Combine(directory, "state", "node1"), ReplicatorSettings.Create(HoconLoader.LoadFile(file)).DataDirectory);

            File.WriteAllText(file, Source + "\nreplicator.data-dir = \"/var/lib/replicator\"\n");
            Assert.Equal("/var/lib/replicator", ReplicatorSettings.Create(HoconLoader.LoadFile(file)).DataDirectory);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
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
            Assert.Equal(Path.Combine(dir.FullName, "from-base"), settings.DataDirectory);
            Assert.Equal(9, settings.Capture.MaxInFlight);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void The_frame_size_sets_Akkas_frame_and_buffers_and_a_node_config_that_disagrees_is_refused()
    {
        var capture = Parse(Source + "\nreplicator.capture.max-frame-size = 1MiB\nreplicator.definitions.cache.topics = [\"*\"]").Capture;
        var remote = capture.RemoteConfig(ConfigurationFactory.Empty);
        Assert.Equal(1L << 20, remote.GetByteSize("akka.remote.dot-netty.tcp.maximum-frame-size"));
        Assert.Equal(2L << 20, remote.GetByteSize("akka.remote.dot-netty.tcp.send-buffer-size"));
        Assert.Equal(2L << 20, remote.GetByteSize("akka.remote.dot-netty.tcp.receive-buffer-size"));
        Assert.Equal(1L << 20, capture.RemoteConfig(ConfigurationFactory.ParseString("akka.remote.dot-netty.tcp.maximum-frame-size = 1MiB")).GetByteSize("akka.remote.dot-netty.tcp.maximum-frame-size"));

        var frame = Assert.Throws<ConfigurationException>(() => capture.RemoteConfig(ConfigurationFactory.ParseString("akka.remote.dot-netty.tcp.maximum-frame-size = 128000b")));
        Assert.Contains("akka.remote.dot-netty.tcp.maximum-frame-size (128,000 bytes) differs from replicator.capture.max-frame-size (1,048,576 bytes)", frame.Message);
        var buffer = Assert.Throws<ConfigurationException>(() => capture.RemoteConfig(ConfigurationFactory.ParseString("akka.remote.dot-netty.tcp.receive-buffer-size = 256000b")));
        Assert.Contains("akka.remote.dot-netty.tcp.receive-buffer-size (256,000 bytes) is smaller than replicator.capture.max-frame-size", buffer.Message);
    }

    [Fact]
    public void Key_columns_are_read_for_a_schema_qualified_table_name()
    {
        var settings = Parse(Source + "\nreplicator.sources.main.key-columns { \"shop.events\" = [seq, at] }\nreplicator.definitions.cache.topics = [\"*\"]");
        Assert.Equal(["seq", "at"], settings.Sources[0].KeyColumns["shop.events"]);
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
