using System.Text;
using Replicator.Binlog.Network;
using Replicator.Binlog.Protocol;

namespace Replicator.Binlog.Vendors.MySql;

/// <summary>
/// mysql_clear_password: the password itself, NUL-terminated (used by PAM and LDAP accounts). This
/// client sends it only over TLS with a verified certificate (SslMode=VerifyCA or VerifyFull) and
/// refuses otherwise: over plain TCP anyone on the path reads it, and over TLS whose certificate is
/// not checked anyone in between can present a certificate of their own.
/// https://dev.mysql.com/doc/refman/8.4/en/cleartext-pluggable-authentication.html
/// </summary>
internal sealed class MySqlClearPasswordAuth : AuthenticationPlugin
{
    public const string PluginName = "mysql_clear_password";

    public override string Name => PluginName;

    public override byte[] CreateResponse(AuthenticationContext context, ReadOnlySpan<byte> challenge)
    {
        if (!context.IsVerifiedTransport)
        {
            throw new BinlogAuthenticationException(
                $"the source {context.Endpoint} asks for mysql_clear_password, which sends the password as it is, and this connection is {context.TransportDescription}; "
                + "this client sends it only over TLS with a verified certificate: set SslMode=VerifyCA or VerifyFull (only over TLS whose certificate is checked), with SslCa=<the CA's PEM file> unless the system trusts the server's CA");
        }

        return NullTerminated(context.Password);
    }

    internal static byte[] NullTerminated(string password)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(password) + 1];
        Encoding.UTF8.GetBytes(password, bytes);
        return bytes;
    }
}
