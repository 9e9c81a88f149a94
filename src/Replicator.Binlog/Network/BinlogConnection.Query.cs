using System.Text;
using Replicator.Binlog.Protocol;

namespace Replicator.Binlog.Network;

/// <summary>
/// COM_QUERY and the text result set: column count, column definitions, an EOF unless
/// CLIENT_DEPRECATE_EOF, rows of length-encoded strings (0xFB for NULL), and an EOF (or an OK
/// with header 0xFE) at the end.
/// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_query_response_text_resultset.html
/// </summary>
public sealed partial class BinlogConnection
{
    private const byte LocalInfileHeader = 0xFB;

    /// <summary>
    /// Runs one statement and returns its first result set (further result sets are read and
    /// dropped). Errors from the server become a <see cref="BinlogServerException"/>; the statement
    /// text is not repeated in messages, since it may hold secrets. Each wait for the server is
    /// bounded by <see cref="BinlogClientOptions.ReadTimeout"/>, so this is for short statements
    /// (checks, SHOW commands), not long-running queries.
    /// </summary>
    public async ValueTask<QueryResult> QueryAsync(string sql, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(sql);
        Enter();
        try
        {
            return await RunQueryAsync(sql, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Leave();
        }
    }

    /// <summary>Runs one statement for its effect.</summary>
    public async ValueTask<ulong> ExecuteAsync(string sql, CancellationToken cancellationToken = default) =>
        (await QueryAsync(sql, cancellationToken).ConfigureAwait(false)).AffectedRows;

    private async ValueTask<QueryResult> RunQueryAsync(string sql, CancellationToken cancellationToken, string? doing = null)
    {
        _channel.ResetSequence();
        var command = new PacketWriter(Encoding.UTF8.GetMaxByteCount(sql.Length) + 1)
            .WriteByte((byte)CommandCode.Query)
            .WriteString(sql);
        await _channel.WritePayloadAsync(command.Payload, cancellationToken).ConfigureAwait(false);

        QueryResult? first = null;
        while (true)
        {
            var (result, status) = await ReadResultAsync(doing, cancellationToken).ConfigureAwait(false);
            first ??= result;
            if (!status.HasFlag(ServerStatusFlags.MoreResultsExist))
            {
                return first;
            }
        }
    }

    private async ValueTask<(QueryResult Result, ServerStatusFlags Status)> ReadResultAsync(string? doing, CancellationToken cancellationToken)
    {
        var payload = await _channel.ReadPayloadAsync(cancellationToken).ConfigureAwait(false);
        switch (payload.Span.IsEmpty ? (byte)0xFF : payload.Span[0])
        {
            case ErrorPacket.Header when !payload.IsEmpty:
                throw StatementError(ErrorPacket.Parse(payload.Span), doing);
            case OkPacket.Header:
            {
                var ok = OkPacket.Parse(payload.Span);
                return (new QueryResult([], [], ok.AffectedRows), ok.Status);
            }

            case LocalInfileHeader:
                throw new BinlogConnectionException($"the source {Endpoint} asked this client to send a local file (LOAD DATA LOCAL INFILE), which it never does");
        }

        if (payload.IsEmpty)
        {
            throw new BinlogConnectionException($"the source {Endpoint} sent an empty packet where a result was expected");
        }

        var columnCount = ReadColumnCount(payload.Span);
        var columns = new string[columnCount];
        for (var i = 0; i < columnCount; i++)
        {
            payload = await _channel.ReadPayloadAsync(cancellationToken).ConfigureAwait(false);
            columns[i] = ReadColumnName(payload.Span);
        }

        if (!DeprecateEof)
        {
            payload = await _channel.ReadPayloadAsync(cancellationToken).ConfigureAwait(false);
            if (!OkPacket.IsEndOfData(payload.Span))
            {
                throw new BinlogConnectionException($"the source {Endpoint} did not end the column definitions with an EOF packet");
            }
        }

        var rows = new List<string?[]>();
        while (true)
        {
            payload = await _channel.ReadPayloadAsync(cancellationToken).ConfigureAwait(false);
            if (ErrorPacket.Is(payload.Span))
            {
                throw StatementError(ErrorPacket.Parse(payload.Span), doing);
            }

            if (OkPacket.IsEndOfData(payload.Span))
            {
                var status = OkPacket.ParseEndOfData(payload.Span, DeprecateEof);
                return (new QueryResult(columns, rows, (ulong)rows.Count), status);
            }

            rows.Add(ReadRow(payload.Span, columnCount));
        }
    }

    private static int ReadColumnCount(ReadOnlySpan<byte> payload)
    {
        var reader = new ByteReader(payload);
        return checked((int)reader.ReadLengthEncodedInteger());
    }

    /// <summary>ColumnDefinition41: catalog, schema, table, org_table, name, org_name, then fixed fields.</summary>
    private static string ReadColumnName(ReadOnlySpan<byte> payload)
    {
        var reader = new ByteReader(payload);
        for (var i = 0; i < 4; i++)
        {
            reader.ReadLengthEncodedBytes();
        }

        return reader.ReadLengthEncodedString();
    }

    private static string?[] ReadRow(ReadOnlySpan<byte> payload, int columnCount)
    {
        var reader = new ByteReader(payload);
        var row = new string?[columnCount];
        for (var i = 0; i < columnCount; i++)
        {
            var length = reader.ReadLengthEncodedIntegerOrNull();
            row[i] = length is { } n ? Encoding.UTF8.GetString(reader.ReadBytes(checked((int)n))) : null;
        }

        return row;
    }

    private BinlogServerException StatementError(ErrorPacket error, string? doing = null) =>
        new(error.Code, error.SqlState, error.Message,
            $"the source {Endpoint} refused {doing ?? "a statement"}: {error.Message} (error {error.Code}, SQLSTATE {error.SqlState}){PrivilegeHint(error.Code)}");

    private static string PrivilegeHint(int code) => code switch
    {
        1227 or 1044 or 1142 => "; grant the capture user what it needs: REPLICATION SLAVE, and REPLICATION CLIENT (BINLOG MONITOR on MariaDB)",
        _ => "",
    };
}
