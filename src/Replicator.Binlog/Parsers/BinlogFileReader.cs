using System.Runtime.CompilerServices;
using Replicator.Binlog.Columns;
using Replicator.Binlog.Events;

namespace Replicator.Binlog.Parsers;

/// <summary>Reads binlog files from disk with the same decoder the network path uses.</summary>
public static class BinlogFileReader
{
    /// <summary>
    /// The events of <paramref name="path"/> in order, after checking its 4-byte magic header.
    /// </summary>
    public static IAsyncEnumerable<BinlogEvent> ReadAsync(
        string path,
        ITableSchemaSource? schemaSource = null,
        BinlogDecoderOptions? options = null,
        CancellationToken cancellationToken = default) => throw new NotImplementedException();
}
