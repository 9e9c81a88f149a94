namespace Replicator.Binlog.Positions;

/// <summary>Transaction numbers from <see cref="Start"/> (inclusive) to <see cref="End"/> (exclusive), as the binary GTID set encodes them.</summary>
public readonly record struct GtidInterval(long Start, long End);
