using Replicator.Binlog.Network;

namespace Replicator.Binlog.Tests.Network;

/// <summary>MySqlConnector-style connection strings and the checks options get before any connection.</summary>
public sealed class BinlogClientOptionsConnectionStringTests
{
    private const string Canary = "CANARY-secret-4f1b";

    [Fact]
    public void All_supported_keys_are_read()
    {
        var options = BinlogClientOptions.FromConnectionString(
            $"Server=db.example;Port=3307;User ID=cdc;Password={Canary};SslMode=VerifyFull;SslCa=/etc/ca.pem;Connection Timeout=7;AllowPublicKeyRetrieval=true;ServerRsaPublicKeyFile=/etc/key.pem");

        Assert.Equal("db.example", options.Host);
        Assert.Equal(3307, options.Port);
        Assert.Equal("cdc", options.User);
        Assert.Equal(Canary, options.Password);
        Assert.Equal(BinlogSslMode.VerifyFull, options.SslMode);
        Assert.Equal("/etc/ca.pem", options.SslCa);
        Assert.Equal(TimeSpan.FromSeconds(7), options.ConnectTimeout);
        Assert.True(options.AllowPublicKeyRetrieval);
        Assert.Equal("/etc/key.pem", options.ServerRsaPublicKeyFile);
    }

    [Theory]
    [InlineData("Host=h;Uid=u;Pwd=p", "h", "u", "p")]
    [InlineData("data source=h;username=u;password=p", "h", "u", "p")]
    [InlineData("SERVER = h ; USER = u ; PWD = p", "h", "u", "p")]
    [InlineData("server=h;userid=u;Password='p;w=d'", "h", "u", "p;w=d")]
    [InlineData("Server=h;User Id=u;Password=\"quoted \"\"pw\"\"\"", "h", "u", "quoted \"pw\"")]
    public void Key_synonyms_case_spaces_and_quoting_are_accepted(string connectionString, string host, string user, string password)
    {
        var options = BinlogClientOptions.FromConnectionString(connectionString);

        Assert.Equal((host, user, password), (options.Host, options.User, options.Password));
    }

    [Theory]
    [InlineData("None", BinlogSslMode.None)]
    [InlineData("disabled", BinlogSslMode.None)]
    [InlineData("preferred", BinlogSslMode.Preferred)]
    [InlineData("REQUIRED", BinlogSslMode.Required)]
    [InlineData("VerifyCA", BinlogSslMode.VerifyCA)]
    [InlineData("Verify Full", BinlogSslMode.VerifyFull)]
    public void SslMode_values_ignore_case_and_spaces(string value, BinlogSslMode expected)
    {
        Assert.Equal(expected, BinlogClientOptions.FromConnectionString($"Server=h;SslMode={value}").SslMode);
    }

    [Fact]
    public void Connect_timeout_is_in_seconds_and_0_means_none()
    {
        Assert.Equal(TimeSpan.FromSeconds(3), BinlogClientOptions.FromConnectionString("Connect Timeout=3").ConnectTimeout);
        Assert.Equal(Timeout.InfiniteTimeSpan, BinlogClientOptions.FromConnectionString("ConnectionTimeout=0").ConnectTimeout);
    }

    [Fact]
    public void An_unknown_key_is_refused_by_name_without_echoing_the_password()
    {
        var error = Assert.Throws<ArgumentException>(() =>
            BinlogClientOptions.FromConnectionString($"Server=h;Password={Canary};Databse=x"));

        Assert.Contains("'databse'", error.Message, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(Canary, error.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Port=http")]
    [InlineData("Port=70000")]
    [InlineData("SslMode=sometimes")]
    [InlineData("AllowPublicKeyRetrieval=maybe")]
    [InlineData("Connection Timeout=-1")]
    public void A_bad_value_is_refused_naming_the_key_only(string pair)
    {
        var error = Assert.Throws<ArgumentException>(() =>
            BinlogClientOptions.FromConnectionString($"Server=h;Password={Canary};{pair}"));

        Assert.Contains($"'{pair.Split('=')[0]}'", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Canary, error.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(pair.Split('=')[1], error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_malformed_connection_string_is_refused_without_quoting_it()
    {
        var error = Assert.Throws<ArgumentException>(() =>
            BinlogClientOptions.FromConnectionString($"Server=h;Password='{Canary}"));

        Assert.Contains("malformed", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Canary, error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void ToString_and_Endpoint_leave_the_password_out()
    {
        var options = BinlogClientOptions.FromConnectionString($"Server=db;Port=3306;User=cdc;Password={Canary}") with { ServerId = 7 };

        Assert.DoesNotContain(Canary, options.ToString(), StringComparison.Ordinal);
        Assert.Contains("Server=db;Port=3306;User ID=cdc", options.ToString(), StringComparison.Ordinal);
        Assert.Equal("db:3306", options.Endpoint);
        Assert.Equal("[::1]:3306", (options with { Host = "::1" }).Endpoint);
    }

    [Fact]
    public void ServerId_0_is_refused_with_a_message_saying_why()
    {
        var options = Valid() with { ServerId = 0 };

        var error = Assert.Throws<BinlogConfigurationException>(options.Validate);

        Assert.Contains("ServerId must not be 0", error.Message, StringComparison.Ordinal);
        Assert.False(error.IsTransient);
        Assert.Throws<BinlogConfigurationException>(() => new BinlogClient(options));
    }

    [Fact]
    public void A_read_timeout_not_above_the_heartbeat_period_is_refused()
    {
        var options = Valid() with { HeartbeatPeriod = TimeSpan.FromSeconds(10), ReadTimeout = TimeSpan.FromSeconds(10) };

        var error = Assert.Throws<BinlogConfigurationException>(options.Validate);

        Assert.Contains("ReadTimeout (10s) must be longer than HeartbeatPeriod (10s)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_blocking_read_with_a_timeout_but_no_heartbeat_is_refused()
    {
        var options = Valid() with { HeartbeatPeriod = TimeSpan.Zero };

        Assert.Contains("needs a heartbeat", Assert.Throws<BinlogConfigurationException>(options.Validate).Message, StringComparison.Ordinal);
        (options with { Blocking = false }).Validate();
        (options with { ReadTimeout = Timeout.InfiniteTimeSpan }).Validate();
    }

    [Theory]
    [InlineData("", 3306, "cdc", "Host is empty")]
    [InlineData("h", 0, "cdc", "Port 0 is out of range")]
    [InlineData("h", 3306, "", "User is empty")]
    public void Missing_or_invalid_connection_settings_are_refused(string host, int port, string user, string message)
    {
        var options = Valid() with { Host = host, Port = port, User = user };

        Assert.Contains(message, Assert.Throws<BinlogConfigurationException>(options.Validate).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_SslCa_with_a_mode_that_does_not_check_certificates_is_refused_rather_than_ignored()
    {
        var options = Valid() with { SslMode = BinlogSslMode.Required, SslCa = "/etc/ca.pem" };

        Assert.Contains("use SslMode=VerifyCA or VerifyFull", Assert.Throws<BinlogConfigurationException>(options.Validate).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_defaults_are_valid_once_host_user_and_server_id_are_set()
    {
        Valid().Validate();
        Assert.Equal(TimeSpan.FromSeconds(5), Valid().HeartbeatPeriod);
        Assert.Equal(TimeSpan.FromSeconds(10), Valid().ReadTimeout);
    }

    private static BinlogClientOptions Valid() => new() { Host = "h", User = "cdc", ServerId = 1001 };
}
