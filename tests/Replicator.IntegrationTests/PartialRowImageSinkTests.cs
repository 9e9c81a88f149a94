using Replicator.Engine.Jobs.RedisCache;
using Replicator.IntegrationTests.Infrastructure;

namespace Replicator.IntegrationTests;

/// <summary>
/// Row mode on binlog_row_image = MINIMAL (set per session): updates log only the columns they
/// change, inserts only the columns they give. The sink must still end up with every column.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class PartialRowImageSinkTests
{
    [Fact]
    public async Task With_minimal_row_images_coalesced_updates_keep_every_column_and_inserts_get_their_defaulted_columns()
    {
        var schema = Servers.UniqueSchema("it_minimal");
        var prefix = schema + ":";
        var data = Directory.CreateTempSubdirectory("replicator-minimal-").FullName;
        await Servers.ExecuteAsync($"CREATE DATABASE {schema}; CREATE TABLE {schema}.t (id INT PRIMARY KEY, a VARCHAR(10), b TEXT, c INT NOT NULL DEFAULT 7, d INT)");
        var node = await TestNode.StartAsync(TestNode.Config(data, schema, prefix, 7301, "replicator.definitions.cache.buckets = 1"));
        try
        {
            using var redis = Servers.ConnectRedis();
            var checker = new RedisCacheSinkChecker(Servers.MariaDbCdc, redis, prefix);

            // A row written whole first.
            await Servers.ExecuteAsync($"INSERT INTO {schema}.t VALUES (5, 'a5', 'b5', 55, 5)");
            var first = await Eventually.UntilAsync(() => checker.CheckAsync(schema, "t"), r => r.Matches, TimeSpan.FromSeconds(30));
            Assert.True(first.Matches, first.ToString());

            // One transaction reaches the bucket as one delivery, so its changes of a pk coalesce.
            await Servers.ExecuteAsync($"""
                SET SESSION binlog_row_image = MINIMAL;
                START TRANSACTION;
                UPDATE {schema}.t SET a = 'a5 new' WHERE id = 5;
                UPDATE {schema}.t SET b = 'b5 new' WHERE id = 5;
                INSERT INTO {schema}.t (id, a) VALUES (1, 'x'), (2, 'y'), (3, 'z');
                UPDATE {schema}.t SET a = 'x1' WHERE id = 1;
                UPDATE {schema}.t SET b = 'b1' WHERE id = 1;
                UPDATE {schema}.t SET d = 4 WHERE id = 2;
                COMMIT;
                INSERT INTO {schema}.t (id, b) VALUES (4, 'only b');
                """);

            var result = await Eventually.UntilAsync(() => checker.CheckAsync(schema, "t"), r => r.Matches, TimeSpan.FromSeconds(30));
            Assert.True(result.Matches, result.ToString());
            var db = redis.GetDatabase();
            Assert.Equal("a5 new", (string?)await db.HashGetAsync($"{prefix}{schema}:t:5", "a"));
            Assert.Equal("b5 new", (string?)await db.HashGetAsync($"{prefix}{schema}:t:5", "b"));
            Assert.Equal("7", (string?)await db.HashGetAsync($"{prefix}{schema}:t:4", "c"));
        }
        finally
        {
            await node.StopAsync();
            await Servers.ExecuteAsync($"DROP DATABASE {schema}");
            Directory.Delete(data, recursive: true);
        }
    }

    [Fact]
    public async Task A_minimal_insert_after_an_added_column_gets_that_columns_default_in_the_sink()
    {
        var schema = Servers.UniqueSchema("it_minimal_ddl");
        var prefix = schema + ":";
        var data = Directory.CreateTempSubdirectory("replicator-minimal-ddl-").FullName;
        await Servers.ExecuteAsync($"CREATE DATABASE {schema}; CREATE TABLE {schema}.t (id INT PRIMARY KEY, a VARCHAR(10), c INT NOT NULL DEFAULT 3)");
        var node = await TestNode.StartAsync(TestNode.Config(data, schema, prefix, 7302, "replicator.definitions.cache.buckets = 1"));
        try
        {
            using var redis = Servers.ConnectRedis();
            var checker = new RedisCacheSinkChecker(Servers.MariaDbCdc, redis, prefix);
            var db = redis.GetDatabase();

            // A partial insert: its row is read back, and the table's columns are cached.
            await Servers.ExecuteAsync($"SET SESSION binlog_row_image = MINIMAL; INSERT INTO {schema}.t (id, a) VALUES (1, 'one')");
            var first = await Eventually.UntilAsync(() => checker.CheckAsync(schema, "t"), r => r.Matches, TimeSpan.FromSeconds(30));
            Assert.True(first.Matches, first.ToString());
            Assert.Equal("3", (string?)await db.HashGetAsync($"{prefix}{schema}:t:1", "c"));

            await Servers.ExecuteAsync($"""
                ALTER TABLE {schema}.t ADD COLUMN w INT NOT NULL DEFAULT 7;
                SET SESSION binlog_row_image = MINIMAL;
                INSERT INTO {schema}.t (id, a) VALUES (2, 'two');
                """);
            await Eventually.UntilAsync(async () => (string?)await db.HashGetAsync($"{prefix}{schema}:t:2", "a"), a => a == "two", TimeSpan.FromSeconds(30));
            Assert.Equal("7", (string?)await db.HashGetAsync($"{prefix}{schema}:t:2", "w"));
            Assert.Equal("3", (string?)await db.HashGetAsync($"{prefix}{schema}:t:2", "c"));
        }
        finally
        {
            await node.StopAsync();
            await Servers.ExecuteAsync($"DROP DATABASE {schema}");
            Directory.Delete(data, recursive: true);
        }
    }
}
