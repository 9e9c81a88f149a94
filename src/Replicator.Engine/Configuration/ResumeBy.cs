namespace Replicator.Engine.Configuration;

/// <summary>How a capture with a saved offset asks the source to resume (replicator.sources.&lt;name&gt;.resume-by).</summary>
public enum ResumeBy
{
    /// <summary>From the saved binlog file and position (the default): exact on the same server.</summary>
    Position,

    /// <summary>
    /// After the saved MariaDB GTID position, when the offset has one (else by position): survives a
    /// switch to another server of the same replication topology, whose file names differ.
    /// </summary>
    Gtid,
}
