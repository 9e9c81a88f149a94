using System.Security.Cryptography;
using System.Text;
using Replicator.Binlog.Network;
using Replicator.Binlog.Protocol;
using Replicator.Binlog.Vendors.MariaDb;
using Replicator.Binlog.Vendors.MySql;

namespace Replicator.Binlog.Tests.Network;

/// <summary>The authentication plugins on their own, checked with the formulas the servers use to verify them.</summary>
public sealed class AuthPluginTests
{
    private const string Password = "p\u00e4ssword";
    private static readonly byte[] Nonce = Encoding.ASCII.GetBytes("abcdefghij0123456789");

    [Fact]
    public void mysql_native_password_answers_what_the_server_can_check_against_SHA1_of_SHA1()
    {
        var answer = Plugin("mysql_native_password").CreateResponse(Context(), Nonce);

        // Server: SHA1(answer XOR SHA1(nonce + stored)) == stored, stored = SHA1(SHA1(password)).
        var stored = SHA1.HashData(SHA1.HashData(Encoding.UTF8.GetBytes(Password)));
        var mask = SHA1.HashData([.. Nonce, .. stored]);
        var candidate = answer.Zip(mask, (a, b) => (byte)(a ^ b)).ToArray();
        Assert.Equal(stored, SHA1.HashData(candidate));
    }

    [Fact]
    public void The_NUL_servers_append_to_a_nonce_is_not_part_of_it()
    {
        var plain = Plugin("mysql_native_password").CreateResponse(Context(), Nonce);
        var terminated = Plugin("mysql_native_password").CreateResponse(Context(), [.. Nonce, 0]);

        Assert.Equal(plain, terminated);
    }

    [Fact]
    public void caching_sha2_password_answers_what_the_server_cache_can_check()
    {
        var answer = Plugin("caching_sha2_password").CreateResponse(Context(), Nonce);

        // Server: SHA256(answer XOR SHA256(stored + nonce)) == stored, stored = SHA256(SHA256(password)).
        var stored = SHA256.HashData(SHA256.HashData(Encoding.UTF8.GetBytes(Password)));
        var mask = SHA256.HashData([.. stored, .. Nonce]);
        var candidate = answer.Zip(mask, (a, b) => (byte)(a ^ b)).ToArray();
        Assert.Equal(stored, SHA256.HashData(candidate));
    }

    [Theory]
    [InlineData("mysql_native_password")]
    [InlineData("caching_sha2_password")]
    public void An_empty_password_is_answered_with_nothing(string plugin)
    {
        Assert.Empty(Plugin(plugin).CreateResponse(Context(password: ""), Nonce));
    }

    [Fact]
    public void caching_sha2_password_waits_for_OK_after_fast_auth_success()
    {
        var plugin = Plugin("caching_sha2_password");
        plugin.CreateResponse(Context(), Nonce);

        Assert.Null(plugin.Continue(Context(), [0x03]));
    }

    [Fact]
    public void caching_sha2_password_full_authentication_over_verified_TLS_sends_the_password_NUL_terminated()
    {
        var plugin = Plugin("caching_sha2_password");
        plugin.CreateResponse(Context(secure: true, verified: true), Nonce);

        Assert.Equal([.. Encoding.UTF8.GetBytes(Password), 0], plugin.Continue(Context(secure: true, verified: true), [0x04]));
        Assert.Throws<BinlogAuthenticationException>(() => plugin.Continue(Context(secure: true), [0x04]));
    }

    [Fact]
    public void caching_sha2_password_asks_for_the_key_then_sends_the_password_encrypted_with_it()
    {
        using var key = RSA.Create(2048);
        var context = Context(allowRetrieval: true);
        var plugin = Plugin("caching_sha2_password");
        plugin.CreateResponse(context, Nonce);

        Assert.Equal([0x02], plugin.Continue(context, [0x04]));
        var encrypted = plugin.Continue(context, Encoding.ASCII.GetBytes(key.ExportSubjectPublicKeyInfoPem()));

        var plain = key.Decrypt(encrypted!, RSAEncryptionPadding.OaepSHA1);
        var password = plain.Select((b, i) => (byte)(b ^ Nonce[i % Nonce.Length])).ToArray();
        Assert.Equal([.. Encoding.UTF8.GetBytes(Password), 0], password);
    }

    [Fact]
    public void caching_sha2_password_reads_the_key_file_and_accepts_the_PKCS1_form_too()
    {
        using var key = RSA.Create(2048);
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, key.ExportRSAPublicKeyPem());
            var context = Context(keyFile: file);
            var plugin = Plugin("caching_sha2_password");
            plugin.CreateResponse(context, Nonce);

            var encrypted = plugin.Continue(context, [0x04]);

            Assert.Equal(256, encrypted!.Length);
            Assert.Equal(Encoding.UTF8.GetByteCount(Password) + 1, key.Decrypt(encrypted, RSAEncryptionPadding.OaepSHA1).Length);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void A_server_key_that_is_not_PEM_is_an_authentication_error_that_does_not_show_the_password()
    {
        var context = Context(allowRetrieval: true);
        var plugin = Plugin("caching_sha2_password");
        plugin.CreateResponse(context, Nonce);
        plugin.Continue(context, [0x04]);

        var error = Assert.Throws<BinlogAuthenticationException>(() => plugin.Continue(context, "not a key"u8));

        Assert.Contains("not a PEM RSA public key", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Password, error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_key_file_is_a_configuration_error_naming_it()
    {
        var missing = Path.Combine(Path.GetTempPath(), "replicator-nettest-no-such-key.pem");
        var plugin = Plugin("caching_sha2_password");
        plugin.CreateResponse(Context(keyFile: missing), Nonce);

        var error = Assert.Throws<BinlogConfigurationException>(() => plugin.Continue(Context(keyFile: missing), [0x04]));

        Assert.Contains(missing, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void mysql_clear_password_sends_the_password_only_over_TLS_with_a_verified_certificate()
    {
        Assert.Throws<BinlogAuthenticationException>(() => Plugin("mysql_clear_password").CreateResponse(Context(), []));
        Assert.Throws<BinlogAuthenticationException>(() => Plugin("mysql_clear_password").CreateResponse(Context(secure: true), []));
        Assert.Equal([.. Encoding.UTF8.GetBytes(Password), 0], Plugin("mysql_clear_password").CreateResponse(Context(secure: true, verified: true), []));
    }

    [Fact]
    public void client_ed25519_signs_the_32_byte_nonce_with_the_password_key()
    {
        var nonce = RandomNumberGenerator.GetBytes(32);

        var answer = Plugin("client_ed25519").CreateResponse(Context(), [.. nonce, 0]);

        Assert.Equal(Ed25519.Sign(nonce, Encoding.UTF8.GetBytes(Password)), answer);
        Assert.Throws<BinlogAuthenticationException>(() => Plugin("client_ed25519").CreateResponse(Context(), nonce[..20]));
    }

    [Fact]
    public void Unknown_plugins_have_no_implementation()
    {
        Assert.Null(AuthenticationPlugin.Create("sha256_password_typo"));
        Assert.DoesNotContain(Password, Context().ToString(), StringComparison.Ordinal);
    }

    private static AuthenticationPlugin Plugin(string name) => AuthenticationPlugin.Create(name)!;

    private static AuthenticationContext Context(string password = Password, bool secure = false, bool allowRetrieval = false, string? keyFile = null, bool verified = false) =>
        new("cdc", password, "db:3306", secure, allowRetrieval, keyFile, verified);
}
