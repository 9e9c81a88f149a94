using Replicator.IntegrationTests.Infrastructure;

namespace Replicator.IntegrationTests;

/// <summary>
/// binlog_row_image=MINIMAL and NOBLOB leave columns out of row images: tail must leave them out of
/// the JSON (absent), which is not the same as null.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class PartialRowImageTests(ThrowawaySourceFixture source) : IClassFixture<ThrowawaySourceFixture>
{
    private async Task<List<System.Text.Json.Nodes.JsonObject>> TailAsync(string schema)
    {
        var result = await ReplicatorCli.RunAsync(TimeSpan.FromMinutes(1), "tail", "--source", source.Cdc, "--tables", $"{schema}.*", "--from-start", "--until-now", "--server-id", ReplicaServerIds.Next());
        Assert.True(result.ExitCode == 0, result.StandardError);
        return TypeMatrixTests.Lines(result.StandardOutput);
    }

    [Fact]
    public async Task Minimal_row_images_leave_unlogged_columns_out_of_the_json_rather_than_null()
    {
        await source.Server.ExecuteAsync("""
            SET SESSION binlog_row_image = MINIMAL;
            CREATE DATABASE cap_minimal;
            CREATE TABLE cap_minimal.t (id INT PRIMARY KEY, a VARCHAR(10), b TEXT, c INT DEFAULT 7, d INT);
            INSERT INTO cap_minimal.t (id, a) VALUES (1, 'x');
            UPDATE cap_minimal.t SET a = 'y', d = NULL WHERE id = 1;
            UPDATE cap_minimal.t SET id = 2 WHERE id = 1;
            DELETE FROM cap_minimal.t WHERE id = 2;
            """);
        var changes = await TailAsync("cap_minimal");

        Assert.Equal(["write", "update", "delete", "write", "delete"], changes.Select(c => c["action"]!.GetValue<string>()));
        // The insert logs the columns the statement gave (and none it left to defaults).
        TypeMatrixTests.AssertRow(changes[0]["after"], """{"id":1,"a":"x"}""");
        // The update: the key before, only the changed columns after; d set to NULL is present as null.
        TypeMatrixTests.AssertRow(changes[1]["before"], """{"id":1}""");
        TypeMatrixTests.AssertRow(changes[1]["after"], """{"a":"y","d":null}""");
        TypeMatrixTests.AssertRow(changes[1]["pk"], """{"id":1}""");
        // A pk-changing update is a delete of the old pk and a write of the new one.
        TypeMatrixTests.AssertRow(changes[2]["pk"], """{"id":1}""");
        TypeMatrixTests.AssertRow(changes[3]["pk"], """{"id":2}""");
        TypeMatrixTests.AssertRow(changes[3]["after"], """{"id":2}""");
        TypeMatrixTests.AssertRow(changes[4]["before"], """{"id":2}""");
    }

    [Fact]
    public async Task Noblob_row_images_leave_unchanged_blob_and_text_columns_out_of_the_json()
    {
        await source.Server.ExecuteAsync("""
            SET SESSION binlog_row_image = NOBLOB;
            CREATE DATABASE cap_noblob;
            CREATE TABLE cap_noblob.t (id INT PRIMARY KEY, a VARCHAR(10), b TEXT, bl BLOB, c INT);
            INSERT INTO cap_noblob.t VALUES (1, 'x', 'text ✓', x'00FF', 5);
            UPDATE cap_noblob.t SET a = 'y' WHERE id = 1;
            UPDATE cap_noblob.t SET b = NULL WHERE id = 1;
            DELETE FROM cap_noblob.t WHERE id = 1;
            """);
        var changes = await TailAsync("cap_noblob");

        Assert.Equal(["write", "update", "update", "delete"], changes.Select(c => c["action"]!.GetValue<string>()));
        TypeMatrixTests.AssertRow(changes[0]["after"], """{"id":1,"a":"x","b":"text ✓","bl":"AP8=","c":5}""");
        TypeMatrixTests.AssertRow(changes[1]["before"], """{"id":1,"a":"x","c":5}""");
        TypeMatrixTests.AssertRow(changes[1]["after"], """{"id":1,"a":"y","c":5}""");
        TypeMatrixTests.AssertRow(changes[2]["after"], """{"id":1,"a":"y","b":null,"c":5}""");
        TypeMatrixTests.AssertRow(changes[3]["before"], """{"id":1,"a":"y","c":5}""");
    }
}
