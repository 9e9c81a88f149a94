using System.Text;
using Replicator.Binlog.Network;

namespace Replicator.Binlog.Tests.Network;

/// <summary>
/// caching_sha2_password, mysql_native_password and mysql_clear_password against the in-test MySQL 8
/// server, which checks answers the way the server does (no MySQL 8 server runs here).
/// </summary>
public sealed class CachingSha2AuthTests : IClassFixture<NetworkCertificatesFixture>
{
    private const string User = "cdc";
    private const string Password = "sha2-dev-password-\u00e9";

    private readonly NetworkTestCertificates _certificates;
    private readonly string _directory;

    public CachingSha2AuthTests(NetworkCertificatesFixture fixture)
    {
        _certificates = fixture.Certificates;
        _directory = fixture.Certificates.Directory;
    }

    [Fact]
    public async Task The_fast_path_logs_in_with_the_scramble_when_the_server_cache_knows_the_account()
    {
        await using var server = Server();
        server.Cache(User);

        await using var connection = await BinlogConnection.OpenAsync(Options(server));

        Assert.Equal("caching_sha2_password", connection.AuthenticationPlugin);
        Assert.Equal(["fast"], server.Logins);
        Assert.Equal("8.4.3", connection.Server.Version);
        Assert.False(connection.Server.IsMariaDb);
        Assert.Equal("1", (await connection.QueryAsync("SELECT 1")).Rows[0][0]);
    }

    [Fact]
    public async Task Full_authentication_over_verified_TLS_sends_the_password_inside_TLS_only()
    {
        await using var server = Server(tls: true);

        await using var connection = await BinlogConnection.OpenAsync(Options(server) with { SslMode = BinlogSslMode.VerifyCA, SslCa = _certificates.CaFile });

        Assert.True(connection.IsSecure);
        Assert.Equal(["full-tls"], server.Logins);
        Assert.True(server.IsCached(User));
        AssertPasswordNeverInClear(server);
    }

    [Theory]
    [InlineData(BinlogSslMode.Required)]
    [InlineData(BinlogSslMode.Preferred)]
    public async Task Full_authentication_over_TLS_whose_certificate_is_not_checked_never_sends_the_password_as_it_is(BinlogSslMode mode)
    {
        // Anyone between this client and the server can present a certificate of their own: the password would be theirs.
        await using var server = Server(tls: true);

        var error = await Assert.ThrowsAsync<BinlogAuthenticationException>(async () => await BinlogConnection.OpenAsync(Options(server) with { SslMode = mode }));

        Assert.Contains("caching_sha2_password", error.Message, StringComparison.Ordinal);
        Assert.Contains("SslMode=VerifyCA or VerifyFull", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("full-tls", server.Logins);
        Assert.DoesNotContain(Password, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Full_authentication_without_TLS_encrypts_the_password_with_the_configured_public_key()
    {
        await using var server = Server();
        var keyFile = Path.Combine(_directory, "server-public-key.pem");
        await File.WriteAllTextAsync(keyFile, server.PublicKeyPem);

        await using var connection = await BinlogConnection.OpenAsync(Options(server) with { ServerRsaPublicKeyFile = keyFile });

        Assert.Equal(["full-rsa"], server.Logins);
        AssertPasswordNeverInClear(server);
    }

    [Fact]
    public async Task Full_authentication_without_TLS_may_fetch_the_public_key_when_allowed()
    {
        await using var server = Server();

        await using var connection = await BinlogConnection.OpenAsync(Options(server) with { AllowPublicKeyRetrieval = true });

        Assert.Equal(["full-rsa-retrieved"], server.Logins);
        AssertPasswordNeverInClear(server);
    }

    [Fact]
    public async Task Full_authentication_without_TLS_or_a_key_is_refused_with_the_three_ways_out()
    {
        await using var server = Server();

        var error = await Assert.ThrowsAsync<BinlogAuthenticationException>(async () => await BinlogConnection.OpenAsync(Options(server)));

        Assert.Contains("SslMode", error.Message, StringComparison.Ordinal);
        Assert.Contains("ServerRsaPublicKeyFile", error.Message, StringComparison.Ordinal);
        Assert.Contains("AllowPublicKeyRetrieval", error.Message, StringComparison.Ordinal);
        Assert.Empty(server.Logins);
        AssertPasswordNeverInClear(server);
    }

    [Fact]
    public async Task After_a_full_authentication_the_next_login_takes_the_fast_path()
    {
        await using var server = Server();
        var options = Options(server) with { AllowPublicKeyRetrieval = true };

        await (await BinlogConnection.OpenAsync(options)).DisposeAsync();
        await (await BinlogConnection.OpenAsync(options)).DisposeAsync();

        Assert.Equal(["full-rsa-retrieved", "fast"], server.Logins);
    }

    [Fact]
    public async Task A_wrong_password_on_the_fast_path_is_an_authentication_error()
    {
        await using var server = Server();
        server.Cache(User);

        var error = await Assert.ThrowsAsync<BinlogAuthenticationException>(async () =>
            await BinlogConnection.OpenAsync(Options(server) with { Password = "CANARY-wrong-fast" }));

        Assert.Contains("Access denied for user 'cdc'", error.Message, StringComparison.Ordinal);
        Assert.Contains("check the source user name and password", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("CANARY", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_wrong_password_on_the_RSA_path_is_an_authentication_error()
    {
        await using var server = Server();

        var error = await Assert.ThrowsAsync<BinlogAuthenticationException>(async () =>
            await BinlogConnection.OpenAsync(Options(server) with { Password = "CANARY-wrong-rsa", AllowPublicKeyRetrieval = true }));

        Assert.Contains("Access denied", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("CANARY", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_server_defaulting_to_native_passwords_switches_a_sha2_account_to_caching_sha2_password()
    {
        await using var server = Server(defaultPlugin: "mysql_native_password");
        server.Cache(User);

        await using var connection = await BinlogConnection.OpenAsync(Options(server));

        Assert.Equal("caching_sha2_password", connection.AuthenticationPlugin);
        Assert.Equal(["fast"], server.Logins);
    }

    [Fact]
    public async Task A_native_password_account_is_switched_to_mysql_native_password_and_checked_as_the_server_does()
    {
        await using var server = Server(plugin: "mysql_native_password");

        await using var connection = await BinlogConnection.OpenAsync(Options(server));

        Assert.Equal("mysql_native_password", connection.AuthenticationPlugin);
        Assert.Equal(["native"], server.Logins);
    }

    [Fact]
    public async Task An_account_without_password_logs_in_with_an_empty_answer()
    {
        await using var server = Server(password: "");

        await using var connection = await BinlogConnection.OpenAsync(Options(server) with { Password = "" });

        Assert.Equal(["empty"], server.Logins);
    }

    [Fact]
    public async Task mysql_clear_password_is_refused_without_TLS_and_the_password_is_not_sent()
    {
        await using var server = Server(plugin: "mysql_clear_password");

        var error = await Assert.ThrowsAsync<BinlogAuthenticationException>(async () => await BinlogConnection.OpenAsync(Options(server)));

        Assert.Contains("mysql_clear_password", error.Message, StringComparison.Ordinal);
        Assert.Contains("only over TLS", error.Message, StringComparison.Ordinal);
        AssertPasswordNeverInClear(server);
    }

    [Theory]
    [InlineData(BinlogSslMode.Required)]
    [InlineData(BinlogSslMode.Preferred)]
    public async Task mysql_clear_password_is_refused_over_TLS_whose_certificate_is_not_checked(BinlogSslMode mode)
    {
        await using var server = Server(plugin: "mysql_clear_password", tls: true);

        var error = await Assert.ThrowsAsync<BinlogAuthenticationException>(async () => await BinlogConnection.OpenAsync(Options(server) with { SslMode = mode }));

        Assert.Contains("mysql_clear_password", error.Message, StringComparison.Ordinal);
        Assert.Contains("SslMode=VerifyCA or VerifyFull", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("clear", server.Logins);
    }

    [Fact]
    public async Task mysql_clear_password_is_used_over_TLS()
    {
        await using var server = Server(plugin: "mysql_clear_password", tls: true);

        await using var connection = await BinlogConnection.OpenAsync(Options(server) with { SslMode = BinlogSslMode.VerifyFull, Host = "localhost", SslCa = _certificates.CaFile });

        Assert.Equal("mysql_clear_password", connection.AuthenticationPlugin);
        Assert.Equal(["clear"], server.Logins);
        AssertPasswordNeverInClear(server);
    }

    [Fact]
    public async Task An_unknown_authentication_plugin_is_named_in_the_error()
    {
        await using var server = Server(plugin: "authentication_kerberos_client");

        var error = await Assert.ThrowsAsync<BinlogAuthenticationException>(async () => await BinlogConnection.OpenAsync(Options(server)));

        Assert.Contains("'authentication_kerberos_client'", error.Message, StringComparison.Ordinal);
        Assert.Contains("caching_sha2_password", error.Message, StringComparison.Ordinal);
    }

    private NetworkFakeMySqlServer Server(string plugin = "caching_sha2_password", string password = Password, bool tls = false, string defaultPlugin = "caching_sha2_password")
    {
        var server = new NetworkFakeMySqlServer { DefaultPlugin = defaultPlugin, Certificate = tls ? _certificates.Server : null };
        server.Accounts.Add((User, password, plugin));
        return server;
    }

    private static BinlogClientOptions Options(NetworkFakeMySqlServer server) => new()
    {
        Host = "127.0.0.1",
        Port = server.Port,
        User = User,
        Password = Password,
        ServerId = 2401,
        SslMode = BinlogSslMode.None,
        ConnectTimeout = TimeSpan.FromSeconds(10),
    };

    private static void AssertPasswordNeverInClear(NetworkFakeMySqlServer server)
    {
        var sent = server.PlainBytes.SelectMany(b => b).ToArray();
        Assert.True(sent.AsSpan().IndexOf(Encoding.UTF8.GetBytes(Password)) < 0, "the password travelled without TLS");
    }
}
