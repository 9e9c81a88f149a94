namespace Replicator.Binlog.Network;

/// <summary>TLS to the source, with MySqlConnector's names and meanings.</summary>
public enum BinlogSslMode
{
    /// <summary>Plain TCP.</summary>
    None,

    /// <summary>TLS when the server offers it, else plain TCP. Never the default in production.</summary>
    Preferred,

    /// <summary>TLS or fail; the certificate is not checked.</summary>
    Required,

    /// <summary>TLS with the server certificate checked against the CA.</summary>
    VerifyCA,

    /// <summary>TLS with the certificate checked against the CA and the host name.</summary>
    VerifyFull,
}
