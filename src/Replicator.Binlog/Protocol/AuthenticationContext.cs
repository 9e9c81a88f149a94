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
        string? serverRsaPublicKeyFile)
    {
        User = user;
        Password = password;
        Endpoint = endpoint;
        IsSecureTransport = isSecureTransport;
        AllowPublicKeyRetrieval = allowPublicKeyRetrieval;
        ServerRsaPublicKeyFile = serverRsaPublicKeyFile;
    }

    public string User { get; }

    public string Password { get; }

    /// <summary>host:port, for messages.</summary>
    public string Endpoint { get; }

    /// <summary>True over TLS: the password may then travel as it is.</summary>
    public bool IsSecureTransport { get; }

    public bool AllowPublicKeyRetrieval { get; }

    public string? ServerRsaPublicKeyFile { get; }

    public override string ToString() => $"{User}@{Endpoint}";
}
