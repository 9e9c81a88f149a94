namespace Replicator.Binlog.Protocol;

/// <summary>
/// What an authentication plugin may use: the account, the transport and the RSA key settings.
/// <see cref="ToString"/> leaves the password out.
/// </summary>
internal sealed class AuthenticationContext
{
    public AuthenticationContext(
        string user,
        string password,
        string endpoint,
        bool isSecureTransport,
        bool allowPublicKeyRetrieval,
        string? serverRsaPublicKeyFile,
        bool isVerifiedTransport = false)
    {
        User = user;
        Password = password;
        Endpoint = endpoint;
        IsSecureTransport = isSecureTransport;
        IsVerifiedTransport = isSecureTransport && isVerifiedTransport;
        AllowPublicKeyRetrieval = allowPublicKeyRetrieval;
        ServerRsaPublicKeyFile = serverRsaPublicKeyFile;
    }

    public string User { get; }

    public string Password { get; }

    /// <summary>host:port, for messages.</summary>
    public string Endpoint { get; }

    /// <summary>True over TLS, whether or not its certificate was checked.</summary>
    public bool IsSecureTransport { get; }

    /// <summary>
    /// True over TLS whose certificate was checked against a CA (SslMode=VerifyCA or VerifyFull): only
    /// then may the password travel as it is. Over unchecked TLS anyone in between can present a
    /// certificate of their own and read it.
    /// </summary>
    public bool IsVerifiedTransport { get; }

    /// <summary>How the connection is carried, for messages: plain TCP, or TLS with or without a checked certificate.</summary>
    public string TransportDescription =>
        IsVerifiedTransport ? "TLS with a verified certificate" : IsSecureTransport ? "TLS whose certificate is not checked (SslMode=Preferred or Required)" : "plain TCP (no TLS)";

    public bool AllowPublicKeyRetrieval { get; }

    public string? ServerRsaPublicKeyFile { get; }

    public override string ToString() => $"{User}@{Endpoint}";
}
