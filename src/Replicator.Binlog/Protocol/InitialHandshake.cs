using System.Text;

namespace Replicator.Binlog.Protocol;

/// <summary>
/// The server's first packet, Protocol::HandshakeV10:
/// protocol version (1, = 10), server version (NUL-terminated), connection id (4),
/// auth-plugin-data part 1 (8), filler (1), capability flags lower half (2), character set (1),
/// status flags (2), capability flags upper half (2), auth-plugin-data length (1), reserved (6),
/// MariaDB extended capabilities or reserved (4), auth-plugin-data part 2 (max(13, length - 8)),
/// auth plugin name (NUL-terminated, when CLIENT_PLUGIN_AUTH).
/// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_connection_phase_packets_protocol_handshake_v10.html
/// https://mariadb.com/kb/en/connection/#initial-handshake-packet
/// </summary>
internal sealed record InitialHandshake(
    string ServerVersion,
    uint ConnectionId,
    CapabilityFlags Capabilities,
    byte CharacterSet,
    byte[] Scramble,
    string? AuthPluginName)
{
    public const byte ProtocolVersion = 10;

    /// <summary>MariaDB prefixes its version with this for clients that only understand MySQL 5 version numbers.</summary>
    private const string MariaDbCompatibilityPrefix = "5.5.5-";

    public static InitialHandshake Parse(ReadOnlySpan<byte> payload)
    {
        var reader = new ByteReader(payload);
        var protocol = reader.ReadByte();
        if (protocol != ProtocolVersion)
        {
            throw new FormatException($"Expected handshake protocol version 10 but found {protocol}.");
        }

        var version = reader.ReadNullTerminatedString();
        if (version.StartsWith(MariaDbCompatibilityPrefix, StringComparison.Ordinal)
            && version.Contains("MariaDB", StringComparison.OrdinalIgnoreCase))
        {
            version = version[MariaDbCompatibilityPrefix.Length..];
        }

        var connectionId = reader.ReadUInt32();
        var scramble = new List<byte>(reader.ReadBytes(8).ToArray());
        reader.Skip(1);
        var capabilities = (CapabilityFlags)reader.ReadUInt16();
        byte characterSet = 0;
        string? pluginName = null;
        if (!reader.IsAtEnd)
        {
            characterSet = reader.ReadByte();
            reader.ReadUInt16(); // status flags
            capabilities |= (CapabilityFlags)((uint)reader.ReadUInt16() << 16);
            var authDataLength = reader.ReadByte();
            reader.Skip(10);
            if (capabilities.HasFlag(CapabilityFlags.SecureConnection))
            {
                var part2 = reader.ReadBytes(Math.Max(13, authDataLength - 8));
                // The second part ends with a NUL that is not part of the scramble.
                scramble.AddRange(part2.Length > 0 && part2[^1] == 0 ? part2[..^1] : part2);
            }

            if (capabilities.HasFlag(CapabilityFlags.PluginAuth) && !reader.IsAtEnd)
            {
                // Some servers leave out the final NUL.
                var rest = reader.ReadToEnd();
                var nul = rest.IndexOf((byte)0);
                pluginName = Encoding.UTF8.GetString(nul >= 0 ? rest[..nul] : rest);
            }
        }

        return new InitialHandshake(version, connectionId, capabilities, characterSet, scramble.ToArray(), pluginName);
    }
}
