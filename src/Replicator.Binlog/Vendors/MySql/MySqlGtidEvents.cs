using System.Text;
using Replicator.Binlog.Events;
using Replicator.Binlog.Positions;
using Replicator.Binlog.Protocol;

namespace Replicator.Binlog.Vendors.MySql;

/// <summary>MySQL's GTID events: GTID/ANONYMOUS_GTID, GTID_TAGGED (8.4+) and PREVIOUS_GTIDS.</summary>
internal static class MySqlGtidEvents
{
    private const byte LogicalTimestampTypeCode = 2;
    private const int UndefinedServerVersion = 999_999;

    /// <summary>
    /// GTID_LOG_EVENT / ANONYMOUS_GTID_LOG_EVENT: flags(1) uuid(16) gno(8); from 5.7.5 the
    /// logical-clock type code 2, last_committed(8) and sequence_number(8); from 8.0.1
    /// immediate_commit_timestamp(7, bit 55 set when original_commit_timestamp(7) follows) and
    /// transaction_length (packed); from 8.0.14 the server versions (4, bit 31 likewise).
    /// https://dev.mysql.com/doc/dev/mysql-server/latest/classmysql_1_1binlog_1_1event_1_1Gtid__event.html
    /// </summary>
    public static MySqlGtidEvent ReadGtid(EventHeader header, ReadOnlySpan<byte> body, string file)
    {
        var reader = new ByteReader(body);
        var flags = reader.ReadByte();
        var sourceId = new Guid(reader.ReadBytes(16), bigEndian: true);
        var gno = unchecked((long)reader.ReadUInt64());
        long lastCommitted = 0;
        long sequenceNumber = 0;
        ulong? immediate = null;
        ulong? original = null;
        if (!reader.IsAtEnd && reader.PeekByte() == LogicalTimestampTypeCode)
        {
            reader.ReadByte();
            lastCommitted = unchecked((long)reader.ReadUInt64());
            sequenceNumber = unchecked((long)reader.ReadUInt64());
            if (reader.Remaining >= 7)
            {
                var value = reader.ReadUIntN(7);
                if ((value & (1UL << 55)) != 0)
                {
                    immediate = value & ~(1UL << 55);
                    original = reader.ReadUIntN(7);
                }
                else
                {
                    immediate = value;
                    original = value;
                }
            }
        }

        return new MySqlGtidEvent(header, file, sourceId, gno, null, flags, lastCommitted, sequenceNumber, original, immediate);
    }

    /// <summary>
    /// GTID_TAGGED_LOG_EVENT (8.4+), in the MySQL serialization library format: version(1),
    /// payload size and last non-ignorable field id (variable-length), then id/value pairs:
    /// 0 flags, 1 uuid (16 variable-length bytes), 2 gno (signed), 3 tag (length + text),
    /// 4 last_committed, 5 sequence_number (signed), 6 immediate and 7 original commit timestamps,
    /// 8 transaction length, 9 immediate and 10 original server versions, 11 commit group ticket.
    /// https://dev.mysql.com/doc/dev/mysql-server/latest/PageLibsMysqlSerialization.html
    /// </summary>
    public static MySqlGtidEvent ReadTaggedGtid(EventHeader header, ReadOnlySpan<byte> body, string file)
    {
        var outer = new ByteReader(body);
        outer.ReadByte(); // serialization format version
        var payloadSize = outer.ReadSerializedVarUInt64();
        var lastNonIgnorable = outer.ReadSerializedVarUInt64();
        // The payload size counts the whole message from its version byte.
        var end = (int)Math.Min((ulong)body.Length, payloadSize);
        if (end < outer.Offset)
        {
            throw new FormatException($"A tagged GTID message of {payloadSize} bytes is shorter than its own header.");
        }

        var reader = new ByteReader(body[outer.Offset..end]);
        byte flags = 0;
        var sourceId = Guid.Empty;
        long gno = 0;
        string? tag = null;
        long lastCommitted = 0;
        long sequenceNumber = 0;
        ulong? immediate = null;
        ulong? original = null;
        Span<byte> uuid = stackalloc byte[16];
        while (!reader.IsAtEnd)
        {
            var field = reader.ReadSerializedVarUInt64();
            switch (field)
            {
                case 0:
                    flags = checked((byte)reader.ReadSerializedVarUInt64());
                    break;
                case 1:
                    for (var i = 0; i < 16; i++)
                    {
                        uuid[i] = checked((byte)reader.ReadSerializedVarUInt64());
                    }

                    sourceId = new Guid(uuid, bigEndian: true);
                    break;
                case 2:
                    gno = reader.ReadSerializedVarInt64();
                    break;
                case 3:
                    tag = Encoding.UTF8.GetString(reader.ReadBytes(checked((int)reader.ReadSerializedVarUInt64())));
                    break;
                case 4:
                    lastCommitted = reader.ReadSerializedVarInt64();
                    break;
                case 5:
                    sequenceNumber = reader.ReadSerializedVarInt64();
                    break;
                case 6:
                    immediate = reader.ReadSerializedVarUInt64();
                    break;
                case 7:
                    original = reader.ReadSerializedVarUInt64();
                    break;
                case 8:
                case 9:
                case 10:
                case 11:
                    reader.ReadSerializedVarUInt64(); // transaction length, server versions, commit ticket
                    break;
                default:
                    if (field <= lastNonIgnorable)
                    {
                        throw new FormatException($"A tagged GTID carries field {field}, which this reader does not know and may not ignore.");
                    }

                    // Later, ignorable fields: nothing more is needed from the message.
                    reader.ReadToEnd();
                    break;
            }
        }

        if (tag is null)
        {
            throw new FormatException("A GTID_TAGGED_LOG_EVENT has no tag field.");
        }

        original ??= immediate;
        return new MySqlGtidEvent(header, file, sourceId, gno, tag, flags, lastCommitted, sequenceNumber, original, immediate);
    }

    /// <summary>
    /// PREVIOUS_GTIDS_LOG_EVENT body, MySQL's encoded GTID set: an 8-byte header — the source count,
    /// or in the tagged format (8.4+) format byte 1 in bits 56-63 and 0-7 with the count in bits
    /// 8-55 — then per source: uuid(16), [tag: length (variable) + text], interval count(8), and
    /// intervals as start(8) end(8, exclusive).
    /// </summary>
    public static MySqlGtidSet ReadGtidSet(ReadOnlySpan<byte> body)
    {
        var reader = new ByteReader(body);
        var head = reader.ReadUInt64();
        var tagged = (head >> 56) != 0;
        var sources = tagged ? (head >> 8) & ((1UL << 48) - 1) : head & ((1UL << 56) - 1);
        var entries = new List<KeyValuePair<MySqlGtidSource, IReadOnlyList<GtidInterval>>>();
        for (ulong s = 0; s < sources; s++)
        {
            var uuid = new Guid(reader.ReadBytes(16), bigEndian: true);
            string? tag = null;
            if (tagged)
            {
                var length = checked((int)reader.ReadSerializedVarUInt64());
                if (length > 0)
                {
                    tag = Encoding.UTF8.GetString(reader.ReadBytes(length));
                }
            }

            var count = reader.ReadUInt64();
            if (count > (ulong)reader.Remaining / 16)
            {
                throw new FormatException($"A GTID set declares {count} intervals for {uuid} but has room for {reader.Remaining / 16}.");
            }

            var intervals = new List<GtidInterval>((int)count);
            for (ulong i = 0; i < count; i++)
            {
                var start = unchecked((long)reader.ReadUInt64());
                var end = unchecked((long)reader.ReadUInt64());
                if (start < 1 || end <= start)
                {
                    throw new FormatException($"A GTID set interval [{start}, {end}) for {uuid} is empty or negative.");
                }

                intervals.Add(new GtidInterval(start, end));
            }

            entries.Add(new(new MySqlGtidSource(uuid, tag), intervals));
        }

        return MySqlGtidSet.Of(entries);
    }
}
