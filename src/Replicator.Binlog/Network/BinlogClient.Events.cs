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

            BinlogEvent decoded;
            try
            {
                if (!stream.TryReadBuffered(out var streamed))
                {
                    return MoveNextSlowAsync();
                }

                decoded = Decode(streamed);
            }
            catch (Exception e)
            {
                return FailAsync(ExceptionDispatchInfo.Capture(e));
            }

            if (decoded is TableMapEvent tableMap && _client.Options.SchemaSource is not null)
            {
                return CompleteAndYieldAsync(tableMap);
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
                if (decoded is TableMapEvent tableMap && _client.Options.SchemaSource is not null)
                {
                    decoded = await CompleteAsync(tableMap).ConfigureAwait(false);
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
            var decoded = _decoder!.DecodeBorrowed(streamed.Header, streamed.Data, streamed.File);
            if (_stream!.Position is { } position)
            {
                _client.Position = position;
            }

            return decoded;
        }

        private async ValueTask<bool> CompleteAndYieldAsync(TableMapEvent tableMap)
        {
            try
            {
                Current = await CompleteAsync(tableMap).ConfigureAwait(false);
                return true;
            }
            catch
            {
                await FinishAsync().ConfigureAwait(false);
                throw;
            }
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
