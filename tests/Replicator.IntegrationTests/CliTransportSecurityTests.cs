using Replicator.IntegrationTests.Infrastructure;

namespace Replicator.IntegrationTests;

/// <summary>
/// tail and check hold a source (and a sink) to what a node's settings demand: a host off this
/// machine only over TLS with a verified certificate, unless --insecure.
/// </summary>
public sealed class CliTransportSecurityTests
{
    // TEST-NET-1 (RFC 5737): never routed, so nothing is ever reached there.
    private const string Remote = "Server=192.0.2.10;Port=3306;User ID=cdc;Connection Timeout=2";

    [Theory]
    [InlineData("")]
    [InlineData(";SslMode=Preferred")]
    [InlineData(";SslMode=Required")]
    [InlineData(";SslMode=None")]
    public async Task Tail_refuses_a_remote_source_without_a_verified_certificate(string ssl)
    {
        var result = await ReplicatorCli.RunAsync(TimeSpan.FromMinutes(1), new Dictionary<string, string> { ["REPLICATOR_SOURCE_PASSWORD"] = "CANARY-tls-91" }, "tail", "--source", Remote + ssl, "--until-now");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("SslMode=VerifyCA or VerifyFull", result.StandardError);
        Assert.Contains("--insecure", result.StandardError);
        Assert.DoesNotContain("CANARY", result.StandardError);
    }

    [Fact]
    public async Task Check_refuses_a_remote_redis_without_tls()
    {
        var result = await ReplicatorCli.RunAsync(TimeSpan.FromMinutes(1), "check", "--source", "Server=127.0.0.1;Port=1;User ID=cdc", "--redis", "192.0.2.10:6379", "--tables", "x.*");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("ssl=true", result.StandardError);
    }

    [Fact]
    public async Task With_insecure_tail_goes_on_to_connect()
    {
        var result = await ReplicatorCli.RunAsync(TimeSpan.FromMinutes(1), "tail", "--source", Remote + ";SslMode=Required", "--until-now", "--insecure");

        Assert.Equal(1, result.ExitCode);
        Assert.DoesNotContain("VerifyCA", result.StandardError);
    }
}
