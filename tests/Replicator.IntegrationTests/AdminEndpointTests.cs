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
}
