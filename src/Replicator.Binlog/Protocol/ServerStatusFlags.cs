namespace Replicator.Binlog.Protocol;

/// <summary>The status flags of OK and EOF packets that the client looks at.</summary>
[Flags]
internal enum ServerStatusFlags : ushort
{
    None = 0,
    InTransaction = 0x0001,
    AutoCommit = 0x0002,
    MoreResultsExist = 0x0008,
}
