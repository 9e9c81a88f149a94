using System.Text.Json;
using Replicator.IntegrationTests.Infrastructure;

namespace Replicator.IntegrationTests;

/// <summary>
/// <c>replicator run</c> as a separate process on the Generic Host: <c>--log-format json</c> writes
/// one JSON object per line of standard output, Akka's events included; SIGTERM stops the node
/// gracefully and the process exits 0.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class RunCommandTests
{
    [Fact]
    public async Task Run_with_log_format_json_writes_only_json_lines_and_exits_0_on_sigterm()
    {
        var directory = Directory.CreateTempSubdirectory("replicator-run-").FullName;
        try
        {
            var config = Path.Combine(directory, "node.conf");
            await File.WriteAllTextAsync(config, $$"""
                include {{JsonSerializer.Serialize(Path.Combine(RepoPaths.Root, "hocon", "replicator.conf"))}}
                replicator {
                  sources.shop {
                    connection-string = ${SHOP_CDC}
                    server-id = {{ReplicaServerIds.Next()}}
                  }
                  definitions.cache { topics = ["*"], job { type = log } }
                }
                """);
            var log = Path.Combine(directory, "node.log");
            var admin = $"127.0.0.1:{Tools.FreePort()}";
            var node = Tools.Spawn("dotnet", [RepoPaths.ReplicatorDll, "run", "--config", config, "--admin", admin, "--log-format", "json"], log,
                new Dictionary<string, string> { ["SHOP_CDC"] = Servers.MariaDbCdc });
            try
            {
                var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
                while (!(File.Exists(log) && File.ReadAllText(log) is var text && text.Contains("Admin endpoint on", StringComparison.Ordinal) && text.Contains("Capture shop: reading", StringComparison.Ordinal)))
                {
                    Assert.False(node.HasExited, "the node exited while starting:\n" + Tools.Tail(log, 20));
                    Assert.True(DateTime.UtcNow < deadline, "the node did not start within 60 s:\n" + Tools.Tail(log, 20));
                    await Task.Delay(100);
                }

                Tools.Signal(node.Id, "TERM");
                await node.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(100));
                Assert.Equal(0, node.ExitCode);
            }
            finally
            {
                if (!node.HasExited)
                {
                    node.Kill();
                }
            }

            var lines = (await File.ReadAllLinesAsync(log)).Where(l => l.Length > 0).ToList();
            var entries = lines.Select(line =>
            {
                try
                {
                    return JsonDocument.Parse(line).RootElement;
                }
                catch (JsonException e)
                {
                    throw new Xunit.Sdk.XunitException($"not a JSON line: {line} ({e.Message})");
                }
            }).ToList();
            Assert.Contains(entries, e => e.GetProperty("Category").GetString() == "Replicator.Engine.ReplicatorNode"
                && e.GetProperty("Message").GetString()!.StartsWith("Replicator node up at akka.tcp://", StringComparison.Ordinal)
                && e.GetProperty("State").GetProperty("LogSource").GetString()!.StartsWith("ReplicatorNode", StringComparison.Ordinal));
            Assert.Contains(entries, e => e.GetProperty("Message").GetString()!.StartsWith("Capture shop: reading", StringComparison.Ordinal));
            Assert.Contains(entries, e => e.GetProperty("Category").GetString() == "Replicator.Admin");
            Assert.All(entries, e => Assert.True(e.TryGetProperty("LogLevel", out _)));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
