using System.Text;
using Replicator.Binlog.Network;
using Replicator.Binlog.Vendors.MariaDb;

namespace Replicator.Binlog.Tests.Network;

/// <summary>Ed25519 signing checked against RFC 8032, against MariaDB's stored key, and by logging in to MariaDB.</summary>
[Collection(NetworkThrowawayCollection.Name)]
public sealed class Ed25519AuthTests
{
    private readonly NetworkThrowawayServerFixture _fixture;

    public Ed25519AuthTests(NetworkThrowawayServerFixture fixture) => _fixture = fixture;

    [Theory]
    // RFC 8032 §7.1 TEST 1: the empty message.
    [InlineData(
        "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        "",
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b")]
    // RFC 8032 §7.1 TEST 2: one byte, 0x72.
    [InlineData(
        "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
        "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        "72",
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00")]
    // RFC 8032 §7.1 TEST 3: two bytes, 0xaf82.
    [InlineData(
        "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
        "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
        "af82",
        "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a")]
    public void Signing_reproduces_the_RFC_8032_test_vectors(string secret, string publicKey, string message, string signature)
    {
        var seed = Convert.FromHexString(secret);

        Assert.Equal(publicKey, Convert.ToHexStringLower(Ed25519.PublicKey(seed)));
        Assert.Equal(signature, Convert.ToHexStringLower(Ed25519.Sign(Convert.FromHexString(message), seed)));
    }

    [Fact]
    public void The_public_key_of_a_password_is_the_one_MariaDB_stores_for_it()
    {
        // MariaDB 10.11: CREATE USER … IDENTIFIED VIA ed25519 USING PASSWORD('secret') stores this
        // authentication_string, the unpadded base64 of the public key derived from SHA-512('secret').
        const string stored = "ZIgUREUg5PVgQ6LskhXmO+eZLS0nC8be6HPjYWR4YJY";

        var publicKey = Ed25519.PublicKey(Encoding.UTF8.GetBytes("secret"));

        Assert.Equal(stored, Convert.ToBase64String(publicKey).TrimEnd('='));
    }

    [Fact]
    public async Task The_public_key_matches_what_the_live_server_computes_for_a_password()
    {
        var stored = (await _fixture.Server.SqlAsync(
            $"SELECT authentication_string FROM mysql.user WHERE user = '{NetworkThrowawayServerFixture.Ed25519User}'")).Trim();

        var publicKey = Ed25519.PublicKey(Encoding.UTF8.GetBytes(NetworkThrowawayServerFixture.Ed25519Password));

        Assert.Equal(stored, Convert.ToBase64String(publicKey).TrimEnd('='));
    }

    [Fact]
    public void A_signature_depends_on_the_nonce_and_the_password()
    {
        var nonce = Enumerable.Range(0, 32).Select(i => (byte)i).ToArray();
        var other = nonce.ToArray();
        other[0] ^= 1;
        var password = Encoding.UTF8.GetBytes("pw");

        var signature = Ed25519.Sign(nonce, password);

        Assert.Equal(64, signature.Length);
        Assert.Equal(signature, Ed25519.Sign(nonce, password));
        Assert.NotEqual(signature, Ed25519.Sign(other, password));
        Assert.NotEqual(signature, Ed25519.Sign(nonce, Encoding.UTF8.GetBytes("pW")));
    }

    [Fact]
    public async Task An_ed25519_account_logs_in_to_MariaDB_through_the_auth_switch_to_client_ed25519()
    {
        var options = _fixture.Server.Cdc(2121) with
        {
            User = NetworkThrowawayServerFixture.Ed25519User,
            Password = NetworkThrowawayServerFixture.Ed25519Password,
        };

        await using var connection = await BinlogConnection.OpenAsync(options);

        Assert.Equal("client_ed25519", connection.AuthenticationPlugin);
        Assert.Equal($"{NetworkThrowawayServerFixture.Ed25519User}@127.0.0.1", (await connection.QueryAsync("SELECT CURRENT_USER()")).Rows[0][0]);
    }

    [Fact]
    public async Task An_ed25519_account_with_the_wrong_password_is_refused_with_access_denied()
    {
        const string canary = "CANARY-ed25519-wrong";
        var options = _fixture.Server.Cdc(2122) with { User = NetworkThrowawayServerFixture.Ed25519User, Password = canary };

        var error = await Assert.ThrowsAsync<BinlogAuthenticationException>(async () => await BinlogConnection.OpenAsync(options));

        Assert.Contains("Access denied for user 'nettest_ed'", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(canary, error.ToString(), StringComparison.Ordinal);
    }
}
