using System.Runtime.CompilerServices;
using Akka.Event;
using Replicator.Binlog.Columns;
using Replicator.Binlog.Network;
using Replicator.Binlog.Positions;
using Replicator.Engine.Offsets;
using Replicator.Engine.Serialization;

namespace Replicator.Engine.Capture;

/// <summary>
/// The <c>mysql-binlog</c> source: checks the server (settings, privileges, keys, the saved
/// position), plans where to resume (the saved position, or its GTID on another server), streams
/// the binlog through a <see cref="ChangeExtractor"/>, and hands over at transaction ends, on
/// heartbeats and in chunks no larger than the credit pool. Touches no actor state.
/// </summary>
internal sealed class BinlogChangeSource(BinlogSourceStart start) : IChangeSource
{
    private const int FlushItems = 512;

    public async IAsyncEnumerable<IReadOnlyList<CaptureItem>> ReadAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var args = start;

        // Checks the source first: a setting or privilege problem, or a purged saved position, is
        // one clear error rather than a failed dump.
        // The saved position is checked by PlanResumeAsync, once it knows the position is this server's.
        foreach (var warning in await SourcePreflight.CheckAsync(args.ConnectionString, args.Client.ServerId, null, cancellationToken).ConfigureAwait(false))
        {
            args.Log.Warning("Capture {0}: {1}", args.Source, warning);
        }

        var plan = await SourcePreflight.PlanResumeAsync(args.ConnectionString, args.Source, args.Saved, args.Start, cancellationToken).ConfigureAwait(false);
        foreach (var warning in plan.Warnings)
        {
            args.Log.Warning("Capture {0}: {1}", args.Source, warning);
        }

        yield return [new SourceIdentified(plan.Server, plan.ServerChanged)];
        var metadata = await SourcePreflight.RowMetadataAsync(args.ConnectionString, cancellationToken).ConfigureAwait(false);
        if (metadata.Full)
        {
            args.Log.Info("Capture {0}: {1}", args.Source, metadata.Description);
        }
        else
        {
            args.Log.Warning("Capture {0}: {1}", args.Source, metadata.Description);
        }

        await SourcePreflight.CheckKeysAsync(args.ConnectionString, args.Filter, args.KeyColumns, cancellationToken).ConfigureAwait(false);
        await using var client = new BinlogClient(args.Client with { Start = plan.Start });

        // On another server the saved restart point is not where its transaction is: its rows are read again rather than skipped.
        var extractor = new ChangeExtractor(args.Source, args.Filter, args.KeyColumns, plan.ServerChanged ? null : args.Resume, plan.Gtids ?? args.Gtids, pauseUnmappable: true, strictPartialJson: true)
        {
            ResyncedThrough = args.ResyncedThrough,
            SchemaHistory = (args.SchemaSource as Schema.MySqlSchemaSource)?.History,
            KnownXaOutcomes = plan.ServerChanged ? new Dictionary<BinlogPosition, XaOutcome>() : args.KnownXaOutcomes,
            MaxHeldChanges = args.MaxHeldXaChanges,
            MaxHeldBytes = args.MaxHeldXaBytes,
        };
        var items = new List<CaptureItem>(FlushItems * 2);
        var changes = 0;
        await foreach (var binlogEvent in client.ReadEventsAsync(cancellationToken).ConfigureAwait(false))
        {
            var before = items.Count;
            extractor.Process(binlogEvent, items);
            for (var i = before; i < items.Count; i++)
            {
                switch (items[i])
                {
                    case ChangeCaptured:
                        changes++;
                        break;
                    case SchemaChanged changed:
                        args.SchemaSource?.Invalidate(changed.Schema, changed.Table);
                        break;
                    case XaRereadNeeded reread:
                        // Nothing read from here on stands: the capture reads again from its offset,
                        // knowing this outcome. What this batch holds is read again too, so it is not handed over.
                        yield return [reread];
                        await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
                        yield break;
                }
            }

            // Hand over at transaction ends, on heartbeats, and before a batch could take more credits than the pool holds.
            if (items.Count > 0 && (items.Count >= FlushItems || changes >= args.MaxInFlight || !extractor.InTransaction || binlogEvent is Binlog.Events.HeartbeatEvent))
            {
                await foreach (var chunk in HandOverAsync(items, changes, cancellationToken).ConfigureAwait(false))
                {
                    yield return chunk;
                }

                items = new List<CaptureItem>(FlushItems * 2);
                changes = 0;
            }
        }
    }

    /// <summary>
    /// Cuts the items into chunks of at most max-in-flight changes and max-in-flight-bytes of their
    /// estimated wire size, taking credits for each chunk before it goes: a rows event can hold
    /// thousands of rows, or rows of megabytes, and none of them is handed over while a pool is empty.
    /// </summary>
    private async IAsyncEnumerable<List<CaptureItem>> HandOverAsync(List<CaptureItem> items, int changes, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var args = start;
        var sizes = new long[items.Count];
        long bytes = 0;
        for (var i = 0; i < items.Count; i++)
        {
            if (items[i] is ChangeCaptured captured)
            {
                bytes += sizes[i] = WireFormat.EstimatedSize(captured.Change);
            }
        }

        if (changes <= args.MaxInFlight && bytes <= args.MaxInFlightBytes)
        {
            if (changes > 0)
            {
                await args.Credits.AcquireAsync(changes, bytes, cancellationToken).ConfigureAwait(false);
            }

            yield return items;
            yield break;
        }

        var chunk = new List<CaptureItem>();
        var inChunk = 0;
        long chunkBytes = 0;
        for (var i = 0; i < items.Count; i++)
        {
            var item = items[i];
            if (item is ChangeCaptured && inChunk > 0 && (inChunk == args.MaxInFlight || chunkBytes + sizes[i] > args.MaxInFlightBytes))
            {
                await args.Credits.AcquireAsync(inChunk, chunkBytes, cancellationToken).ConfigureAwait(false);
                yield return chunk;
                chunk = [];
                inChunk = 0;
                chunkBytes = 0;
            }

            chunk.Add(item);
            if (item is ChangeCaptured)
            {
                inChunk++;
                chunkBytes += sizes[i];
            }
        }

        if (inChunk > 0)
        {
            await args.Credits.AcquireAsync(inChunk, chunkBytes, cancellationToken).ConfigureAwait(false);
        }

        yield return chunk;
    }
}

/// <summary>Where and how a <see cref="BinlogChangeSource"/> reads: its saved offset (null on a first start) and everything it needs from the capture's settings.</summary>
internal sealed record BinlogSourceStart(
    string ConnectionString,
    SourceOffset? Saved,
    StartPosition Start,
    ILoggingAdapter Log,
    BinlogClientOptions Client,
    string Source,
    TableFilter Filter,
    IReadOnlyDictionary<string, IReadOnlyList<string>> KeyColumns,
    ResumePoint? Resume,
    MariaDbGtidPosition? Gtids,
    ITableSchemaSource? SchemaSource,
    FlowControl Credits,
    int MaxInFlight,
    long MaxInFlightBytes,
    BinlogPosition? ResyncedThrough,
    IReadOnlyDictionary<BinlogPosition, XaOutcome> KnownXaOutcomes,
    int MaxHeldXaChanges,
    long MaxHeldXaBytes);
