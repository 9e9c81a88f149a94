using Replicator.Binlog.Positions;

namespace Replicator.Binlog.Network;

/// <summary>
/// Where a dump was asked to start, resolved to what the dump command carries: a file and offset,
/// or (with an empty file name and offset 4) a MariaDB GTID position or a MySQL GTID set.
/// </summary>
internal sealed record DumpStart(string File, long Position, MariaDbGtidPosition? MariaDbGtids = null, MySqlGtidSet? MySqlGtids = null)
{
    public bool IsGtid => MariaDbGtids is not null || MySqlGtids is not null;

    public override string ToString() => this switch
    {
        { MariaDbGtids: { } gtids } => $"GTID position '{gtids}'",
        { MySqlGtids: { } set } => $"GTID set '{set}'",
        _ => $"binlog position {File}:{Position}",
    };
}
