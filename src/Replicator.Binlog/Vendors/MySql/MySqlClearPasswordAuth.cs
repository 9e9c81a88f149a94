using System.Text;
using Replicator.Binlog.Network;
using Replicator.Binlog.Protocol;

namespace Replicator.Binlog.Vendors.MySql;

/// <summary>
/// mysql_clear_password: the password itself, NUL-terminated (used by PAM and LDAP accounts). This
/// client sends it only over TLS and refuses otherwise.
/// https://dev.mysql.com/doc/refman/8.4/en/cleartext-pluggable-authentication.html
/// </summary>
internal sealed class MySqlClearPasswordAuth : AuthenticationPlugin
{
    public const string PluginName = "mysql_clear_password";

    public override string Name => PluginName;

    public override byte[] CreateResponse(AuthenticationContext context, ReadOnlySpan<byte> challenge)
    {
        if (!context.IsSecureTransport)
        {
            throw new BinlogAuthenticationException(
                $"the source {context.Endpoint} asks for mysql_clear_password, which would send the password unencrypted; this client sends it only over TLS: set SslMode=VerifyFull (or Required)");
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
