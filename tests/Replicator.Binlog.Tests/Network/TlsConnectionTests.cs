using System.Security.Authentication;
using Replicator.Binlog.Events;
using Replicator.Binlog.Network;
using Replicator.Binlog.Positions;

namespace Replicator.Binlog.Tests.Network;

/// <summary>TLS against a throwaway MariaDB whose certificate a private CA signed for "localhost" only.</summary>
[Collection(NetworkThrowawayCollection.Name)]
public sealed class TlsConnectionTests
{
    private readonly NetworkThrowawayServerFixture _fixture;

    public TlsConnectionTests(NetworkThrowawayServerFixture fixture) => _fixture = fixture;

    private NetworkThrowawayMariaDb Server => _fixture.Server;

    private NetworkTestCertificates Certificates => Server.Certificates!;

    [Fact]
    public async Task SslMode_Required_encrypts_without_checking_the_certificate()
    {
        await using var connection = await BinlogConnection.OpenAsync(Server.Cdc(2101) with { SslMode = BinlogSslMode.Required });

        Assert.True(connection.IsSecure);
        Assert.True(connection.TlsProtocol is SslProtocols.Tls12 or SslProtocols.Tls13);
        var cipher = await connection.QueryAsync("SHOW SESSION STATUS LIKE 'Ssl_cipher'");
        Assert.False(string.IsNullOrEmpty(cipher.Rows[0][1]));
    }

    [Fact]
    public async Task SslMode_Preferred_uses_TLS_when_the_server_offers_it()
    {
        await using var connection = await BinlogConnection.OpenAsync(Server.Cdc(2102) with { SslMode = BinlogSslMode.Preferred });

        Assert.True(connection.IsSecure);
    }

    [Fact]
    public async Task SslMode_VerifyCA_accepts_a_certificate_from_SslCa_even_for_a_name_it_does_not_list()
    {
        var options = Server.Cdc(2103) with { SslMode = BinlogSslMode.VerifyCA, SslCa = Certificates.CaFile };

        await using var connection = await BinlogConnection.OpenAsync(options);

        Assert.True(connection.IsSecure);
    }

    [Fact]
    public async Task SslMode_VerifyCA_refuses_a_certificate_from_another_CA()
    {
        var options = Server.Cdc(2104) with { SslMode = BinlogSslMode.VerifyCA, SslCa = Certificates.OtherCaFile };

        var error = await Assert.ThrowsAsync<BinlogConfigurationException>(async () => await BinlogConnection.OpenAsync(options));

        Assert.Contains("not signed by the CA in SslCa", error.Message, StringComparison.Ordinal);
        Assert.Contains(options.Endpoint, error.Message, StringComparison.Ordinal);
        Assert.False(error.IsTransient);
    }

    [Fact]
    public async Task SslMode_VerifyCA_without_SslCa_refuses_a_private_CA_the_system_does_not_trust()
    {
        var options = Server.Cdc(2105) with { SslMode = BinlogSslMode.VerifyCA };

        var error = await Assert.ThrowsAsync<BinlogConfigurationException>(async () => await BinlogConnection.OpenAsync(options));

        Assert.Contains("system's trusted CAs", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SslMode_VerifyFull_accepts_the_host_name_the_certificate_lists()
    {
        var options = Server.Cdc(2106) with { Host = "localhost", SslMode = BinlogSslMode.VerifyFull, SslCa = Certificates.CaFile };

        await using var connection = await BinlogConnection.OpenAsync(options);

        Assert.True(connection.IsSecure);
        Assert.Equal("1", (await connection.QueryAsync("SELECT 1")).Rows[0][0]);
    }

    [Fact]
    public async Task SslMode_VerifyFull_refuses_an_address_the_certificate_does_not_list()
    {
        var options = Server.Cdc(2107) with { Host = "127.0.0.1", SslMode = BinlogSslMode.VerifyFull, SslCa = Certificates.CaFile };

        var error = await Assert.ThrowsAsync<BinlogConfigurationException>(async () => await BinlogConnection.OpenAsync(options));

        Assert.Contains("does not name '127.0.0.1'", error.Message, StringComparison.Ordinal);
        Assert.Contains("SslMode=VerifyFull", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_SslCa_file_is_a_configuration_error_naming_the_file()
    {
        var missing = Path.Combine(Certificates.Directory, "missing-ca.pem");
        var options = Server.Cdc(2108) with { SslMode = BinlogSslMode.VerifyCA, SslCa = missing };

        var error = await Assert.ThrowsAsync<BinlogConfigurationException>(async () => await BinlogConnection.OpenAsync(options));

        Assert.Contains(missing, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_binlog_dump_streams_over_TLS()
    {
        var options = Server.Cdc(2109) with
        {
            Host = "localhost",
            SslMode = BinlogSslMode.VerifyFull,
            SslCa = Certificates.CaFile,
            Start = StartPosition.Oldest,
            Blocking = false,
        };
        await using var connection = await BinlogConnection.OpenAsync(options);
        var stream = await connection.StartDumpAsync(CancellationToken.None);

        var events = await NetworkRawEvents.ReadToEndAsync(stream);

        Assert.True(connection.IsSecure);
        Assert.Equal([BinlogEventType.Rotate, BinlogEventType.FormatDescription], events.Take(2).Select(e => e.Type));
        Assert.All(events.Skip(1), e => Assert.True(NetworkRawEvents.HasValidChecksum(e)));
    }
}
