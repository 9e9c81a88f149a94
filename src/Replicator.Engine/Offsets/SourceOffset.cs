using Replicator.Binlog.Positions;

namespace Replicator.Engine.Offsets;

/// <summary>
/// A capture's persisted offset: the restart point at the start of a transaction, how many of that
/// transaction's row images were already handled, the MariaDB GTID position before it, and the
/// server whose binlog the position is in.
/// </summary>
/// <param name="Position">Where to start reading: the first event of a transaction, or the end of the last one.</param>
/// <param name="SkipRows">Row images of the transaction at <paramref name="Position"/> already handled (not emitted again).</param>
/// <param name="Gtid">The MariaDB GTID position (<c>@@gtid_binlog_pos</c> form) matching <paramref name="Position"/>, when known.</param>
/// <remarks>Persisted as the binlog case of a versioned union (Serialization/Protos/capture.proto).</remarks>
public sealed record SourceOffset(BinlogPosition Position, int SkipRows, string? Gtid)
{
    /// <summary>The server <see cref="Position"/> belongs to; null in offsets saved before servers were recorded (adopted on the next start).</summary>
    public SourceServer? Server { get; init; }

    public override string ToString() =>
        SkipRows == 0 ? $"{Position}{(Gtid is null ? "" : $" (gtid {Gtid})")}" : $"{Position}+{SkipRows} rows{(Gtid is null ? "" : $" (gtid {Gtid})")}";
}
