using System.Text;
using Replicator.Binlog.Positions;

namespace Replicator.Binlog.Protocol;

/// <summary>
/// The binary form of a MySQL GTID set that COM_BINLOG_DUMP_GTID carries (MySQL's
/// <c>Gtid_set::encode</c>), all integers little-endian:
/// <code>
/// untagged: n_sids(8) { uuid(16) n_intervals(8) { start(8) end_exclusive(8) }* }*
/// tagged:   header(8) { uuid(16) tag(1 + n) n_intervals(8) { start(8) end_exclusive(8) }* }*
/// </code>
/// The tagged format (MySQL 8.3+, needed as soon as one GTID carries a tag) packs the format
/// number 1 into the top and the bottom byte of the first word and the entry count into bytes
/// 1-6: <c>(1 &lt;&lt; 56) | (n &lt;&lt; 8) | 1</c>. Its tag field is the tag's length in the
/// server's variable-length integer form (one byte, length &lt;&lt; 1, since tags are at most 32
/// characters) and the lower-case tag; an untagged entry has the single byte 0. The uuid is the
/// 16 bytes in the order of its text form. Entries are ordered by uuid text, then tag.
/// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_binlog_dump_gtid.html
/// </summary>
internal static class GtidSetEncoding
{
    private const int MaxTagLength = 32;

    public static bool NeedsTaggedFormat(MySqlGtidSet set) => set.Sets.Keys.Any(s => s.Tag is not null);

    public static byte[] Encode(MySqlGtidSet set)
    {
        var tagged = NeedsTaggedFormat(set);
        var writer = new PacketWriter(8 + (set.Sets.Count * 48));
        var count = (ulong)set.Sets.Count;
        writer.WriteUInt64(tagged ? (1UL << 56) | (count << 8) | 1UL : count);

        Span<byte> uuid = stackalloc byte[16];
        foreach (var (source, intervals) in set.Sets)
        {
            if (!source.SourceId.TryWriteBytes(uuid, bigEndian: true, out _))
            {
                throw new InvalidOperationException("A GTID source uuid does not fit in 16 bytes.");
            }

            writer.WriteBytes(uuid);
            if (tagged)
            {
                var tag = source.Tag ?? "";
                var bytes = Encoding.ASCII.GetBytes(tag.ToLowerInvariant());
                if (bytes.Length > MaxTagLength)
                {
                    throw new FormatException($"GTID tag '{tag}' is longer than {MaxTagLength} characters.");
                }

                writer.WriteByte((byte)(bytes.Length << 1));
                writer.WriteBytes(bytes);
            }

            writer.WriteUInt64((ulong)intervals.Count);
            foreach (var interval in intervals)
            {
                writer.WriteUInt64((ulong)interval.Start);
                writer.WriteUInt64((ulong)interval.End);
            }
        }

        return writer.ToArray();
    }
}
