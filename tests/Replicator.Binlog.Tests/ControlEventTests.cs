using Replicator.Binlog.Columns;
using Replicator.Binlog.Events;
using Replicator.Binlog.Parsers;
using Replicator.Binlog.Positions;
using static Replicator.Binlog.Tests.Bytes;

namespace Replicator.Binlog.Tests;

/// <summary>Non-row events of both vendors, byte by byte.</summary>
public sealed class ControlEventTests
{
    private static readonly Guid Uuid = Guid.Parse("3e11fa47-71ca-11e1-9e33-c80aa9429562");

    [Fact]
    public void Query_skips_status_variables_by_their_length()
    {
        var b = new EventBuilder();
        var decoder = b.StartDecoder();
        // Q_FLAGS2_CODE, Q_SQL_MODE_CODE, Q_CATALOG_NZ_CODE 'std', Q_CHARSET_CODE: bytes a naive reader would misread.
        var status = Concat([0x00], U32(0), [0x01], U64(0x4000_0000), [0x06, 3], Utf8("std"), [0x04], U16(33), U16(33), U16(8));
        var query = Assert.IsType<QueryEvent>(decoder.Decode(b.Query("shop", "CREATE TABLE t (id INT)", status), EventBuilder.File));
        Assert.Equal("shop", query.Schema);
        Assert.Equal("CREATE TABLE t (id INT)", query.Sql);
        Assert.Equal(77u, query.ThreadId);
        Assert.False(query.IsBegin);
    }

    [Fact]
    public void Begin_and_commit_queries_are_recognised()
    {
        var b = new EventBuilder();
        var decoder = b.StartDecoder();
        Assert.True(Assert.IsType<QueryEvent>(decoder.Decode(b.Query("", "BEGIN"), EventBuilder.File)).IsBegin);
        Assert.True(Assert.IsType<QueryEvent>(decoder.Decode(b.Query("", "COMMIT"), EventBuilder.File)).IsCommit);
    }

    [Fact]
    public void Execute_load_query_is_read_as_a_query_past_its_longer_post_header()
    {
        var b = new EventBuilder();
        var decoder = b.StartDecoder();
        // thread_id exec_time db_len error_code status_len, then file_id start_pos end_pos dup_handling (EXECUTE_LOAD_QUERY's 13 more bytes).
        var sql = "LOAD DATA INFILE '/tmp/SQL_LOAD-1-2-3.data' INTO TABLE `t` FIELDS TERMINATED BY ','";
        var body = Concat(U32(5), U32(0), [4], U16(0), U16(0), U32(3), U32(10), U32(20), [1], Utf8("shop"), [0], Utf8(sql));
        var query = Assert.IsType<QueryEvent>(decoder.Decode(b.Event(BinlogEventType.ExecuteLoadQuery, body), EventBuilder.File));
        Assert.Equal("shop", query.Schema);
        Assert.Equal(sql, query.Sql);
    }

    [Fact]
    public void Mariadb_compressed_query_inflates_its_statement()
    {
        var b = new EventBuilder(serverVersion: "10.11.6-MariaDB-log");
        var decoder = b.StartDecoder();
        var sql = "INSERT INTO t VALUES " + string.Join(",", Enumerable.Range(1, 200).Select(i => $"({i})"));
        var body = Concat(U32(5), U32(0), [2], U16(0), U16(0), Utf8("db"), [0], RowsEventTests.MariaDbCompressed(Utf8(sql)));
        var query = Assert.IsType<QueryEvent>(decoder.Decode(b.Event(BinlogEventType.QueryCompressed, body), EventBuilder.File));
        Assert.Equal(BinlogEventType.QueryCompressed, query.Type);
        Assert.Equal("db", query.Schema);
        Assert.Equal(sql, query.Sql);
    }

    [Fact]
    public void Rotate_gives_the_next_file_and_position()
    {
        var b = new EventBuilder();
        var decoder = b.StartDecoder();
        var rotate = Assert.IsType<RotateEvent>(decoder.Decode(b.Rotate("mysql-bin.000124", 4), EventBuilder.File));
        Assert.Equal("mysql-bin.000124", rotate.NextFile);
        Assert.Equal(4, rotate.NextPosition);
    }

    [Fact]
    public void Stop_has_no_body()
    {
        var b = new EventBuilder();
        var decoder = b.StartDecoder();
        Assert.IsType<StopEvent>(decoder.Decode(b.Event(BinlogEventType.Stop, []), EventBuilder.File));
    }

    [Fact]
    public void Heartbeat_v1_names_the_file_and_uses_log_pos()
    {
        var b = new EventBuilder();
        var decoder = b.StartDecoder();
        b.Position = 0;
        var raw = b.Event(BinlogEventType.Heartbeat, Utf8("binlog.000009"));
        var heartbeat = Assert.IsType<HeartbeatEvent>(decoder.Decode(raw, EventBuilder.File));
        Assert.Equal("binlog.000009", heartbeat.LogFile);
        Assert.Equal(raw.Length, heartbeat.LogPosition);
    }

    [Fact]
    public void Heartbeat_v2_reads_its_fields()
    {
        var b = new EventBuilder();
        var decoder = b.StartDecoder();
        var body = Concat(Packed(1), Packed(13), Utf8("binlog.000010"), Packed(2), Packed(4), Packed(5_000_000), Packed(0));
        var heartbeat = Assert.IsType<HeartbeatEvent>(decoder.Decode(b.Event(BinlogEventType.HeartbeatV2, body), EventBuilder.File));
        Assert.Equal("binlog.000010", heartbeat.LogFile);
        Assert.Equal(5_000_000, heartbeat.LogPosition);
    }

    [Fact]
    public void Mysql_gtid_reads_logical_clock_and_both_commit_timestamps()
    {
        var b = new EventBuilder();
        var decoder = b.StartDecoder();
        var body = Concat(
            [0x00], Uuid.ToByteArray(bigEndian: true), U64(23),
            [0x02], U64(10), U64(11),
            U64(1_700_000_000_000_001 | (1UL << 55))[..7],   // immediate, with the "original follows" bit
            U64(1_600_000_000_000_002)[..7],                   // original
            Packed(1234),                                       // transaction length
            U32(80036));
        var gtid = Assert.IsType<MySqlGtidEvent>(decoder.Decode(b.Event(BinlogEventType.Gtid, body), EventBuilder.File));
        Assert.Equal(Uuid, gtid.SourceId);
        Assert.Equal(23, gtid.TransactionNumber);
        Assert.Null(gtid.Tag);
        Assert.Equal(10, gtid.LastCommitted);
        Assert.Equal(11, gtid.SequenceNumber);
        Assert.Equal(1_700_000_000_000_001UL, gtid.ImmediateCommitTimestamp);
        Assert.Equal(1_600_000_000_000_002UL, gtid.OriginalCommitTimestamp);
    }

    [Fact]
    public void Mysql_56_gtid_has_no_logical_clock()
    {
        var b = new EventBuilder();
        var decoder = b.StartDecoder();
        var body = Concat([0x01], Uuid.ToByteArray(bigEndian: true), U64(5));
        var gtid = Assert.IsType<MySqlGtidEvent>(decoder.Decode(b.Event(BinlogEventType.Gtid, body), EventBuilder.File));
        Assert.Equal(5, gtid.TransactionNumber);
        Assert.Null(gtid.OriginalCommitTimestamp);
    }

    [Fact]
    public void Anonymous_gtid_has_an_empty_source()
    {
        var b = new EventBuilder();
        var decoder = b.StartDecoder();
        var body = Concat([0x00], new byte[16], U64(0), [0x02], U64(0), U64(1), U64(99)[..7]);
        var gtid = Assert.IsType<MySqlGtidEvent>(decoder.Decode(b.Event(BinlogEventType.AnonymousGtid, body), EventBuilder.File));
        Assert.True(gtid.IsAnonymous);
        Assert.Equal(Guid.Empty, gtid.SourceId);
        Assert.Equal(99UL, gtid.OriginalCommitTimestamp);
    }

    [Fact]
    public void Tagged_gtid_decodes_the_serialization_format()
    {
        var b = new EventBuilder(serverVersion: "8.4.3");
        var decoder = b.StartDecoder();
        var fields = Concat(
            SerializedVar(0), SerializedVar(1),
            SerializedVar(1), Uuid.ToByteArray(bigEndian: true).SelectMany(x => SerializedVar(x)).ToArray(),
            SerializedVar(2), SerializedSigned(4242),
            SerializedVar(3), SerializedVar(5), Utf8("batch"),
            SerializedVar(4), SerializedSigned(7),
            SerializedVar(5), SerializedSigned(8),
            SerializedVar(6), SerializedVar(1_700_000_000_123_456),
            SerializedVar(8), SerializedVar(900),
            SerializedVar(9), SerializedVar(80403));
        // version(1), payload size (counts the whole message), last non-ignorable field id, fields.
        var headerWithoutSize = 1 + SerializedVar(11).Length;
        var size = (ulong)(headerWithoutSize + fields.Length);
        size += (ulong)SerializedVar(size).Length;
        var body = Concat([2], SerializedVar(size), SerializedVar(11), fields);
        var gtid = Assert.IsType<MySqlGtidEvent>(decoder.Decode(b.Event(BinlogEventType.GtidTagged, body), EventBuilder.File));
        Assert.Equal(Uuid, gtid.SourceId);
        Assert.Equal("batch", gtid.Tag);
        Assert.Equal(4242, gtid.TransactionNumber);
        Assert.Equal(1, gtid.Flags);
        Assert.Equal(7, gtid.LastCommitted);
        Assert.Equal(8, gtid.SequenceNumber);
        Assert.Equal(1_700_000_000_123_456UL, gtid.ImmediateCommitTimestamp);
        Assert.Equal(1_700_000_000_123_456UL, gtid.OriginalCommitTimestamp);
    }

    [Theory]
    [InlineData(0UL, "00")]
    [InlineData(1UL, "02")]
    [InlineData(127UL, "FE")]
    [InlineData(128UL, "0102")]
    [InlineData(65535UL, "FBFF07")]
    [InlineData(ulong.MaxValue, "FFFFFFFFFFFFFFFFFF")]
    public void Serialized_varints_follow_the_mysql_serialization_readme(ulong value, string hex)
    {
        Assert.Equal(hex, Convert.ToHexString(SerializedVar(value)));
        var reader = new Replicator.Binlog.Protocol.ByteReader(Hex(hex));
        Assert.Equal(value, reader.ReadSerializedVarUInt64());
        Assert.True(reader.IsAtEnd);
    }

    [Theory]
    [InlineData(65535L, "F3FF0F")]      // readme: 00001111 11111111 11110011
    [InlineData(-65535L, "EBFF0F")]     // readme: 00001111 11111111 11101011
    [InlineData(-65536L, "FBFF0F")]     // readme: 00001111 11111111 11111011
    public void Serialized_signed_varints_use_zig_zag(long value, string hex)
    {
        Assert.Equal(hex, Convert.ToHexString(SerializedSigned(value)));
        var reader = new Replicator.Binlog.Protocol.ByteReader(Hex(hex));
        Assert.Equal(value, reader.ReadSerializedVarInt64());
    }

    [Fact]
    public void Previous_gtids_read_an_untagged_set()
    {
        var b = new EventBuilder();
        var decoder = b.StartDecoder();
        var other = Guid.Parse("00000000-0000-0000-0000-000000000001");
        var body = Concat(
            U64(2),
            Uuid.ToByteArray(bigEndian: true), U64(2), U64(1), U64(6), U64(8), U64(10),
            other.ToByteArray(bigEndian: true), U64(1), U64(1), U64(2));
        var previous = Assert.IsType<PreviousGtidsEvent>(decoder.Decode(b.Event(BinlogEventType.PreviousGtids, body), EventBuilder.File));
        Assert.Equal(MySqlGtidSet.Parse("3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:8-9,00000000-0000-0000-0000-000000000001:1"), previous.Gtids);
    }

    [Fact]
    public void Previous_gtids_read_the_tagged_format()
    {
        var b = new EventBuilder(serverVersion: "8.4.3");
        var decoder = b.StartDecoder();
        var body = Concat(
            U64((1UL << 56) | (2UL << 8) | 1),
            Uuid.ToByteArray(bigEndian: true), SerializedVar(0), U64(1), U64(1), U64(4),
            Uuid.ToByteArray(bigEndian: true), SerializedVar(3), Utf8("etl"), U64(1), U64(1), U64(3));
        var previous = Assert.IsType<PreviousGtidsEvent>(decoder.Decode(b.Event(BinlogEventType.PreviousGtids, body), EventBuilder.File));
        Assert.True(previous.Gtids.Contains(Uuid, null, 3));
        Assert.True(previous.Gtids.Contains(Uuid, "etl", 2));
        Assert.False(previous.Gtids.Contains(Uuid, "etl", 3));
    }

    [Fact]
    public void Previous_gtids_empty_set()
    {
        var b = new EventBuilder();
        var decoder = b.StartDecoder();
        var previous = Assert.IsType<PreviousGtidsEvent>(decoder.Decode(b.Event(BinlogEventType.PreviousGtids, U64(0)), EventBuilder.File));
        Assert.True(previous.Gtids.IsEmpty);
    }

    [Fact]
    public void Mariadb_gtid_reads_the_commit_id_of_a_group_commit()
    {
        var b = new EventBuilder(serverVersion: "10.11.6-MariaDB-log");
        var decoder = b.StartDecoder();
        var body = Concat(U64(1001), U32(3), [0x02 | 0x08], U64(77));
        var gtid = Assert.IsType<MariaDbGtidEvent>(decoder.Decode(b.Event(BinlogEventType.MariaDbGtid, body, serverId: 12), EventBuilder.File));
        Assert.Equal(new MariaDbGtid(3, 12, 1001), gtid.Gtid);
        Assert.Equal(77UL, gtid.CommitId);
        Assert.False(gtid.IsStandalone);
    }

    [Fact]
    public void Mariadb_gtid_without_group_commit_has_no_commit_id()
    {
        var b = new EventBuilder(serverVersion: "10.11.6-MariaDB-log");
        var decoder = b.StartDecoder();
        var gtid = Assert.IsType<MariaDbGtidEvent>(decoder.Decode(b.Event(BinlogEventType.MariaDbGtid, Concat(U64(5), U32(0), [0x01], new byte[6])), EventBuilder.File));
        Assert.Null(gtid.CommitId);
        Assert.True(gtid.IsStandalone);
    }

    [Fact]
    public void Mariadb_gtid_of_an_xa_prepare_and_of_its_completion_carry_the_xid()
    {
        var b = new EventBuilder(serverVersion: "10.11.19-MariaDB-log");
        var decoder = b.StartDecoder();
        // MariaDB 10.11, XA START 'x1' ... XA PREPARE 'x1': GTID 0-1-12, flags2 FL_PREPARED_XA | FL_ALLOW_PARALLEL | FL_TRANSACTIONAL,
        // then formatID 1, gtrid_length 2, bqual_length 0, "x1", then the extra flags (FL_EXTRA_MULTI_ENGINE) and their byte.
        var prepare = Assert.IsType<MariaDbGtidEvent>(decoder.Decode(b.Event(BinlogEventType.MariaDbGtid, Hex("0c00000000000000 00000000 4c 01000000 02 00 7831 01 ff")), EventBuilder.File));
        Assert.True(prepare.IsPreparedXa);
        Assert.False(prepare.IsCompletedXa);
        Assert.False(prepare.IsStandalone);
        Assert.Equal("X'7831',X'',1", prepare.Xid!.ToString());

        // XA ROLLBACK 'x1': GTID 0-1-13, FL_COMPLETED_XA | FL_ALLOW_PARALLEL | FL_TRANSACTIONAL | FL_STANDALONE.
        var completed = Assert.IsType<MariaDbGtidEvent>(decoder.Decode(b.Event(BinlogEventType.MariaDbGtid, Hex("0d00000000000000 00000000 8d 01000000 02 00 7831")), EventBuilder.File));
        Assert.True(completed.IsCompletedXa);
        Assert.True(completed.IsStandalone);
        Assert.Equal(prepare.Xid, completed.Xid);
    }

    [Fact]
    public void Xa_prepare_reads_one_phase_and_the_xid()
    {
        var b = new EventBuilder(serverVersion: "10.11.19-MariaDB-log");
        var decoder = b.StartDecoder();
        // As MariaDB 10.11 writes XA PREPARE 'x1': one_phase 0, formatID 1, gtrid_length 2, bqual_length 0 (four bytes each), "x1".
        var prepare = Assert.IsType<XaPrepareEvent>(decoder.Decode(b.Event(BinlogEventType.XaPrepare, Hex("00 01000000 02000000 00000000 7831")), EventBuilder.File));
        Assert.False(prepare.OnePhase);
        Assert.Equal("X'7831',X'',1", prepare.Xid.ToString());

        // MySQL's XA COMMIT 'g','b',7 ONE PHASE.
        var onePhase = Assert.IsType<XaPrepareEvent>(decoder.Decode(b.Event(BinlogEventType.XaPrepare, Concat([1], U32(7), U32(1), U32(1), Utf8("gb"))), EventBuilder.File));
        Assert.True(onePhase.OnePhase);
        Assert.Equal("X'67',X'62',7", onePhase.Xid.ToString());

        var tooLong = Assert.Throws<BinlogFormatException>(() => decoder.Decode(b.Event(BinlogEventType.XaPrepare, Concat([0], U32(1), U32(65), U32(0), new byte[65])), EventBuilder.File));
        Assert.Contains("XaPrepare", tooLong.Message);
    }

    [Theory]
    [InlineData("X'7831',X'',1", "X'7831',X'',1")]
    [InlineData("X'7831',X'',1 ONE PHASE", "X'7831',X'',1")]
    [InlineData("'x1'", "X'7831',X'',1")]
    [InlineData("'g', 'b', 7", "X'67',X'62',7")]
    public void Xa_ids_parse_as_the_server_logs_them_and_as_clients_write_them(string text, string canonical)
    {
        Assert.True(XaId.TryParse(text, out var xid));
        Assert.Equal(canonical, xid!.ToString());
    }

    [Fact]
    public void Mariadb_gtid_list_reads_each_domain()
    {
        var b = new EventBuilder(serverVersion: "10.11.6-MariaDB-log");
        var decoder = b.StartDecoder();
        var body = Concat(U32(2), U32(0), U32(1), U64(42), U32(7), U32(2), U64(9));
        var list = Assert.IsType<GtidListEvent>(decoder.Decode(b.Event(BinlogEventType.GtidList, body), EventBuilder.File));
        Assert.Equal([new MariaDbGtid(0, 1, 42), new MariaDbGtid(7, 2, 9)], list.Gtids);
    }

    [Fact]
    public void Mariadb_checkpoint_and_annotate_rows_carry_their_text()
    {
        var b = new EventBuilder(serverVersion: "10.11.6-MariaDB-log");
        var decoder = b.StartDecoder();
        var checkpoint = Assert.IsType<BinlogCheckpointEvent>(decoder.Decode(b.Event(BinlogEventType.BinlogCheckpoint, Concat(U32(18), Utf8("mariadb-bin.000003"))), EventBuilder.File));
        Assert.Equal("mariadb-bin.000003", checkpoint.CheckpointFile);
        var annotate = Assert.IsType<AnnotateRowsEvent>(decoder.Decode(b.Event(BinlogEventType.AnnotateRows, Utf8("UPDATE t SET v = 'ä'")), EventBuilder.File));
        Assert.Equal("UPDATE t SET v = 'ä'", annotate.Sql);
    }

    [Fact]
    public void Transaction_payload_without_compression_holds_its_events()
    {
        var b = new EventBuilder();
        var decoder = b.StartDecoder();
        var inner = new EventBuilder(checksum: false) { Position = 0 };
        byte[] Unpositioned(byte[] raw)
        {
            // Events inside a payload have log_pos 0.
            Array.Clear(raw, 13, 4);
            return raw;
        }

        var payload = Concat(
            Unpositioned(inner.Query("shop", "BEGIN")),
            Unpositioned(inner.TableMap(3, "shop", "t", [ColumnType.Long], [])),
            Unpositioned(inner.Rows(BinlogEventType.WriteRowsV2, 3, 1, Concat([0x00], U32(99)))),
            Unpositioned(inner.Xid(5)));
        var body = Concat(
            Packed(2), Packed(3), Packed(255),                                  // compression type: none (a 3-byte packed integer)
            Packed(1), Packed((ulong)Packed((ulong)payload.Length).Length), Packed((ulong)payload.Length), // payload size
            Packed(0),
            payload);
        var start = b.Position;
        var decoded = Assert.IsType<TransactionPayloadEvent>(decoder.Decode(b.Event(BinlogEventType.TransactionPayload, body), EventBuilder.File));
        Assert.Equal(255, decoded.CompressionType);
        Assert.Equal(start, decoded.Header.Position);
        Assert.Equal([BinlogEventType.Query, BinlogEventType.TableMap, BinlogEventType.WriteRowsV2, BinlogEventType.Xid], decoded.Events.Select(e => e.Type));
        Assert.All(decoded.Events, e => Assert.Equal(EventBuilder.File, e.File));
        var rows = Assert.IsType<RowsEvent>(decoded.Events[2]);
        Assert.Equal(99, rows.Rows[0].After![0].AsInt64());
    }

    [Fact]
    public void A_corrupt_zstd_payload_throws_naming_the_event()
    {
        var path = FixturePaths.BinlogFile("mysql80-txn-compression-insert");
        var file = File.ReadAllBytes(path);
        var decoder = new BinlogEventDecoder(new BinlogDecoderOptions { VerifyChecksums = false });
        var position = 4;
        while (true)
        {
            var size = BitConverter.ToInt32(file, position + 9);
            var raw = file.AsMemory(position, size).ToArray();
            if (raw[4] == (byte)BinlogEventType.TransactionPayload)
            {
                raw[size - 20] ^= 0xFF; // inside the zstd frame
                var error = Assert.Throws<BinlogFormatException>(() => decoder.Decode(raw, Path.GetFileName(path)));
                Assert.Equal(274, error.Position);
                return;
            }

            decoder.Decode(raw, Path.GetFileName(path));
            position += size;
        }
    }
}
