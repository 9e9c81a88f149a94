using System.Data.Common;
using System.Globalization;
using Replicator.Binlog.Columns;
using Replicator.Binlog.Parsers;
using Replicator.Binlog.Positions;

namespace Replicator.Binlog.Network;

/// <summary>
/// How to reach a source and where to start reading. <see cref="ToString"/> never shows the password.
/// </summary>
public sealed record BinlogClientOptions
{
    /// <summary>The largest master_heartbeat_period the servers accept (4294967 seconds).</summary>
    private static readonly TimeSpan MaxHeartbeatPeriod = TimeSpan.FromSeconds(4294967);

    public string Host { get; init; } = "127.0.0.1";

    public int Port { get; init; } = 3306;

    public string User { get; init; } = "";

    public string Password { get; init; } = "";

    /// <summary>The replica server_id this reader registers with. Must be unique among the server's replicas and not 0.</summary>
    public uint ServerId { get; init; } = 65535;

    public StartPosition Start { get; init; } = StartPosition.CurrentEnd;

    /// <summary>False: stop at the end of the binlog (BINLOG_DUMP_NON_BLOCK), meepo's non-blocking mode.</summary>
    public bool Blocking { get; init; } = true;

    /// <summary>The master_heartbeat_period asked of the server; a silent connection is detected by <see cref="ReadTimeout"/>.</summary>
    public TimeSpan HeartbeatPeriod { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long a read may wait for any packet before the connection counts as dead. Must be above
    /// the heartbeat period; the default, twice the default heartbeat, notices a frozen source or a
    /// half-open connection within 10 seconds.
    /// </summary>
    public TimeSpan ReadTimeout { get; init; } = TimeSpan.FromSeconds(10);

    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    public BinlogSslMode SslMode { get; init; } = BinlogSslMode.Preferred;

    /// <summary>PEM file of the CA that signs the server certificate, for <see cref="BinlogSslMode.VerifyCA"/> and <see cref="BinlogSslMode.VerifyFull"/>.</summary>
    public string? SslCa { get; init; }

    /// <summary>Let caching_sha2_password fetch the server's RSA key over a plain connection (MITM-prone; off by default).</summary>
    public bool AllowPublicKeyRetrieval { get; init; }

    /// <summary>PEM file of the server's RSA public key for caching_sha2_password over a plain connection.</summary>
    public string? ServerRsaPublicKeyFile { get; init; }

    /// <summary>Completes table maps without optional metadata (column names, key, charsets).</summary>
    public ITableSchemaSource? SchemaSource { get; init; }

    public BinlogDecoderOptions Decoder { get; init; } = BinlogDecoderOptions.Default;

    /// <summary>host:port as messages show it (IPv6 literals in brackets).</summary>
    public string Endpoint => Host.Contains(':', StringComparison.Ordinal)
        ? $"[{Host}]:{Port.ToString(CultureInfo.InvariantCulture)}"
        : $"{Host}:{Port.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>
    /// Reads a MySqlConnector-style connection string: Server/Host/Data Source, Port,
    /// User ID/User/Uid/Username, Password/Pwd, SslMode, SslCa (Ssl-Ca, CA Certificate File),
    /// Connection Timeout/Connect Timeout (seconds, 0 for none), AllowPublicKeyRetrieval and
    /// ServerRsaPublicKeyFile. Keys ignore case and spaces; values may be quoted. Unknown keys are
    /// refused, and no message ever repeats a value.
    /// </summary>
    public static BinlogClientOptions FromConnectionString(string connectionString)
    {
        ArgumentNullException.ThrowIfNull(connectionString);
        var options = new BinlogClientOptions();
        foreach (var (key, value) in Pairs(connectionString))
        {
            // ADO.NET's parser reports keys in lower case: errors name a known key as documented.
            options = Normalize(key) switch
            {
                "server" or "host" or "datasource" or "address" or "addr" or "networkaddress" => options with { Host = value.Trim() },
                "port" => options with { Port = ParseInt("Port", value, 1, 65535) },
                "userid" or "user" or "uid" or "username" => options with { User = value },
                "password" or "pwd" => options with { Password = value },
                "sslmode" => options with { SslMode = ParseSslMode("SslMode", value) },
                "sslca" or "ssl-ca" or "cacertificatefile" => options with { SslCa = value.Length == 0 ? null : value },
                "connectiontimeout" or "connecttimeout" => options with { ConnectTimeout = ParseSeconds("Connection Timeout", value) },
                "allowpublickeyretrieval" => options with { AllowPublicKeyRetrieval = ParseBool("AllowPublicKeyRetrieval", value) },
                "serverrsapublickeyfile" => options with { ServerRsaPublicKeyFile = value.Length == 0 ? null : value },
                _ => throw new ArgumentException(
                    $"The connection string key '{key}' is not supported; use Server, Port, User ID, Password, SslMode, SslCa, Connection Timeout, AllowPublicKeyRetrieval or ServerRsaPublicKeyFile.",
                    nameof(connectionString)),
            };
        }

        return options;
    }

    /// <summary>
    /// The pairs of a connection string, split by ADO.NET's own parser (quotes, doubled quotes and
    /// spaces as everywhere else in .NET, and as the host's and MySqlConnector's builders read them),
    /// keys in lower case as it reports them; a malformed string fails with a message that names the
    /// position only, never a value.
    /// </summary>
    private static IEnumerable<(string Key, string Value)> Pairs(string connectionString)
    {
        DbConnectionStringBuilder builder;
        try
        {
            builder = new DbConnectionStringBuilder { ConnectionString = connectionString };
        }
        catch (ArgumentException e)
        {
            // ADO.NET's message gives the index where the format broke and no value.
            throw new ArgumentException(
                $"The connection string is malformed ({e.Message.TrimEnd('.')}): expected key=value pairs separated by ';', with values that hold ';' or quotes enclosed in quotes.",
                nameof(connectionString));
        }

        foreach (string key in builder.Keys)
        {
            yield return (key, builder[key] as string ?? "");
        }
    }

    /// <summary>
    /// Checks the options before any connection is made, and throws a
    /// <see cref="BinlogConfigurationException"/> that names the option and what is wrong.
    /// </summary>
    public void Validate()
    {
        static BinlogConfigurationException Invalid(string message) => new(message);

        if (string.IsNullOrWhiteSpace(Host))
        {
            throw Invalid("Host is empty: name the source server (Server=… in a connection string).");
        }

        if (Port is < 1 or > 65535)
        {
            throw Invalid($"Port {Port} is out of range: use 1-65535.");
        }

        if (string.IsNullOrEmpty(User))
        {
            throw Invalid("User is empty: name the replication user (User ID=… in a connection string).");
        }

        if (ServerId == 0)
        {
            throw Invalid("ServerId must not be 0: the server refuses replicas without a server_id; give each reader its own server_id, unique among the source's replicas and different from every server's own server_id.");
        }

        if (Start is null)
        {
            throw Invalid("Start is missing: choose a StartPosition.");
        }

        if (Decoder is null)
        {
            throw Invalid("Decoder options are missing.");
        }

        CheckTimeout(nameof(ConnectTimeout), ConnectTimeout);
        CheckTimeout(nameof(ReadTimeout), ReadTimeout);
        if (HeartbeatPeriod < TimeSpan.Zero || HeartbeatPeriod > MaxHeartbeatPeriod)
        {
            throw Invalid($"HeartbeatPeriod {HeartbeatPeriod} is out of range: use 0 (none) to {MaxHeartbeatPeriod.TotalSeconds.ToString(CultureInfo.InvariantCulture)} seconds.");
        }

        if (ReadTimeout != Timeout.InfiniteTimeSpan)
        {
            if (HeartbeatPeriod > TimeSpan.Zero && ReadTimeout <= HeartbeatPeriod)
            {
                throw Invalid($"ReadTimeout ({ReadTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)}s) must be longer than HeartbeatPeriod ({HeartbeatPeriod.TotalSeconds.ToString(CultureInfo.InvariantCulture)}s), or an idle source would look dead between heartbeats; twice the heartbeat period is a good choice.");
            }

            if (HeartbeatPeriod == TimeSpan.Zero && Blocking)
            {
                throw Invalid("ReadTimeout needs a heartbeat in blocking mode: with HeartbeatPeriod 0 an idle source sends nothing and the read times out; set HeartbeatPeriod below ReadTimeout, or ReadTimeout to Timeout.InfiniteTimeSpan.");
            }
        }

        if (SslMode is < BinlogSslMode.None or > BinlogSslMode.VerifyFull)
        {
            throw Invalid($"SslMode {(int)SslMode} is not one of None, Preferred, Required, VerifyCA, VerifyFull.");
        }

        if (SslCa is not null && SslMode is not (BinlogSslMode.VerifyCA or BinlogSslMode.VerifyFull))
        {
            throw Invalid($"SslCa is set but SslMode={SslMode} does not check certificates: use SslMode=VerifyCA or VerifyFull.");
        }

        static void CheckTimeout(string name, TimeSpan value)
        {
            if (value != Timeout.InfiniteTimeSpan && (value <= TimeSpan.Zero || value.TotalMilliseconds > int.MaxValue))
            {
                throw Invalid($"{name} {value} is out of range: use a positive time up to 24 days, or Timeout.InfiniteTimeSpan.");
            }
        }
    }

    private static string Normalize(string key) =>
        string.Concat(key.Where(c => !char.IsWhiteSpace(c))).ToLowerInvariant();

    private static int ParseInt(string key, string value, int min, int max) =>
        int.TryParse(value.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= min && n <= max
            ? n
            : throw new ArgumentException($"The connection string key '{key}' needs a whole number from {min} to {max}.", "connectionString");

    private static TimeSpan ParseSeconds(string key, string value)
    {
        var seconds = ParseInt(key, value, 0, int.MaxValue / 1000);
        return seconds == 0 ? Timeout.InfiniteTimeSpan : TimeSpan.FromSeconds(seconds);
    }

    private static bool ParseBool(string key, string value) => value.Trim().ToLowerInvariant() switch
    {
        "true" or "yes" or "1" or "on" => true,
        "false" or "no" or "0" or "off" => false,
        _ => throw new ArgumentException($"The connection string key '{key}' needs true or false.", "connectionString"),
    };

    private static BinlogSslMode ParseSslMode(string key, string value) => Normalize(value) switch
    {
        "none" or "disabled" => BinlogSslMode.None,
        "preferred" => BinlogSslMode.Preferred,
        "required" => BinlogSslMode.Required,
        "verifyca" => BinlogSslMode.VerifyCA,
        "verifyfull" or "verifyidentity" => BinlogSslMode.VerifyFull,
        _ => throw new ArgumentException($"The connection string key '{key}' needs one of None, Preferred, Required, VerifyCA, VerifyFull.", "connectionString"),
    };

    /// <summary>The options with the password left out.</summary>
    public override string ToString() =>
        $"Server={Host};Port={Port};User ID={User};SslMode={SslMode};ServerId={ServerId};Start={Start}";
}
