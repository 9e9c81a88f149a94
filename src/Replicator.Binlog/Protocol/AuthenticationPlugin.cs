using Replicator.Binlog.Network;
using Replicator.Binlog.Vendors.MariaDb;
using Replicator.Binlog.Vendors.MySql;

namespace Replicator.Binlog.Protocol;

/// <summary>
/// One authentication method of the connection phase. The server names it in the handshake or in
/// an AuthSwitchRequest together with a challenge; the plugin answers, and may exchange further
/// AuthMoreData packets (0x01 + data) before the server's OK or ERR. A plugin instance serves one
/// login and may keep state between its steps.
/// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_connection_phase_authentication_methods.html
/// </summary>
internal abstract class AuthenticationPlugin
{
    public const string SupportedList = "mysql_native_password, caching_sha2_password, client_ed25519, and mysql_clear_password over TLS";

    public abstract string Name { get; }

    /// <summary>The first answer to the server's challenge (the handshake scramble or the AuthSwitchRequest data).</summary>
    public abstract byte[] CreateResponse(AuthenticationContext context, ReadOnlySpan<byte> challenge);

    /// <summary>Handles an AuthMoreData packet (without its 0x01 header); returns what to send back, or null to wait for the server.</summary>
    public virtual byte[]? Continue(AuthenticationContext context, ReadOnlySpan<byte> data) =>
        throw new BinlogAuthenticationException(
            $"the source {context.Endpoint} sent unexpected extra authentication data for plugin {Name}; the server and this client disagree on the login protocol");

    /// <summary>A new instance of the named plugin, or null when this client does not implement it.</summary>
    public static AuthenticationPlugin? Create(string name) => name switch
    {
        MySqlNativePasswordAuth.PluginName => new MySqlNativePasswordAuth(),
        CachingSha2PasswordAuth.PluginName => new CachingSha2PasswordAuth(),
        MySqlClearPasswordAuth.PluginName => new MySqlClearPasswordAuth(),
        Ed25519Auth.PluginName => new Ed25519Auth(),
        _ => null,
    };

    /// <summary>The 20-byte nonce of the native and SHA-2 methods: servers append a NUL that is not part of it.</summary>
    protected static ReadOnlySpan<byte> Nonce(ReadOnlySpan<byte> challenge, int length = 20) =>
        challenge.Length > length ? challenge[..length] : challenge;
}
