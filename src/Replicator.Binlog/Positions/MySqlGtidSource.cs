namespace Replicator.Binlog.Positions;

/// <summary>The UUID of a MySQL GTID and its tag (MySQL 8.4+, lower case), null for an untagged GTID.</summary>
public readonly record struct MySqlGtidSource(Guid SourceId, string? Tag) : IComparable<MySqlGtidSource>
{
    public int CompareTo(MySqlGtidSource other)
    {
        var byId = string.CompareOrdinal(SourceId.ToString("D"), other.SourceId.ToString("D"));
        return byId != 0 ? byId : string.CompareOrdinal(Tag ?? "", other.Tag ?? "");
    }
}
