using System.Security.Cryptography;
using System.Text;
using Replicator.Binlog.Protocol;

namespace Replicator.Binlog.Vendors.MySql;

/// <summary>
/// mysql_native_password: SHA1(password) XOR SHA1(nonce + SHA1(SHA1(password))), empty for an
/// empty password. The server stores SHA1(SHA1(password)) and checks the answer against it.
/// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_connection_phase_authentication_methods_native_password_authentication.html
/// </summary>
internal sealed class MySqlNativePasswordAuth : AuthenticationPlugin
{
    public const string PluginName = "mysql_native_password";

    public override string Name => PluginName;

    public override byte[] CreateResponse(AuthenticationContext context, ReadOnlySpan<byte> challenge) =>
        Scramble(context.Password, Nonce(challenge));

    public static byte[] Scramble(string password, ReadOnlySpan<byte> nonce)
    {
        if (password.Length == 0)
        {
            return [];
        }

        var stage1 = SHA1.HashData(Encoding.UTF8.GetBytes(password));
        var stage2 = SHA1.HashData(stage1);
        var salted = new byte[nonce.Length + stage2.Length];
        nonce.CopyTo(salted);
        stage2.CopyTo(salted.AsSpan(nonce.Length));
        var mask = SHA1.HashData(salted);
        for (var i = 0; i < stage1.Length; i++)
        {
            stage1[i] ^= mask[i];
        }

        return stage1;
    }
}
