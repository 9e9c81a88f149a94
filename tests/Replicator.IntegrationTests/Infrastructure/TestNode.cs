using Akka.Configuration;
using Replicator.Engine;
using Replicator.Engine.Capture;
using Replicator.Engine.Configuration;

namespace Replicator.IntegrationTests.Infrastructure;

/// <summary>Starts in-process Replicator nodes against the local servers.</summary>
public static class TestNode
{
    public static Config Config(string dataDirectory, string schema, string keyPrefix, int serverId, string extra = "")
    {
        var hocon = $$"""
            akka.loglevel = WARNING
            akka.cluster.roles = [capture, worker]
            replicator {
              data-dir = {{Quote(dataDirectory)}}
              capture {
                offset-commit-interval = 200ms
                redelivery-timeout = 10s
              }
              sources {
                it {
                  connection-string = {{Quote(Servers.MariaDbCdc)}}
                  server-id = {{serverId}}
                  tables = ["{{schema}}.*"]
                }
              }
              definitions {
                cache {
                  topics = ["*"]
                  buckets = 8
                  job {
                    type = redis-cache
                    redis = {{Quote(Servers.Redis)}}
                    key-prefix = {{Quote(keyPrefix)}}
                  }
                }
              }
            }
            {{extra}}
            """;
        return HoconLoader.LoadString(hocon);
    }

    public static async Task<ReplicatorNode> StartAsync(Config config)
    {
        var node = await ReplicatorNode.StartAsync(config);
        await WaitForCaptureAsync(node, "it");
        return node;
    }

    /// <summary>Waits until the capture of <paramref name="source"/> reads the binlog at a known position.</summary>
    public static async Task<CaptureStatus> WaitForCaptureAsync(ReplicatorNode node, string source, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        CaptureStatus? status = null;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                status = await node.GetCaptureStatusAsync(source, TimeSpan.FromSeconds(2));
                if (status.CurrentOffset is not null && status.State == CaptureState.Reading)
                {
                    return status;
                }
            }
            catch (Exception e) when (e is Akka.Actor.AskTimeoutException or TimeoutException)
            {
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"The capture of {source} did not start reading: {status}");
    }

    private static string Quote(string value) => System.Text.Json.JsonSerializer.Serialize(value);
}
