using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Akka.Cluster;
using Akka.Configuration;
using MySqlConnector;
using Replicator.Engine;
using Replicator.Engine.Jobs.RedisCache;
using Replicator.IntegrationTests.Infrastructure;

namespace Replicator.IntegrationTests;

/// <summary>
/// Remoting over TLS (replicator.remoting-tls): two nodes whose certificates the cluster's CA signed
/// form a cluster; a node with a certificate of another CA, or with none, cannot join it. The
/// certificates are made here, with System.Security.Cryptography.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class RemotingTlsTests : IAsyncLifetime
{
    private const string Password = "pfx-password-of-the-test";

    private readonly string _schema = Servers.UniqueSchema("it_tls");
    private readonly string _state = Servers.UniqueSchema("it_state");
    private readonly string _directory = Directory.CreateTempSubdirectory("replicator-tls-").FullName;
    private readonly List<ReplicatorNode> _nodes = [];

    public async Task InitializeAsync()
    {
        await Servers.ExecuteAsync($"CREATE DATABASE {_schema}; CREATE DATABASE {_state}; CREATE TABLE {_schema}.t (id INT PRIMARY KEY, v INT NOT NULL)");
    }

    public async Task DisposeAsync()
    {
        foreach (var node in _nodes.Where(n => !n.WhenTerminated.IsCompleted))
        {
            await node.System.Terminate();
        }

        await Servers.ExecuteAsync($"DROP DATABASE IF EXISTS {_schema}; DROP DATABASE IF EXISTS {_state}");
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task Nodes_with_certificates_of_the_cluster_CA_form_a_cluster_and_a_node_with_another_CAs_certificate_or_none_cannot_join()
    {
        using var ca = CreateCa("CN=Replicator test cluster CA");
        using var rogueCa = CreateCa("CN=Someone else's CA");
        var caFile = WritePem("ca.pem", ca);
        var first = await StartAsync(Tls(IssueNode(ca, "node1"), caFile), seed: null);
        var seed = Cluster.Get(first.System).SelfAddress.ToString();

        var second = await StartAsync(Tls(IssueNode(ca, "node2"), caFile), seed);
        await Eventually.UntilAsync(() => Task.FromResult(Cluster.Get(first.System).State.Members.Count(m => m.Status == MemberStatus.Up)), n => n == 2, TimeSpan.FromSeconds(30));
        Assert.Equal(2, Cluster.Get(first.System).State.Members.Count(m => m.Status == MemberStatus.Up));
        await TestNode.WaitForCaptureAsync(first, "it");
        await Servers.ExecuteAsync($"INSERT INTO {_schema}.t SELECT seq, seq FROM {_schema}.seq_1_to_40");
        using var redis = Servers.ConnectRedis();
        var checker = new RedisCacheSinkChecker(Servers.MariaDbCdc, redis, _schema + ":");
        var result = await Eventually.UntilAsync(() => checker.CheckAsync(_schema, "t"), r => r.Matches, TimeSpan.FromSeconds(60));
        Assert.True(result.Matches, result.ToString());
        Assert.True(second.Metrics.Definition("cache").Applied > 0, "the second node applied none of the changes: its buckets never got them over TLS");

        // Signed by another CA (trusted for itself): refused at the TLS handshake, in both directions.
        var rogue = Tls(IssueNode(rogueCa, "rogue"), WritePem("rogue-ca.pem", rogueCa));
        await CannotJoinAsync(rogue, seed);

        // No TLS at all.
        await CannotJoinAsync("", seed);

        Assert.Equal(2, Cluster.Get(first.System).State.Members.Count);
        Assert.False(first.WhenTerminated.IsCompleted);
    }

    [Fact]
    public async Task A_node_whose_own_certificate_the_configured_CA_did_not_sign_refuses_to_start()
    {
        using var ca = CreateCa("CN=Replicator test cluster CA");
        using var other = CreateCa("CN=Another CA");

        var error = await Assert.ThrowsAsync<ConfigurationException>(() => StartAsync(Tls(IssueNode(other, "node1"), WritePem("ca.pem", ca)), seed: null));

        Assert.Contains("replicator.remoting-tls.ca", error.Message);
        Assert.DoesNotContain(Password, error.Message);
    }

    /// <summary>The node never becomes a member: its start times out, or it stops because it was refused.</summary>
    private async Task CannotJoinAsync(string tls, string seed)
    {
        var error = await Record.ExceptionAsync(() => StartAsync(tls, seed, TimeSpan.FromSeconds(20)));
        Assert.True(error is TimeoutException or ConfigurationException, $"the node joined, or failed otherwise: {error}");
    }

    private async Task<ReplicatorNode> StartAsync(string tls, string? seed, TimeSpan? joinTimeout = null)
    {
        var data = Directory.CreateTempSubdirectory("replicator-tls-node-").FullName;
        var persistence = new MySqlConnectionStringBuilder(Servers.MariaDbAdmin) { Database = _state }.ConnectionString;
        var config = TestNode.Config(data, _schema, _schema + ":", 7241, InProcessOnlySerializer.Config + $$"""

            akka.cluster.seed-nodes = [{{(seed is null ? "" : $"\"{seed}\"")}}]
            replicator.persistence {
              provider = mysql
              connection-string = {{System.Text.Json.JsonSerializer.Serialize(persistence)}}
            }
            replicator.definitions.cache.buckets = 8
            {{tls}}
            """);
        var node = await ReplicatorNode.StartAsync(config, joinTimeout);
        _nodes.Add(node);
        return node;
    }

    private static string Tls(string certificateFile, string caFile) => $$"""
        replicator.remoting-tls {
          enabled = on
          certificate = {{System.Text.Json.JsonSerializer.Serialize(certificateFile)}}
          certificate-password = "{{Password}}"
          ca = {{System.Text.Json.JsonSerializer.Serialize(caFile)}}
        }
        """;

    private static X509Certificate2 CreateCa(string subject)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
    }

    /// <summary>A node certificate for 127.0.0.1 signed by <paramref name="ca"/>, written as a PKCS#12 file with its key.</summary>
    private string IssueNode(X509Certificate2 ca, string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyAgreement, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(System.Net.IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        var serial = RandomNumberGenerator.GetBytes(12);
        using var issued = request.Create(ca, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddHours(12), serial);
        using var withKey = issued.CopyWithPrivateKey(key);
        var path = Path.Combine(_directory, name + ".pfx");
        File.WriteAllBytes(path, withKey.Export(X509ContentType.Pkcs12, Password));
        return path;
    }

    private string WritePem(string name, X509Certificate2 certificate)
    {
        var path = Path.Combine(_directory, name);
        File.WriteAllText(path, certificate.ExportCertificatePem());
        return path;
    }
}
