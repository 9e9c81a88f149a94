using System.Security.Cryptography;
using System.Text;
using Replicator.Binlog.Network;
using Replicator.Binlog.Protocol;

namespace Replicator.Binlog.Vendors.MySql;

/// <summary>
/// caching_sha2_password, MySQL 8's default.
/// <list type="bullet">
/// <item>First answer: SHA256(password) XOR SHA256(SHA256(SHA256(password)) + nonce), empty for an
/// empty password.</item>
/// <item>The server answers AuthMoreData 0x03 (fast path: its cache knew the account; OK follows)
/// or 0x04 (full authentication). Full authentication sends the password: over TLS as it is (the
/// server then expects nothing else), which this client does only when the certificate was verified
/// (SslMode=VerifyCA or VerifyFull) and refuses over TLS whose certificate is not checked, where
/// anyone in between may hold the other end; without TLS RSA-OAEP (SHA-1) encrypted with the server's public key after XOR with the nonce.
/// The key comes from <see cref="AuthenticationContext.ServerRsaPublicKeyFile"/> or, only when
/// <see cref="AuthenticationContext.AllowPublicKeyRetrieval"/>, from the server: the client sends
/// 0x02 and the server answers AuthMoreData with the PEM text.</item>
/// </list>
/// https://dev.mysql.com/doc/dev/mysql-server/latest/page_caching_sha2_authentication_exchanges.html
/// </summary>
internal sealed class CachingSha2PasswordAuth : AuthenticationPlugin
{
    public const string PluginName = "caching_sha2_password";

    private const byte RequestPublicKey = 0x02;
    private const byte FastAuthSuccess = 0x03;
    private const byte PerformFullAuthentication = 0x04;

    private byte[] _nonce = [];
    private bool _awaitingPublicKey;

    public override string Name => PluginName;

    public override byte[] CreateResponse(AuthenticationContext context, ReadOnlySpan<byte> challenge)
    {
        _nonce = Nonce(challenge).ToArray();
        return Scramble(context.Password, _nonce);
    }

    public override byte[]? Continue(AuthenticationContext context, ReadOnlySpan<byte> data)
    {
        if (_awaitingPublicKey)
        {
            _awaitingPublicKey = false;
            return EncryptPassword(context.Password, _nonce, Encoding.ASCII.GetString(data), context.Endpoint, "the key the server sent");
        }

        if (data.Length == 1 && data[0] == FastAuthSuccess)
        {
            return null;
        }

        if (data.Length == 1 && data[0] == PerformFullAuthentication)
        {
            if (context.IsVerifiedTransport)
            {
                return MySqlClearPasswordAuth.NullTerminated(context.Password);
            }

            if (context.IsSecureTransport)
            {
                throw new BinlogAuthenticationException(
                    $"the source {context.Endpoint} asks for caching_sha2_password full authentication (its cache does not hold this account yet), which over TLS sends the password as it is, and this connection is {context.TransportDescription}: "
                    + "set SslMode=VerifyCA or VerifyFull, with SslCa=<the CA's PEM file> unless the system trusts the server's CA");
            }

            if (context.ServerRsaPublicKeyFile is { } file)
            {
                string pem;
                try
                {
                    pem = File.ReadAllText(file);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    throw new BinlogConfigurationException($"cannot read ServerRsaPublicKeyFile '{file}': {e.Message}", e);
                }

                return EncryptPassword(context.Password, _nonce, pem, context.Endpoint, $"ServerRsaPublicKeyFile '{file}'");
            }

            if (context.AllowPublicKeyRetrieval)
            {
                _awaitingPublicKey = true;
                return [RequestPublicKey];
            }

            throw new BinlogAuthenticationException(
                $"the source {context.Endpoint} asks for caching_sha2_password full authentication (its cache does not hold this account yet), which without TLS needs the server's RSA public key: use TLS with a verified certificate (SslMode=VerifyCA or VerifyFull, with SslCa), or set ServerRsaPublicKeyFile to the server's public key, or set AllowPublicKeyRetrieval=true (open to man-in-the-middle attacks)");
        }

        return base.Continue(context, data);
    }

    public static byte[] Scramble(string password, ReadOnlySpan<byte> nonce)
    {
        if (password.Length == 0)
        {
            return [];
        }

        var digest1 = SHA256.HashData(Encoding.UTF8.GetBytes(password));
        var digest2 = SHA256.HashData(digest1);
        var salted = new byte[digest2.Length + nonce.Length];
        digest2.CopyTo(salted, 0);
        nonce.CopyTo(salted.AsSpan(digest2.Length));
        var mask = SHA256.HashData(salted);
        for (var i = 0; i < digest1.Length; i++)
        {
            digest1[i] ^= mask[i];
        }

        return digest1;
    }

    /// <summary>RSA-OAEP(SHA-1) of (password + NUL) XOR the nonce repeated.</summary>
    internal static byte[] EncryptPassword(string password, ReadOnlySpan<byte> nonce, string publicKeyPem, string endpoint, string keyOrigin)
    {
        var plain = MySqlClearPasswordAuth.NullTerminated(password);
        try
        {
            for (var i = 0; i < plain.Length && nonce.Length > 0; i++)
            {
                plain[i] ^= nonce[i % nonce.Length];
            }

            using var rsa = RSA.Create();
            try
            {
                rsa.ImportFromPem(publicKeyPem);
            }
            catch (ArgumentException e)
            {
                throw new BinlogAuthenticationException($"cannot use {keyOrigin} for caching_sha2_password with {endpoint}: it is not a PEM RSA public key ({e.Message})", e);
            }

            var limit = (rsa.KeySize / 8) - 42;
            if (plain.Length > limit)
            {
                throw new BinlogAuthenticationException(
                    $"the password is too long to encrypt with the {rsa.KeySize}-bit RSA key of {endpoint} (at most {limit - 1} bytes); use TLS instead");
            }

            return rsa.Encrypt(plain, RSAEncryptionPadding.OaepSHA1);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plain);
        }
    }
}
