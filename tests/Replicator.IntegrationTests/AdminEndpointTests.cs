using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using Replicator.Host.Admin;
using Replicator.IntegrationTests.Infrastructure;

namespace Replicator.IntegrationTests;

/// <summary>
/// The admin endpoint of a real node, as an operator and a stranger reach it over HTTP: a dead letter
/// is only purged with the token, from no foreign web page, and idle connections do not hold /status up.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class AdminEndpointTests
{
    [Fact]
    public async Task Purging_dead_letters_needs_the_token_and_idle_connections_do_not_block_status()
    {
        var schema = Servers.UniqueSchema("it_admin");
        var data = Directory.CreateTempSubdirectory("replicator-admin-").FullName;
        await Servers.ExecuteAsync($"CREATE DATABASE {schema}; CREATE TABLE {schema}.t (id INT PRIMARY KEY, v INT NOT NULL)");
        var config = TestNode.Config(data, schema, schema + ":", 7211, """
            replicator.definitions.cache {
              buckets = 1
              retry { initial = 100ms, max = 200ms, max-attempts = 2, jitter = 0 }
              job.type = "Replicator.IntegrationTests.PoisonedRedisJob, Replicator.IntegrationTests"
            }
            """);
        var node = await TestNode.StartAsync(config);
        const string token = "admin-token-of-the-test-0123456789";
        await using var admin = await AdminServer.StartAsync(node, new IPEndPoint(IPAddress.Loopback, 0), AdminToken.Of(token));
        var url = $"http://127.0.0.1:{admin.Endpoint.Port}";
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var idle = new List<TcpClient>();
        try
        {
            await Servers.ExecuteAsync($"INSERT INTO {schema}.t VALUES (12, 1), (13, 1)");
            var letters = await Eventually.UntilAsync(() => node.ListDeadLettersAsync("cache"), l => l.Entries.Count == 1, TimeSpan.FromSeconds(30));
            Assert.Single(letters.Entries);

            using (var anonymous = await http.PostAsync($"{url}/dead-letters/cache/purge", content: null))
            {
                Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
            }

            using (var wrong = new HttpRequestMessage(HttpMethod.Post, $"{url}/dead-letters/cache/purge"))
            {
                wrong.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "not-the-token");
                using var response = await http.SendAsync(wrong);
                Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            }

            // With the token, but from a web page of another origin (a browser adds Origin to every cross-origin POST).
            using (var foreign = new HttpRequestMessage(HttpMethod.Post, $"{url}/dead-letters/cache/purge"))
            {
                foreign.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
                foreign.Headers.Add("Origin", "http://evil.example");
                using var response = await http.SendAsync(foreign);
                Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
            }

            Assert.Single((await node.ListDeadLettersAsync("cache")).Entries);
            Assert.Contains("\"pk\":\"13\"", (await http.GetStringAsync($"{url}/dead-letters/cache")).Replace(" ", "", StringComparison.Ordinal));

            // Many idle connections (a scanner, a stuck proxy) do not keep /status from answering.
            for (var i = 0; i < 100; i++)
            {
                var client = new TcpClient();
                idle.Add(client);
                await client.ConnectAsync(IPAddress.Loopback, admin.Endpoint.Port);
            }

            var started = DateTime.UtcNow;
            using (var status = await http.GetAsync($"{url}/status"))
            {
                Assert.Equal(HttpStatusCode.OK, status.StatusCode);
            }

            Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(3), $"/status took {(DateTime.UtcNow - started).TotalSeconds:0.0} s behind {idle.Count} idle connections");
            idle.ForEach(c => c.Dispose());
            idle.Clear();

            // /status names the server the persisted offset is bound to.
            var serverId = await Servers.ScalarAsync<uint>("SELECT @@server_id");
            var bound = await Eventually.UntilAsync(
                async () => System.Text.Json.JsonDocument.Parse(await http.GetStringAsync($"{url}/status")).RootElement.GetProperty("sources")[0],
                source => source.TryGetProperty("offset_server", out _),
                TimeSpan.FromSeconds(10));
            Assert.True(bound.TryGetProperty("offset_server", out var offsetServer), bound.ToString());
            Assert.Equal(serverId, offsetServer.GetProperty("server_id").GetUInt32());
            Assert.Contains(":", offsetServer.GetProperty("endpoint").GetString());

            using (var purge = new HttpRequestMessage(HttpMethod.Post, $"{url}/dead-letters/cache/purge"))
            {
                purge.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
                using var response = await http.SendAsync(purge);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                Assert.Contains("\"purged\": 1", await response.Content.ReadAsStringAsync());
            }

            Assert.Empty((await node.ListDeadLettersAsync("cache")).Entries);
        }
        finally
        {
            idle.ForEach(c => c.Dispose());
            await node.StopAsync();
            await Servers.ExecuteAsync($"DROP DATABASE {schema}");
            Directory.Delete(data, recursive: true);
        }
    }

    [Fact]
    public async Task Dead_letters_are_listed_over_http_in_pages_with_the_total_and_the_next_offset()
    {
        var schema = Servers.UniqueSchema("it_pages");
        var data = Directory.CreateTempSubdirectory("replicator-pages-").FullName;
        await Servers.ExecuteAsync($"CREATE DATABASE {schema}; CREATE TABLE {schema}.t (id INT PRIMARY KEY, v INT NOT NULL)");
        var config = TestNode.Config(data, schema, schema + ":", 7212, """
            replicator.definitions.cache {
              buckets = 4
              retry { initial = 100ms, max = 200ms, max-attempts = 1, jitter = 0 }
              job.type = "Replicator.IntegrationTests.FailingPksRedisJob, Replicator.IntegrationTests"
            }
            """);
        lock (FailingPksRedisJob.Failing)
        {
            FailingPksRedisJob.Failing.UnionWith(Enumerable.Range(1, 120).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }

        var node = await TestNode.StartAsync(config);
        await using var admin = await AdminServer.StartAsync(node, new IPEndPoint(IPAddress.Loopback, 0), token: null);
        var url = $"http://127.0.0.1:{admin.Endpoint.Port}/dead-letters/cache";
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        try
        {
            await Servers.ExecuteAsync($"INSERT INTO {schema}.t SELECT seq, seq FROM {schema}.seq_1_to_120");
            var parked = await Eventually.UntilAsync(() => node.ListDeadLettersAsync("cache"), l => l.Total == 120, TimeSpan.FromSeconds(60));
            Assert.Equal(120, parked.Total);

            var pks = new List<string>();
            var offsets = new List<string>();
            string? next = "0";
            while (next is not null)
            {
                using var page = System.Text.Json.JsonDocument.Parse(await http.GetStringAsync($"{url}?offset={next}&limit=50"));
                var root = page.RootElement;
                Assert.Equal(120, root.GetProperty("total").GetInt32());
                Assert.Equal(50, root.GetProperty("limit").GetInt32());
                offsets.Add(root.GetProperty("offset").GetInt32() + ":" + root.GetProperty("entries").GetArrayLength());
                pks.AddRange(root.GetProperty("entries").EnumerateArray().Select(e => e.GetProperty("pk").GetString()!));
                var nextValue = root.GetProperty("next");
                next = nextValue.ValueKind == System.Text.Json.JsonValueKind.Null ? null : nextValue.GetInt32().ToString(System.Globalization.CultureInfo.InvariantCulture);
            }

            Assert.Equal(["0:50", "50:50", "100:20"], offsets);
            Assert.Equal(Enumerable.Range(1, 120).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).Order(), pks.Order());

            using var defaulted = System.Text.Json.JsonDocument.Parse(await http.GetStringAsync(url));
            Assert.Equal(100, defaulted.RootElement.GetProperty("entries").GetArrayLength());
            Assert.Equal(100, defaulted.RootElement.GetProperty("next").GetInt32());

            // The CLI walks the pages: every letter once, one JSON line each; or prints one page.
            var endpoint = $"127.0.0.1:{admin.Endpoint.Port}";
            var walked = await ReplicatorCli.RunAsync(TimeSpan.FromSeconds(60), "dead-letters", "--admin", endpoint, "--definition", "cache", "--all", "--limit", "50");
            Assert.True(walked.ExitCode == 0, walked.StandardError);
            var lines = walked.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(pks.Order(), lines.Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement.GetProperty("pk").GetString()!).Order());
            var last = await ReplicatorCli.RunAsync(TimeSpan.FromSeconds(60), "dead-letters", "--admin", endpoint, "--definition", "cache", "--offset", "100", "--limit", "50");
            Assert.True(last.ExitCode == 0, last.StandardError);
            using (var lastPage = System.Text.Json.JsonDocument.Parse(last.StandardOutput))
            {
                Assert.Equal(20, lastPage.RootElement.GetProperty("entries").GetArrayLength());
                Assert.Equal(System.Text.Json.JsonValueKind.Null, lastPage.RootElement.GetProperty("next").ValueKind);
            }

            var unknown = await ReplicatorCli.RunAsync(TimeSpan.FromSeconds(60), "dead-letters", "--admin", endpoint, "--definition", "nope");
            Assert.Equal(1, unknown.ExitCode);
            Assert.Contains("no definition named nope", unknown.StandardError);

            using var tooMany = await http.GetAsync($"{url}?limit=5000");
            Assert.Equal(HttpStatusCode.BadRequest, tooMany.StatusCode);
            Assert.Contains("from 1 to 1000", await tooMany.Content.ReadAsStringAsync());
        }
        finally
        {
            lock (FailingPksRedisJob.Failing)
            {
                FailingPksRedisJob.Failing.Clear();
            }

            await node.StopAsync();
            await Servers.ExecuteAsync($"DROP DATABASE {schema}");
            Directory.Delete(data, recursive: true);
        }
    }
}
