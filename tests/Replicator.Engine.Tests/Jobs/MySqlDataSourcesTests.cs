using Akka.Actor;
using Replicator.Engine.Jobs;
using Replicator.Engine.Schema;
using Xunit;

namespace Replicator.Engine.Tests.Jobs;

public sealed class MySqlDataSourcesTests
{
    [Fact]
    public void One_connection_string_gets_one_data_source()
    {
        using var sources = new MySqlDataSources();
        var first = sources.For("Server=127.0.0.1;Port=3306;User ID=cdc;Password=secret");
        var second = sources.For("Server=127.0.0.1;Port=3306;User ID=cdc;Password=secret");

        Assert.Same(first, second);
        Assert.Equal(1, sources.Count);
    }

    [Fact]
    public void Spellings_of_the_same_settings_share_a_data_source()
    {
        using var sources = new MySqlDataSources();
        var first = sources.For("Server=127.0.0.1;Port=3306;User ID=cdc;Password=secret");
        var second = sources.For("user=cdc; pwd=secret; host=127.0.0.1; port=3306");

        Assert.Same(first, second);
    }

    [Fact]
    public void Schema_reader_and_row_reader_settings_keep_their_own_pools()
    {
        using var sources = new MySqlDataSources();
        const string source = "Server=127.0.0.1;User ID=cdc;Password=secret";
        var schema = sources.For(MySqlSchemaSource.ConnectionStringFor(source));
        var rows = sources.For(SourceRowReader.ConnectionStringFor(source));
        var rowsAgain = sources.For(SourceRowReader.ConnectionStringFor(source));

        Assert.NotSame(schema, rows);
        Assert.Same(rows, rowsAgain);
        Assert.Equal(2, sources.Count);
    }

    [Fact]
    public void Different_servers_or_users_get_different_data_sources()
    {
        using var sources = new MySqlDataSources();
        var a = sources.For("Server=10.0.0.1;User ID=cdc");
        var b = sources.For("Server=10.0.0.2;User ID=cdc");
        var c = sources.For("Server=10.0.0.1;User ID=other");

        Assert.NotSame(a, b);
        Assert.NotSame(a, c);
        Assert.Equal(3, sources.Count);
    }

    [Fact]
    public void Readers_keep_their_builder_settings_and_no_password_on_open_connections()
    {
        var rows = new MySqlConnector.MySqlConnectionStringBuilder(SourceRowReader.ConnectionStringFor("Server=h;User ID=u;Password=p", maxConnections: 2));
        var schema = new MySqlConnector.MySqlConnectionStringBuilder(MySqlSchemaSource.ConnectionStringFor("Server=h;User ID=u;Password=p"));

        Assert.Equal(2u, rows.MaximumPoolSize);
        Assert.False(rows.PersistSecurityInfo);
        Assert.Equal(4u, schema.MaximumPoolSize);
        Assert.True(schema.Pooling);
        Assert.False(schema.PersistSecurityInfo);
    }

    [Fact]
    public async Task A_node_has_one_registry_and_disposing_it_empties_it()
    {
        var system = ActorSystem.Create("data-sources");
        try
        {
            var sources = MySqlDataSources.Get(system);
            Assert.Same(sources, MySqlDataSources.Get(system));
            sources.For("Server=127.0.0.1;User ID=cdc");
            Assert.Equal(1, sources.Count);

            await system.Terminate();
            Assert.Equal(0, sources.Count);
        }
        finally
        {
            await system.Terminate();
        }
    }
}
