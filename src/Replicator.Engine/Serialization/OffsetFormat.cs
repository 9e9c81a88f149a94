using System.Runtime.Serialization;
using Google.Protobuf;
using Replicator.Binlog.Positions;
using Replicator.Engine.Capture;
using Replicator.Engine.Offsets;
using Replicator.Engine.Serialization.Protos;

namespace Replicator.Engine.Serialization;

/// <summary>
/// The persisted form of a capture's offset: protobuf (Protos/capture.proto), a union with one case
/// per source kind that can gain fields without a new manifest. <see cref="ReadLegacyOffset"/>
/// reads the hand-written layout of journals written before it (manifests OC and SN).
/// </summary>
internal static class OffsetFormat
{
    public static byte[] ToBytes(OffsetCommitted committed) =>
        new OffsetCommittedProto { Offset = ToProto(committed.Offset) }.ToByteArray();

    public static byte[] ToBytes(CaptureSnapshot snapshot) =>
        new CaptureSnapshotProto { Offset = ToProto(snapshot.Offset) }.ToByteArray();

    public static OffsetCommitted ReadCommitted(Stream stream) =>
        new(FromProto(OffsetCommittedProto.Parser.ParseFrom(stream).Offset, "OffsetCommitted"));

    public static CaptureSnapshot ReadSnapshot(Stream stream) =>
        new(FromProto(CaptureSnapshotProto.Parser.ParseFrom(stream).Offset, "CaptureSnapshot"));

    /// <summary>The layout of manifests OC and SN: file, position, skip count, optional GTID.</summary>
    public static SourceOffset ReadLegacyOffset(BinaryReader r) =>
        new(new BinlogPosition(r.ReadString(), r.ReadInt64()), r.ReadInt32(), WireFormat.ReadOptional(r));

    private static CaptureOffsetProto ToProto(SourceOffset offset)
    {
        var binlog = new BinlogOffsetProto
        {
            File = offset.Position.File,
            Position = offset.Position.Position,
            SkipRows = offset.SkipRows,
        };
        if (offset.Gtid is not null)
        {
            binlog.Gtid = offset.Gtid;
        }

        if (offset.Server is { } server)
        {
            binlog.Server = new SourceServerProto { ServerId = server.ServerId, Endpoint = server.Endpoint };
            if (server.Uuid is not null)
            {
                binlog.Server.ServerUuid = server.Uuid;
            }
        }

        return new CaptureOffsetProto { Binlog = binlog };
    }

    private static SourceOffset FromProto(CaptureOffsetProto? offset, string message)
    {
        if (offset?.KindCase != CaptureOffsetProto.KindOneofCase.Binlog)
        {
            throw new SerializationException(
                offset is null
                    ? $"A persisted {message} holds no offset."
                    : $"A persisted {message} holds an offset of a source kind this release does not know: a newer release wrote it. Run that release, or reset the capture's offset.");
        }

        var binlog = offset.Binlog;
        return new SourceOffset(new BinlogPosition(binlog.File, binlog.Position), binlog.SkipRows, binlog.HasGtid ? binlog.Gtid : null)
        {
            Server = binlog.Server is { } server ? new SourceServer(server.ServerId, server.HasServerUuid ? server.ServerUuid : null, server.Endpoint) : null,
        };
    }
}
