using System.Runtime.ExceptionServices;
using Replicator.Binlog.Events;
using Replicator.Binlog.Parsers;

namespace Replicator.Binlog.Network;

public sealed partial class BinlogClient
{
    /// <summary>What <see cref="ReadEventsAsync"/> returns: each enumeration is one connection and one dump.</summary>
    private sealed class EventSequence(BinlogClient client, CancellationToken cancellationToken) : IAsyncEnumerable<BinlogEvent>
    {
        public IAsyncEnumerator<BinlogEvent> GetAsyncEnumerator(CancellationToken enumeratorCancellation = default) =>
            new EventReader(client, cancellationToken, enumeratorCancellation);
    }

    /// <summary>
    /// One enumeration of <see cref="ReadEventsAsync"/>. Written out rather than as an async
    /// iterator so that, while the last socket read still holds whole events, <see cref="MoveNextAsync"/>
    /// decodes the next one where it sits and completes at once: no iterator step, no awaited
    /// read, no state machine per event. Waiting for the socket, opening and closing the
    /// connection, and completing a TABLE_MAP's schema take the awaited path.
    /// <para>
    /// Like an async iterator, it connects on the first <see cref="MoveNextAsync"/>, and closes the
    /// connection (and frees the client for another enumeration) when the dump ends, when reading
    /// or decoding fails (before the exception reaches the caller), or when it is disposed.
    /// </para>
    /// </summary>
    private sealed class EventReader : IAsyncEnumerator<BinlogEvent>
    {
        private readonly BinlogClient _client;
        private readonly CancellationTokenSource? _linked;
        private readonly CancellationToken _cancellationToken;
        private BinlogConnection? _connection;
        private BinlogDumpStream? _stream;
        private BinlogEventDecoder? _decoder;
        // The TRANSACTION_PAYLOAD being handed out a part at a time; it reads the event where it
        // sits in the connection's buffer, which stays put because the stream is not read until it ends.
        private BinlogEventDecoder.PayloadStream? _payload;
        private bool _claimed;
        private bool _finished;

        public EventReader(BinlogClient client, CancellationToken first, CancellationToken second)
        {
            _client = client;
            if (first.CanBeCanceled && second.CanBeCanceled && first != second)
            {
                _linked = CancellationTokenSource.CreateLinkedTokenSource(first, second);
                _cancellationToken = _linked.Token;
            }
            else
            {
                _cancellationToken = first.CanBeCanceled ? first : second;
            }
        }

        public BinlogEvent Current { get; private set; } = null!;

        public ValueTask<bool> MoveNextAsync()
        {
            if (_stream is not { } stream || _finished)
            {
                return MoveNextSlowAsync();
            }

            BinlogEvent? decoded = null;
            try
            {
                if (_payload is not null)
                {
                    decoded = NextPart();
                }

                if (decoded is null)
                {
                    if (!stream.TryReadBuffered(out var streamed))
                    {
                        return MoveNextSlowAsync();
                    }

                    decoded = Decode(streamed);
                }
            }
            catch (Exception e)
            {
                return FailAsync(ExceptionDispatchInfo.Capture(e));
            }

            if (NeedsSchema(decoded))
            {
                return CompleteAndYieldAsync(decoded);
            }

            Current = decoded;
            return new ValueTask<bool>(true);
        }

        public async ValueTask DisposeAsync()
        {
            await FinishAsync().ConfigureAwait(false);
            _linked?.Dispose();
        }

        private async ValueTask<bool> MoveNextSlowAsync()
        {
            if (_finished)
            {
                return false;
            }

            try
            {
                if (_stream is null)
                {
                    await StartAsync().ConfigureAwait(false);
                }

                // Events are decoded where they sit in the connection's read buffer, before the next read.
                if (await _stream!.ReadInPlaceAsync(_cancellationToken).ConfigureAwait(false) is not { } streamed)
                {
                    await FinishAsync().ConfigureAwait(false);
                    return false;
                }

                var decoded = Decode(streamed);
                if (NeedsSchema(decoded))
                {
                    decoded = await CompleteAsync(decoded).ConfigureAwait(false);
                }

                Current = decoded;
                return true;
            }
            catch
            {
                await FinishAsync().ConfigureAwait(false);
                throw;
            }
        }

        private async Task StartAsync()
        {
            var client = _client;
            if (Interlocked.Exchange(ref client._reading, 1) == 1)
            {
                // The other enumeration keeps the client; this one ends without touching it.
                _finished = true;
                throw new InvalidOperationException($"this client is already reading from {client.Options.Endpoint}; it runs one enumeration at a time");
            }

            _claimed = true;
            var connection = await BinlogConnection.OpenAsync(client.Options, _cancellationToken).ConfigureAwait(false);
            _connection = connection;
            Volatile.Write(ref client._connection, connection);
            if (client._disposed)
            {
                throw new BinlogConnectionException($"the connection to {client.Options.Endpoint} was closed by this client");
            }

            client.Server = connection.Server;
            var stream = await connection.StartDumpAsync(_cancellationToken).ConfigureAwait(false);
            // The fake ROTATE that opens a dump comes before the FORMAT_DESCRIPTION, with the checksum the dump announced.
            _decoder = new BinlogEventDecoder(client.Options.Decoder) { Checksum = stream.Checksum };
            _stream = stream;
        }

        private BinlogEvent Decode(StreamedEvent streamed)
        {
            BinlogEvent? decoded = null;
            if (streamed.Header.Type == BinlogEventType.TransactionPayload && _decoder!.Options.StreamTransactionPayloads)
            {
                _payload = _decoder.OpenPayloadStream(streamed.Header, streamed.Data, streamed.File);
                decoded = NextPart();
            }

            // An empty payload is still an event.
            decoded ??= _decoder!.DecodeBorrowed(streamed.Header, streamed.Data, streamed.File);
            if (_stream!.Position is { } position)
            {
                _client.Position = position;
            }

            return decoded;
        }

        /// <summary>The next inner event of the payload being read, or null when it has no more (then the stream is read again).</summary>
        private TransactionPayloadPart? NextPart()
        {
            TransactionPayloadPart? part;
            try
            {
                part = _decoder!.NextPayloadPart(_payload!);
            }
            catch
            {
                _payload = null;
                throw;
            }

            if (part is null || part.IsLast)
            {
                _payload = null;
            }

            return part;
        }

        private bool NeedsSchema(BinlogEvent decoded) =>
            _client.Options.SchemaSource is not null && decoded is TableMapEvent or TransactionPayloadPart { Event: TableMapEvent };

        private async ValueTask<bool> CompleteAndYieldAsync(BinlogEvent decoded)
        {
            try
            {
                Current = await CompleteAsync(decoded).ConfigureAwait(false);
                return true;
            }
            catch
            {
                await FinishAsync().ConfigureAwait(false);
                throw;
            }
        }

        /// <summary>The TABLE_MAP (alone or inside a payload part) with the schema the client's schema source completed.</summary>
        private async ValueTask<BinlogEvent> CompleteAsync(BinlogEvent decoded)
        {
            if (decoded is TransactionPayloadPart { Event: TableMapEvent inner } part)
            {
                var completed = await CompleteAsync(inner).ConfigureAwait(false);
                return ReferenceEquals(completed, inner) ? part : part with { Event = completed };
            }

            return await CompleteAsync((TableMapEvent)decoded).ConfigureAwait(false);
        }

        /// <summary>The TABLE_MAP with the schema the client's schema source completed, which the decoder then uses for its rows.</summary>
        private async ValueTask<BinlogEvent> CompleteAsync(TableMapEvent tableMap)
        {
            var schema = await _client.Options.SchemaSource!.CompleteAsync(tableMap, tableMap.Schema, _cancellationToken).ConfigureAwait(false);
            if (schema is null)
            {
                return tableMap;
            }

            _decoder!.SetSchema(tableMap.TableId, schema);
            return tableMap with { Schema = schema };
        }

        private async ValueTask<bool> FailAsync(ExceptionDispatchInfo failure)
        {
            await FinishAsync().ConfigureAwait(false);
            failure.Throw();
            return false;
        }

        /// <summary>Closes the connection and frees the client, once.</summary>
        private async ValueTask FinishAsync()
        {
            if (_finished)
            {
                return;
            }

            _finished = true;
            _stream = null;
            _payload = null;
            try
            {
                if (_connection is { } connection)
                {
                    Interlocked.CompareExchange(ref _client._connection, null, connection);
                    await connection.DisposeAsync().ConfigureAwait(false);
                }
            }
            finally
            {
                if (_claimed)
                {
                    Volatile.Write(ref _client._reading, 0);
                }
            }
        }
    }
}
