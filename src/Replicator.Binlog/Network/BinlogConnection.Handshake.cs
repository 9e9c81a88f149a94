using System.Diagnostics;
using System.Reflection;
using Replicator.Binlog.Protocol;
using Replicator.Binlog.Vendors.MySql;

namespace Replicator.Binlog.Network;

/// <summary>
/// The connection phase: HandshakeV10 from the server, the optional SSL request and TLS upgrade,
/// HandshakeResponse41, then authentication until OK or ERR (auth switches and extra rounds).
/// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_connection_phase.html
/// </summary>
public sealed partial class BinlogConnection
{
    private const byte AuthMoreDataHeader = 0x01;
    private const byte AuthSwitchHeader = 0xFE;

    /// <summary>What this client asks for; the server's flags narrow it down.</summary>
    private const CapabilityFlags Wanted =
        CapabilityFlags.LongPassword
        | CapabilityFlags.LongFlag
        | CapabilityFlags.Protocol41
        | CapabilityFlags.Transactions
        | CapabilityFlags.SecureConnection
        | CapabilityFlags.PluginAuth
        | CapabilityFlags.PluginAuthLengthEncodedClientData
        | CapabilityFlags.ConnectAttrs
        | CapabilityFlags.DeprecateEof;

    private static readonly string ClientVersion =
        typeof(BinlogConnection).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0";

    private static async Task<BinlogConnection> LogInAsync(PacketChannel channel, BinlogClientOptions options, CancellationToken cancellationToken)
    {
        var payload = await channel.ReadPayloadAsync(cancellationToken).ConfigureAwait(false);
        if (ErrorPacket.Is(payload.Span))
        {
            throw LoginError(ErrorPacket.Parse(payload.Span), options);
        }

        InitialHandshake handshake;
        try
        {
            handshake = InitialHandshake.Parse(payload.Span);
        }
        catch (FormatException e)
        {
            throw new BinlogConnectionException(
                $"{options.Endpoint} did not answer with a MySQL or MariaDB handshake ({e.Message}); check that this port belongs to a MySQL or MariaDB server", e);
        }

        var server = new ServerInfo(handshake.ServerVersion, handshake.ConnectionId);
        if (!handshake.Capabilities.HasFlag(CapabilityFlags.Protocol41))
        {
            throw new BinlogConfigurationException($"the source {options.Endpoint} ({server.Version}) does not speak the 4.1 protocol; MySQL 5.6+ or MariaDB 10.x is needed");
        }

        var capabilities = Wanted & handshake.Capabilities;
        if (UseTls(options, handshake, server))
        {
            capabilities |= CapabilityFlags.Ssl;
            var request = new PacketWriter(32)
                .WriteUInt32((uint)capabilities)
                .WriteUInt32(MaxPacketSize)
                .WriteByte(Utf8Mb4GeneralCi)
                .WriteZeros(23);
            await channel.WritePayloadAsync(request.Payload, cancellationToken).ConfigureAwait(false);
            await UpgradeToTlsAsync(channel, options, cancellationToken).ConfigureAwait(false);
        }

        var context = new AuthenticationContext(
            options.User,
            options.Password,
            options.Endpoint,
            channel.IsSecure,
            options.AllowPublicKeyRetrieval,
            options.ServerRsaPublicKeyFile,
            isVerifiedTransport: channel.IsSecure && options.SslMode is (BinlogSslMode.VerifyCA or BinlogSslMode.VerifyFull));

        // The first answer uses the server's default method when this client knows one that may
        // answer a 20-byte scramble unprompted; the server switches to the account's own method.
        var plugin = handshake.AuthPluginName is MySqlNativePasswordAuth.PluginName or CachingSha2PasswordAuth.PluginName
            ? Protocol.AuthenticationPlugin.Create(handshake.AuthPluginName)!
            : new MySqlNativePasswordAuth();
        var response = plugin.CreateResponse(context, handshake.Scramble);
        await channel.WritePayloadAsync(HandshakeResponse(options, capabilities, plugin.Name, response), cancellationToken).ConfigureAwait(false);

        while (true)
        {
            payload = await channel.ReadPayloadAsync(cancellationToken).ConfigureAwait(false);
            if (payload.IsEmpty)
            {
                throw new BinlogConnectionException($"the source {options.Endpoint} sent an empty packet during the login");
            }

            switch (payload.Span[0])
            {
                case OkPacket.Header:
                    return new BinlogConnection(options, channel, server, capabilities, plugin.Name);

                case ErrorPacket.Header:
                    throw LoginError(ErrorPacket.Parse(payload.Span), options);

                case AuthSwitchHeader when payload.Length == 1:
                    throw new BinlogAuthenticationException(
                        $"the source {options.Endpoint} asks for the pre-4.1 password hash (old_passwords), which this client refuses; give the user a current authentication plugin");

                case AuthSwitchHeader:
                {
                    var reader = new ByteReader(payload.Span[1..]);
                    var name = reader.ReadNullTerminatedString();
                    var challenge = reader.ReadToEnd();
                    plugin = Protocol.AuthenticationPlugin.Create(name) ?? throw new BinlogAuthenticationException(
                        $"the source {options.Endpoint} asks for authentication plugin '{name}', which this client does not support (it supports {Protocol.AuthenticationPlugin.SupportedList}); change the user's authentication plugin");
                    response = plugin.CreateResponse(context, challenge);
                    await channel.WritePayloadAsync(response, cancellationToken).ConfigureAwait(false);
                    break;
                }

                case AuthMoreDataHeader:
                {
                    var answer = plugin.Continue(context, payload.Span[1..]);
                    if (answer is not null)
                    {
                        await channel.WritePayloadAsync(answer, cancellationToken).ConfigureAwait(false);
                    }

                    break;
                }

                default:
                    throw new BinlogConnectionException(
                        $"the source {options.Endpoint} sent an unexpected packet (0x{payload.Span[0]:X2}) during the login");
            }
        }
    }

    private static bool UseTls(BinlogClientOptions options, InitialHandshake handshake, ServerInfo server)
    {
        var offered = handshake.Capabilities.HasFlag(CapabilityFlags.Ssl);
        return options.SslMode switch
        {
            BinlogSslMode.None => false,
            BinlogSslMode.Preferred => offered,
            _ when offered => true,
            _ => throw new BinlogConfigurationException(
                $"SslMode={options.SslMode} but the source {options.Endpoint} ({server.Version}) does not offer TLS; configure ssl_cert and ssl_key on the server, or lower SslMode"),
        };
    }

    /// <summary>
    /// HandshakeResponse41: capabilities (4), max packet size (4), character set (1), 23 zero bytes,
    /// user (NUL-terminated), auth response (length-encoded, or 1-byte length), plugin name
    /// (NUL-terminated), connection attributes (length-encoded key/value strings).
    /// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_connection_phase_packets_protocol_handshake_response.html
    /// </summary>
    private static ReadOnlyMemory<byte> HandshakeResponse(BinlogClientOptions options, CapabilityFlags capabilities, string pluginName, byte[] authResponse)
    {
        var writer = new PacketWriter(128)
            .WriteUInt32((uint)capabilities)
            .WriteUInt32(MaxPacketSize)
            .WriteByte(Utf8Mb4GeneralCi)
            .WriteZeros(23)
            .WriteNullTerminatedString(options.User);
        if (capabilities.HasFlag(CapabilityFlags.PluginAuthLengthEncodedClientData))
        {
            writer.WriteLengthEncodedBytes(authResponse);
        }
        else if (capabilities.HasFlag(CapabilityFlags.SecureConnection))
        {
            writer.WriteByte(checked((byte)authResponse.Length)).WriteBytes(authResponse);
        }
        else
        {
            writer.WriteBytes(authResponse).WriteByte(0);
        }

        if (capabilities.HasFlag(CapabilityFlags.PluginAuth))
        {
            writer.WriteNullTerminatedString(pluginName);
        }

        if (capabilities.HasFlag(CapabilityFlags.ConnectAttrs))
        {
            var attributes = new PacketWriter(96)
                .WriteLengthEncodedString("_client_name").WriteLengthEncodedString("Replicator.Binlog")
                .WriteLengthEncodedString("_client_version").WriteLengthEncodedString(ClientVersion)
                .WriteLengthEncodedString("_pid").WriteLengthEncodedString(Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture))
                .WriteLengthEncodedString("program_name").WriteLengthEncodedString(ProgramName());
            writer.WriteLengthEncodedBytes(attributes.Payload.Span);
        }

        return writer.Payload;
    }

    private static string ProgramName()
    {
        try
        {
            using var process = Process.GetCurrentProcess();
            return process.ProcessName;
        }
        catch (InvalidOperationException)
        {
            return "replicator";
        }
    }

    private static BinlogException LoginError(ErrorPacket error, BinlogClientOptions options) => error.Code switch
    {
        // ER_ACCESS_DENIED_ERROR, ER_ACCESS_DENIED_NO_PASSWORD_ERROR
        1045 or 1698 => new BinlogAuthenticationException(
            $"the source {options.Endpoint} refused the login: {error.Message} (error {error.Code}); check the source user name and password"),

        // ER_NOT_SUPPORTED_AUTH_MODE, ER_MUST_CHANGE_PASSWORD_LOGIN, ER_ACCOUNT_HAS_BEEN_LOCKED (MySQL 3118, MariaDB 4151)
        1251 or 1862 or 3118 or 4151 => new BinlogAuthenticationException(
            $"the source {options.Endpoint} refused the login: {error.Message} (error {error.Code}); fix the account of user '{options.User}' on the source"),

        // ER_HOST_IS_BLOCKED
        1129 => new BinlogServerException(error.Code, error.SqlState, error.Message,
            $"the source {options.Endpoint} refused the connection: {error.Message} (error {error.Code}); run 'FLUSH HOSTS' on the source and look for what keeps failing to connect (max_connect_errors)"),

        _ => new BinlogServerException(error.Code, error.SqlState, error.Message,
            $"the source {options.Endpoint} refused the connection: {error.Message} (error {error.Code}, SQLSTATE {error.SqlState})"),
    };
}
