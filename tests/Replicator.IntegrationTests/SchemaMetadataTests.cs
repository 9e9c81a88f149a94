using System.Text.Json.Nodes;
using Replicator.IntegrationTests.Infrastructure;

namespace Replicator.IntegrationTests;

/// <summary>
/// Without binlog_row_metadata=FULL the binlog carries no column names, key or ENUM/SET names:
/// <c>tail --source</c> takes them from information_schema, refreshes them on DDL, and refuses
/// (naming the table) rows it cannot map instead of guessing.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class SchemaMetadataTests(ThrowawaySourceFixture source) : IClassFixture<ThrowawaySourceFixture>
{
    [Theory]
    [InlineData("MINIMAL")]
    [InlineData("NO_LOG")]
    public async Task Without_full_row_metadata_names_key_enum_set_names_and_charsets_come_from_information_schema(string metadata)
    {
        var schema = $"cap_meta_{metadata.ToLowerInvariant()}";
        await source.Server.ExecuteAsync($$"""
            SET GLOBAL binlog_row_metadata = {{metadata}};
            CREATE DATABASE {{schema}};
            CREATE TABLE {{schema}}.t (
              k2 VARCHAR(10) CHARACTER SET latin1,
              u BIGINT UNSIGNED,
              k1 INT,
              e ENUM('red','green','blue'),
              st SET('a','b','c'),
              l VARCHAR(20) CHARACTER SET latin1,
              m3 VARCHAR(20) CHARACTER SET utf8mb3,
              m4 TEXT CHARACTER SET utf8mb4,
              vb VARBINARY(10),
              bl BLOB,
              j JSON,
              PRIMARY KEY (k1, k2));
            INSERT INTO {{schema}}.t VALUES ('Größe', 18446744073709551615, 7, 'blue', 'a,c', 'Ærø €', 'naïve', '𝄞✓', x'FF00', x'00FE', '{"a": 1}');
            UPDATE {{schema}}.t SET e = 'red', st = '' WHERE k1 = 7;
            SET GLOBAL binlog_row_metadata = FULL;
            """);

        // The binlog itself has no names: offline, without a source, the columns are @1, @2, …
        var offline = await ReplicatorCli.RunAsync(TimeSpan.FromMinutes(1), ["tail", "--tables", $"{schema}.t", .. (await source.Server.BinlogFilesAsync()).SelectMany(f => new[] { "--file", Path.Combine(source.Server.DataDirectory, f) })]);
        Assert.True(offline.ExitCode == 0, offline.StandardError);
        var unnamed = TypeMatrixTests.Lines(offline.StandardOutput);
        Assert.Equal(2, unnamed.Count);
        Assert.Equal("@1", unnamed[0]["after"]!.AsObject().First().Key);

        var result = await ReplicatorCli.RunAsync(TimeSpan.FromMinutes(1), "tail", "--source", source.Cdc, "--tables", $"{schema}.t", "--from-start", "--until-now", "--server-id", ReplicaServerIds.Next());
        Assert.True(result.ExitCode == 0, result.StandardError);
        var changes = TypeMatrixTests.Lines(result.StandardOutput);
        Assert.Equal(2, changes.Count);
        const string Row = """{"k2":"Größe","u":18446744073709551615,"k1":7,"e":"blue","st":"a,c","l":"Ærø €","m3":"naïve","m4":"𝄞✓","vb":"/wA=","bl":"AP4=","j":{"a":1}}""";
        TypeMatrixTests.AssertRow(changes[0]["after"], Row);
        Assert.Equal(["k1", "k2"], changes[0]["pk"]!.AsObject().Select(p => p.Key));
        TypeMatrixTests.AssertRow(changes[0]["pk"], """{"k1":7,"k2":"Größe"}""");
        TypeMatrixTests.AssertRow(changes[1]["before"], Row);
        TypeMatrixTests.AssertRow(changes[1]["after"], Row.Replace("\"blue\"", "\"red\"").Replace("\"a,c\"", "\"\""));
    }

    [Fact]
    public async Task Ddl_between_row_events_refreshes_column_names_from_information_schema()
    {
        const string S = "cap_ddl";
        await source.Server.ExecuteAsync($"""
            SET GLOBAL binlog_row_metadata = MINIMAL;
            CREATE DATABASE {S};
            CREATE TABLE {S}.t (id INT PRIMARY KEY, a VARCHAR(10));
            """);
        try
        {
            await using var tail = TailProcess.Start("--source", source.Cdc, "--tables", $"{S}.*", "--from-start", "--server-id", ReplicaServerIds.Next());

            // Each step waits for tail to print the previous change, so information_schema is read
            // while it still describes the table as the rows were written.
            await source.Server.ExecuteAsync($"INSERT INTO {S}.t VALUES (1, 'one')");
            var lines = await tail.WaitForLinesAsync(1);
            TypeMatrixTests.AssertRow(lines[0]["after"], """{"id":1,"a":"one"}""");

            await source.Server.ExecuteAsync($"ALTER TABLE {S}.t ADD COLUMN b INT AFTER id; INSERT INTO {S}.t VALUES (2, 20, 'two')");
            lines = await tail.WaitForLinesAsync(2);
            TypeMatrixTests.AssertRow(lines[1]["after"], """{"id":2,"b":20,"a":"two"}""");

            await source.Server.ExecuteAsync($"ALTER TABLE {S}.t DROP COLUMN a; INSERT INTO {S}.t VALUES (3, 30)");
            lines = await tail.WaitForLinesAsync(3);
            TypeMatrixTests.AssertRow(lines[2]["after"], """{"id":3,"b":30}""");

            await source.Server.ExecuteAsync($"RENAME TABLE {S}.t TO {S}.t2; INSERT INTO {S}.t2 VALUES (4, 40)");
            lines = await tail.WaitForLinesAsync(4);
            Assert.Equal("t2", lines[3]["table"]!.GetValue<string>());
            TypeMatrixTests.AssertRow(lines[3]["after"], """{"id":4,"b":40}""");

            await source.Server.ExecuteAsync($"ALTER TABLE {S}.t2 CHANGE b c BIGINT; INSERT INTO {S}.t2 VALUES (5, 50)");
            lines = await tail.WaitForLinesAsync(5);
            TypeMatrixTests.AssertRow(lines[4]["after"], """{"id":5,"c":50}""");

            await source.Server.ExecuteAsync($"TRUNCATE TABLE {S}.t2; ALTER TABLE {S}.t2 ADD COLUMN z VARCHAR(5) FIRST; INSERT INTO {S}.t2 VALUES ('zz', 6, 60)");
            lines = await tail.WaitForLinesAsync(6);
            TypeMatrixTests.AssertRow(lines[5]["after"], """{"z":"zz","id":6,"c":60}""");
            TypeMatrixTests.AssertRow(lines[5]["pk"], """{"id":6}""");
            Assert.Equal(6, lines.Count);
            Assert.False(tail.HasExited, tail.StandardError);
        }
        finally
        {
            await source.Server.ExecuteAsync("SET GLOBAL binlog_row_metadata = FULL");
        }
    }

    [Fact]
    public async Task Rows_written_before_a_ddl_that_information_schema_cannot_describe_fail_naming_the_table()
    {
        const string S = "cap_ddl_gone";
        await source.Server.ExecuteAsync($"""
            SET GLOBAL binlog_row_metadata = MINIMAL;
            CREATE DATABASE {S};
            CREATE TABLE {S}.t (id INT PRIMARY KEY, a VARCHAR(10));
            INSERT INTO {S}.t VALUES (1, 'one');
            ALTER TABLE {S}.t ADD COLUMN b INT;
            SET GLOBAL binlog_row_metadata = FULL;
            """);
        var result = await ReplicatorCli.RunAsync(TimeSpan.FromMinutes(1), "tail", "--source", source.Cdc, "--tables", $"{S}.t", "--from-start", "--until-now", "--server-id", ReplicaServerIds.Next());

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("", result.StandardOutput);
        var line = Assert.Single(result.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains($"Rows of {S}.t at binlog.", line);
        Assert.Contains("information_schema describes cap_ddl_gone.t with 3 columns but the binlog's TABLE_MAP has 2", line);
        Assert.Contains("binlog_row_metadata=FULL", line);
    }

    [Fact]
    public async Task A_replay_across_a_column_swap_fails_naming_the_table_instead_of_mislabelling_the_rows()
    {
        const string S = "cap_ddl_swap";
        await source.Server.ExecuteAsync($"""
            SET GLOBAL binlog_row_metadata = MINIMAL;
            CREATE DATABASE {S};
            CREATE TABLE {S}.t (id INT PRIMARY KEY, a INT, b INT);
            INSERT INTO {S}.t VALUES (1, 10, 20);
            ALTER TABLE {S}.t RENAME COLUMN a TO tmp;
            ALTER TABLE {S}.t RENAME COLUMN b TO a;
            ALTER TABLE {S}.t RENAME COLUMN tmp TO b;
            SET GLOBAL binlog_row_metadata = FULL;
            """);
        var result = await ReplicatorCli.RunAsync(TimeSpan.FromMinutes(1), "tail", "--source", source.Cdc, "--tables", $"{S}.t", "--from-start", "--until-now", "--server-id", ReplicaServerIds.Next());

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("", result.StandardOutput);
        Assert.Contains($"Rows of {S}.t cannot be labelled", result.StandardError);
        Assert.Contains($"ALTER TABLE {S}.t RENAME COLUMN a TO tmp at binlog.", result.StandardError);
        Assert.Contains("binlog_row_metadata=FULL", result.StandardError);
    }
}
