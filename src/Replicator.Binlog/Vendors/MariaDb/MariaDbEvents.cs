using System.Text;
using Replicator.Binlog.Events;
using Replicator.Binlog.Positions;
using Replicator.Binlog.Protocol;

namespace Replicator.Binlog.Vendors.MariaDb;

/// <summary>MariaDB's own events (type codes 160 and up). https://mariadb.com/kb/en/replication-protocol/</summary>
internal static class MariaDbEvents
{
    private const byte GroupCommitIdFlag = 0x02;

    /// <summary>
    /// GTID_EVENT (162): sequence(8) domain_id(4) flags2(1), then commit_id(8) when
    /// FL_GROUP_COMMIT_ID is set, then (10.5+) the XID when FL_PREPARED_XA or FL_COMPLETED_XA is
    /// set: formatID(4) gtrid_length(1) bqual_length(1) gtrid bqual. Extra flags may follow; they
    /// are not needed here. https://mariadb.com/kb/en/gtid_event/
    /// </summary>
    public static MariaDbGtidEvent ReadGtid(EventHeader header, ReadOnlySpan<byte> body, string file)
    {
        var reader = new ByteReader(body);
        var sequence = reader.ReadUInt64();
        var domain = reader.ReadUInt32();
        var flags = reader.ReadByte();
        ulong? commitId = (flags & GroupCommitIdFlag) != 0 ? reader.ReadUInt64() : null;
        XaId? xid = null;
        if ((flags & (MariaDbGtidEvent.PreparedXaFlag | MariaDbGtidEvent.CompletedXaFlag)) != 0)
        {
            var formatId = reader.ReadUInt32();
            var gtridLength = reader.ReadByte();
            var bqualLength = reader.ReadByte();
            xid = new XaId(formatId, reader.ReadBytes(gtridLength), reader.ReadBytes(bqualLength));
        }

        return new MariaDbGtidEvent(header, file, domain, sequence, flags, commitId, xid);
    }

    /// <summary>
    /// GTID_LIST_EVENT (163): count(4, the low 28 bits; the high 4 are flags), then per GTID
    /// domain_id(4) server_id(4) sequence(8). https://mariadb.com/kb/en/gtid_list_event/
    /// </summary>
    public static GtidListEvent ReadGtidList(EventHeader header, ReadOnlySpan<byte> body, string file)
    {
        var reader = new ByteReader(body);
        var count = reader.ReadUInt32() & 0x0FFFFFFF;
        if (count > (uint)reader.Remaining / 16)
        {
            throw new FormatException($"A GTID_LIST declares {count} GTIDs but has room for {reader.Remaining / 16}.");
        }

        var gtids = new MariaDbGtid[count];
        for (var i = 0; i < gtids.Length; i++)
        {
            var domain = reader.ReadUInt32();
            var server = reader.ReadUInt32();
            gtids[i] = new MariaDbGtid(domain, server, reader.ReadUInt64());
        }

        return new GtidListEvent(header, file, gtids);
    }

    /// <summary>BINLOG_CHECKPOINT_EVENT (161): name length(4) then the file name. https://mariadb.com/kb/en/binlog_checkpoint_event/</summary>
    public static BinlogCheckpointEvent ReadBinlogCheckpoint(EventHeader header, ReadOnlySpan<byte> body, string file)
    {
        var reader = new ByteReader(body);
        var length = reader.ReadUInt32();
        if (length > (uint)reader.Remaining)
        {
            throw new FormatException($"A BINLOG_CHECKPOINT names a file of {length} bytes but {reader.Remaining} remain.");
        }

        return new BinlogCheckpointEvent(header, file, Encoding.UTF8.GetString(reader.ReadBytes((int)length)));
    }
}
