using Replicator.Binlog.Columns;
using Replicator.Binlog.Events;

namespace Replicator.Binlog.Parsers;

/// <summary>
/// Turns raw binlog events (common header + body + checksum) into <see cref="BinlogEvent"/>s. It
/// keeps the state a stream needs: the current FORMAT_DESCRIPTION and the table map of each table
/// id. The network client and the offline file reader both feed it, so both decode identically.
/// </summary>
public sealed partial class BinlogEventDecoder
{
    public BinlogEventDecoder(BinlogDecoderOptions? options = null)
    {
        Options = options ?? BinlogDecoderOptions.Default;
    }

    public BinlogDecoderOptions Options { get; }

    /// <summary>The last FORMAT_DESCRIPTION_EVENT seen, null before the first.</summary>
    public FormatDescriptionEvent? Format { get; private set; }

    /// <summary>Decodes one event. <paramref name="rawEvent"/> must be owned by the caller and not reused: values may refer to it.</summary>
    public BinlogEvent Decode(ReadOnlyMemory<byte> rawEvent, string file) => throw new NotImplementedException();

    /// <summary>Replaces the schema used for a table id's rows, after an <see cref="ITableSchemaSource"/> completed it.</summary>
    public void SetSchema(ulong tableId, TableSchema schema) => throw new NotImplementedException();
}
