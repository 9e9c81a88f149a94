using Replicator.Binlog.Columns;
using Replicator.Binlog.Parsers;
using Replicator.Binlog.Positions;

namespace Replicator.Binlog.Network;

/// <summary>
/// How to reach a source and where to start reading. <see cref="ToString"/> never shows the password.
/// </summary>
public sealed record BinlogClientOptions
{
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

    /// <summary>How long a read may wait for any packet before the connection counts as dead. Keep it above the heartbeat period.</summary>
    public TimeSpan ReadTimeout { get; init; } = TimeSpan.FromSeconds(15);

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

    /// <summary>
    /// Reads a MySqlConnector-style connection string: Server/Host, Port, User ID/User/Uid/Username,
    /// Password/Pwd, SslMode, SslCa, Connection Timeout, AllowPublicKeyRetrieval.
    /// </summary>
    public static BinlogClientOptions FromConnectionString(string connectionString) => throw new NotImplementedException();

    /// <summary>The options with the password left out.</summary>
    public override string ToString() =>
        $"Server={Host};Port={Port};User ID={User};SslMode={SslMode};ServerId={ServerId};Start={Start}";
}
