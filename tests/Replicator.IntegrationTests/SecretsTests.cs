using System.Data.Common;
using Replicator.IntegrationTests.Infrastructure;

namespace Replicator.IntegrationTests;

/// <summary>
/// No password on a command line (every user of the machine reads it in <c>ps</c>) and none in a
/// config dump: tail and check take it from the environment or a file, and the node refuses
/// <c>akka.log-config-on-start</c>, which would print every connection string.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class SecretsTests
{
    private const string Canary = "CANARY-pw-4d1e";

    [Fact]
    public async Task Tail_refuses_a_password_on_its_command_line_and_says_where_to_put_it()
    {
        var result = await RunRawAsync(["tail", "--source", WithPassword(Servers.MariaDbCdc, Canary), "--until-now"]);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("REPLICATOR_SOURCE_PASSWORD", result.StandardError);
        Assert.Contains("--source-env", result.StandardError);
        Assert.DoesNotContain(Canary, result.StandardOutput + result.StandardError);
    }

    [Fact]
    public async Task Tail_takes_the_password_from_the_environment_or_a_file_or_the_whole_connection_string_from_a_variable()
    {
        var schema = Servers.UniqueSchema("it_secret");
        await Servers.ExecuteAsync($"CREATE DATABASE {schema}; CREATE TABLE {schema}.t (id INT PRIMARY KEY); INSERT INTO {schema}.t VALUES (1)");
        var builder = new DbConnectionStringBuilder { ConnectionString = Servers.MariaDbCdc };
        var password = (string)builder["Password"];
        builder.Remove("Password");
        var withoutPassword = builder.ConnectionString;
        var file = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(file, password + "\n");
            string[] tail = ["tail", "--tables", $"{schema}.t", "--from-start", "--until-now", "--server-id", ReplicaServerIds.Next()];

            var fromEnvironment = await RunRawAsync([.. tail, "--source", withoutPassword], new() { ["REPLICATOR_SOURCE_PASSWORD"] = password });
            var fromFile = await RunRawAsync([.. tail, "--source", withoutPassword, "--source-password-file", file]);
            var fromVariable = await RunRawAsync([.. tail, "--source-env", "SHOP_CDC"], new() { ["SHOP_CDC"] = Servers.MariaDbCdc });

            foreach (var result in new[] { fromEnvironment, fromFile, fromVariable })
            {
                Assert.True(result.ExitCode == 0, result.StandardError);
                Assert.Contains("\"pk\":{\"id\":1}", result.StandardOutput);
            }
        }
        finally
        {
            File.Delete(file);
            await Servers.ExecuteAsync($"DROP DATABASE {schema}");
        }
    }

    [Fact]
    public async Task Check_refuses_a_password_on_its_command_line_for_the_source_and_for_redis()
    {
        var source = await RunRawAsync(["check", "--source", WithPassword(Servers.MariaDbCdc, Canary), "--redis", Servers.Redis, "--tables", "x.*"]);
        var redis = await RunRawAsync(["check", "--source-env", "SHOP_CDC", "--redis", Servers.Redis + ",password=" + Canary, "--tables", "x.*"], new() { ["SHOP_CDC"] = Servers.MariaDbCdc });

        Assert.Equal(1, source.ExitCode);
        Assert.Contains("REPLICATOR_SOURCE_PASSWORD", source.StandardError);
        Assert.Equal(1, redis.ExitCode);
        Assert.Contains("REPLICATOR_REDIS_PASSWORD", redis.StandardError);
        Assert.DoesNotContain(Canary, source.StandardOutput + source.StandardError + redis.StandardOutput + redis.StandardError);
    }

    [Fact]
    public async Task A_node_refuses_log_config_on_start_and_the_canary_password_never_reaches_its_output()
    {
        var directory = Directory.CreateTempSubdirectory("replicator-secrets-").FullName;
        try
        {
            var config = Path.Combine(directory, "node.conf");
            await File.WriteAllTextAsync(config, $$"""
                include {{System.Text.Json.JsonSerializer.Serialize(Path.Combine(RepoPaths.Root, "hocon", "replicator.conf"))}}
                akka.log-config-on-start = on
                replicator {
                  sources.shop {
                    connection-string = ${SHOP_CDC}
                    server-id = 7231
                  }
                  definitions.cache { topics = ["*"], job { type = log } }
                }
                """);

            var result = await ReplicatorCli.RunAsync(TimeSpan.FromSeconds(60), new Dictionary<string, string> { ["SHOP_CDC"] = WithPassword(Servers.MariaDbCdc, Canary) }, "run", "--config", config);

            Assert.Equal(1, result.ExitCode);
            Assert.Contains("akka.log-config-on-start", result.StandardError);
            Assert.DoesNotContain(Canary, result.StandardOutput + result.StandardError);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static string WithPassword(string connectionString, string password)
    {
        var builder = new DbConnectionStringBuilder { ConnectionString = connectionString };
        builder["Password"] = password;
        return builder.ConnectionString;
    }

    /// <summary>Runs the CLI with exactly these arguments (no rewriting of --source), and these environment variables.</summary>
    private static async Task<ReplicatorCli.Result> RunRawAsync(string[] arguments, Dictionary<string, string>? environment = null)
    {
        var start = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(RepoPaths.ReplicatorDll);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment ?? [])
        {
            start.Environment[name] = value;
        }

        using var process = System.Diagnostics.Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"replicator {arguments[0]} did not exit within a minute. stderr: {await stderr}");
        }

        return new ReplicatorCli.Result(process.ExitCode, await stdout, await stderr);
    }
}
