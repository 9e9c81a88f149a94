using Replicator.Binlog.Positions;

namespace Replicator.Engine.Capture;

/// <summary>
/// Where capture resumes: the start of the oldest unfinished transaction, and how many of its row
/// images were already handled (they are read again but not emitted).
/// </summary>
public sealed record ResumePoint(BinlogPosition Position, int SkipRows);
