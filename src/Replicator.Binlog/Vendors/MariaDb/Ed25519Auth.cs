using System.Security.Cryptography;
using System.Text;
using Replicator.Binlog.Network;
using Replicator.Binlog.Protocol;

namespace Replicator.Binlog.Vendors.MariaDb;

/// <summary>
/// MariaDB's client_ed25519: the server sends a 32-byte nonce and the client answers with the
/// 64-byte Ed25519 signature of it, made with a key derived from SHA-512(password). The server
/// stores only the public key (base64 of 32 bytes, e.g. from <c>PASSWORD('…')</c> under ed25519).
/// https://mariadb.com/kb/en/authentication-plugin-ed25519/
/// </summary>
internal sealed class Ed25519Auth : AuthenticationPlugin
{
    public const string PluginName = "client_ed25519";

    private const int NonceSize = 32;

    public override string Name => PluginName;

    public override byte[] CreateResponse(AuthenticationContext context, ReadOnlySpan<byte> challenge)
    {
        if (challenge.Length < NonceSize)
        {
            throw new BinlogAuthenticationException(
                $"the source {context.Endpoint} sent a {challenge.Length}-byte client_ed25519 nonce where 32 bytes were expected");
        }

        var password = Encoding.UTF8.GetBytes(context.Password);
        try
        {
            return Ed25519.Sign(challenge[..NonceSize], password);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(password);
        }
    }
}
