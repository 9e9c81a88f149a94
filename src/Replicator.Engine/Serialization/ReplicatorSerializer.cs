using System.Text;
using Akka.Actor;
using Akka.Serialization;
using Replicator.Engine.Capture;
using Replicator.Engine.Membership;
using Replicator.Engine.Replication;

namespace Replicator.Engine.Serialization;

/// <summary>
/// The serializer of every <see cref="IReplicatorWireMessage"/>: a hand-written binary format per
/// type behind a short, stable manifest. Manifests never change meaning; a new shape gets a new one.
/// </summary>
public sealed class ReplicatorSerializer : SerializerWithStringManifest
{
    private const string DeliverChangesManifest = "DC";
    private const string ChangesFinishedManifest = "CF";
    private const string GetCaptureStatusManifest = "GS";
    private const string CaptureStatusManifest = "CS";
    private const string OffsetCommittedManifest = "OV";
    private const string CaptureSnapshotManifest = "SV";

    // Offsets as written before they were versioned (read only): see OffsetFormat.ReadLegacyOffset.
    private const string LegacyOffsetCommittedManifest = "OC";
    private const string LegacyCaptureSnapshotManifest = "SN";
    private const string DeadLetterParkedManifest = "DP";
    private const string DeadLetterStoreSnapshotManifest = "DS";
    private const string DeadLetterAcceptedManifest = "DA";
    private const string ListDeadLettersManifest = "DL";
    private const string PurgeDeadLettersManifest = "DU";
    private const string DeadLettersPurgedManifest = "DX";
    private const string RetryDeadLettersManifest = "DR";
    private const string DeadLettersRetryingManifest = "DY";
    private const string DeadLetterClearedManifest = "DZ";
    private const string DeadLetterStoreStateManifest = "DT";
    private const string DeadLetterResolvedManifest = "DV";
    private const string ListDeadLetterPageManifest = "DQ";
    private const string DeadLetterPageManifest = "DW";
    private const string DeliveriesReleasedManifest = "RL";
    private const string DeliveriesHeldManifest = "HD";
    private const string MemberFactsManifest = "MF";

    public ReplicatorSerializer(ExtendedActorSystem system)
        : base(system)
    {
    }

    public override int Identifier => 8841;

    public override string Manifest(object o) => o switch
    {
        DeliverChanges => DeliverChangesManifest,
        ChangesFinished => ChangesFinishedManifest,
        GetCaptureStatus => GetCaptureStatusManifest,
        CaptureStatus => CaptureStatusManifest,
        OffsetCommitted => OffsetCommittedManifest,
        CaptureSnapshot => CaptureSnapshotManifest,
        DeadLetterParked => DeadLetterParkedManifest,
        DeadLetterStoreSnapshot => DeadLetterStoreSnapshotManifest,
        DeadLetterAccepted => DeadLetterAcceptedManifest,
        ListDeadLetters => ListDeadLettersManifest,
        PurgeDeadLetters => PurgeDeadLettersManifest,
        DeadLettersPurged => DeadLettersPurgedManifest,
        RetryDeadLetters => RetryDeadLettersManifest,
        DeadLettersRetrying => DeadLettersRetryingManifest,
        DeadLetterCleared => DeadLetterClearedManifest,
        DeadLetterStoreState => DeadLetterStoreStateManifest,
        DeadLetterResolved => DeadLetterResolvedManifest,
        ListDeadLetterPage => ListDeadLetterPageManifest,
        DeadLetterPage => DeadLetterPageManifest,
        DeliveriesReleased => DeliveriesReleasedManifest,
        DeliveriesHeld => DeliveriesHeldManifest,
        MemberFacts => MemberFactsManifest,
        _ => throw new ArgumentException($"{o.GetType()} is not a Replicator wire message; add it to {nameof(ReplicatorSerializer)}.", nameof(o)),
    };

    public override byte[] ToBinary(object obj)
    {
        using var stream = new MemoryStream(256);
        using (var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
        {
            Write(w, obj);
        }

        return stream.ToArray();
    }

    /// <summary>
    /// Reads a message. A malformed one (truncated, a count larger than its bytes can hold, an unknown
    /// value kind: a corrupt or hostile peer) is a <see cref="System.Runtime.Serialization.SerializationException"/>
    /// naming the manifest; counts are checked against the bytes left before anything is allocated.
    /// </summary>
    public override object FromBinary(byte[] bytes, string manifest)
    {
        using var stream = new MemoryStream(bytes, writable: false);
        using var r = new BinaryReader(stream, Encoding.UTF8);
        try
        {
            return Read(r, manifest);
        }
        catch (Exception e) when (e is EndOfStreamException or FormatException or OverflowException or System.Runtime.Serialization.SerializationException or ArgumentException or IOException)
        {
            throw new System.Runtime.Serialization.SerializationException($"A malformed Replicator message '{manifest}' ({bytes.Length} bytes, failed at byte {stream.Position}): {e.Message}", e);
        }
    }

    private static void Write(BinaryWriter w, object obj)
    {
        switch (obj)
        {
            case DeliverChanges deliver:
                w.Write(deliver.Definition);
                w.Write(deliver.Bucket);
                w.Write(deliver.Epoch);
                w.Write(deliver.SettledBelow);
                w.Write7BitEncodedInt(deliver.Changes.Count);
                foreach (var change in deliver.Changes)
                {
                    w.Write(change.Sequence);
                    WireFormat.WriteChange(w, change.Change);
                }

                return;
            case ChangesFinished finished:
                WriteSequences(w, finished.Definition, finished.Bucket, finished.Epoch, finished.Sequences);
                return;
            case DeliveriesReleased released:
                WriteSequences(w, released.Definition, released.Bucket, released.Epoch, released.Sequences);
                return;
            case DeliveriesHeld held:
                WriteSequences(w, held.Definition, held.Bucket, held.Epoch, held.Sequences);
                return;
            case GetCaptureStatus:
            case DeadLetterAccepted:
            case ListDeadLetters:
            case PurgeDeadLetters:
            case RetryDeadLetters:
                return;
            case DeadLettersRetrying retrying:
                w.Write(retrying.Count);
                return;
            case DeadLetterCleared cleared:
                w.Write(cleared.Schema);
                w.Write(cleared.Table);
                w.Write(cleared.Pk);
                w.Write(cleared.RetriedAt.Ticks);
                return;
            case DeadLetterResolved resolved:
                w.Write(resolved.ParkSequence);
                return;
            case DeadLetterStoreState state:
                w.Write(state.LastParkSequence);
                w.Write7BitEncodedInt(state.Entries.Count);
                foreach (var entry in state.Entries)
                {
                    w.Write(entry.ParkSequence);
                    WriteDeadLetter(w, entry.Letter);
                }

                return;
            case DeadLettersPurged purged:
                w.Write(purged.Count);
                return;
            case CaptureStatus status:
                w.Write(status.Source);
                w.Write(status.State.Text());
                w.Write(status.Epoch);
                WriteOptionalOffset(w, status.PersistedOffset);
                WriteOptionalOffset(w, status.CurrentOffset);
                w.Write(status.ChangesCaptured);
                w.Write(status.Outstanding);
                w.Write(status.Reconnects);
                WireFormat.WriteOptional(w, status.LastError);
                WireFormat.WriteOptionalTime(w, status.LastCommitUtc);

                // A trailing field (older readers stop before it): the server the persisted offset is bound to.
                WriteOptionalServer(w, status.PersistedOffset?.Server);
                return;
            case OffsetCommitted committed:
                w.Write(OffsetFormat.ToBytes(committed));
                return;
            case CaptureSnapshot snapshot:
                w.Write(OffsetFormat.ToBytes(snapshot));
                return;
            case DeadLetterParked parked:
                WriteDeadLetter(w, parked);
                return;
            case ListDeadLetterPage ask:
                w.Write(ask.Offset);
                w.Write(ask.Limit);
                return;
            case DeadLetterPage page:
                w.Write(page.Total);
                w.Write(page.Offset);
                w.Write(page.Next ?? -1);
                w.Write7BitEncodedInt(page.Entries.Count);
                foreach (var entry in page.Entries)
                {
                    WriteDeadLetter(w, entry);
                }

                return;
            case DeadLetterStoreSnapshot store:
                w.Write7BitEncodedInt(store.Entries.Count);
                foreach (var entry in store.Entries)
                {
                    WriteDeadLetter(w, entry);
                }

                return;
            case MemberFacts facts:
                w.Write(facts.ClusterName);
                w.Write(facts.DefinitionsFingerprint);
                w.Write(facts.Journal);
                w.Write(facts.Answer);
                return;
            default:
                throw new ArgumentException($"{obj.GetType()} is not a Replicator wire message.", nameof(obj));
        }
    }

    private static object Read(BinaryReader r, string manifest)
    {
        switch (manifest)
        {
            case DeliverChangesManifest:
            {
                var definition = r.ReadString();
                var bucket = r.ReadInt32();
                var epoch = r.ReadString();
                var settledBelow = r.ReadInt64();
                var changes = new SequencedChange[WireFormat.ReadCount(r, 9, "changes")];
                for (var i = 0; i < changes.Length; i++)
                {
                    changes[i] = new SequencedChange(r.ReadInt64(), WireFormat.ReadChange(r));
                }

                return new DeliverChanges(definition, bucket, epoch, settledBelow, changes);
            }

            case ChangesFinishedManifest:
            {
                var (definition, bucket, epoch, sequences) = ReadSequences(r);
                return new ChangesFinished(definition, bucket, epoch, sequences);
            }

            case DeliveriesReleasedManifest:
            {
                var (definition, bucket, epoch, sequences) = ReadSequences(r);
                return new DeliveriesReleased(definition, bucket, epoch, sequences);
            }

            case DeliveriesHeldManifest:
            {
                var (definition, bucket, epoch, sequences) = ReadSequences(r);
                return new DeliveriesHeld(definition, bucket, epoch, sequences);
            }

            case GetCaptureStatusManifest:
                return GetCaptureStatus.Instance;
            case DeadLetterAcceptedManifest:
                return DeadLetterAccepted.Instance;
            case ListDeadLettersManifest:
                return ListDeadLetters.Instance;
            case PurgeDeadLettersManifest:
                return PurgeDeadLetters.Instance;
            case DeadLettersPurgedManifest:
                return new DeadLettersPurged(r.ReadInt32());
            case RetryDeadLettersManifest:
                return RetryDeadLetters.Instance;
            case DeadLettersRetryingManifest:
                return new DeadLettersRetrying(r.ReadInt32());
            case DeadLetterClearedManifest:
                return new DeadLetterCleared(r.ReadString(), r.ReadString(), r.ReadString(), new DateTime(r.ReadInt64(), DateTimeKind.Utc));
            case DeadLetterResolvedManifest:
                return new DeadLetterResolved(r.ReadInt64());
            case DeadLetterStoreStateManifest:
            {
                var last = r.ReadInt64();
                var entries = new StoredDeadLetter[WireFormat.ReadCount(r, 9, "dead letters")];
                for (var i = 0; i < entries.Length; i++)
                {
                    entries[i] = new StoredDeadLetter(r.ReadInt64(), ReadDeadLetter(r));
                }

                return new DeadLetterStoreState(last, entries);
            }

            case CaptureStatusManifest:
            {
                var status = new CaptureStatus(
                    r.ReadString(),
                    CaptureStates.Parse(r.ReadString()),
                    r.ReadString(),
                    ReadOptionalOffset(r),
                    ReadOptionalOffset(r),
                    r.ReadInt64(),
                    r.ReadInt64(),
                    r.ReadInt64(),
                    WireFormat.ReadOptional(r),
                    WireFormat.ReadOptionalTime(r));

                // Written by versions that send the offset's server: absent from older nodes' statuses.
                return r.BaseStream.Position < r.BaseStream.Length && ReadOptionalServer(r) is { } server && status.PersistedOffset is { } persisted
                    ? status with { PersistedOffset = persisted with { Server = server } }
                    : status;
            }

            case OffsetCommittedManifest:
                return OffsetFormat.ReadCommitted(r.BaseStream);
            case CaptureSnapshotManifest:
                return OffsetFormat.ReadSnapshot(r.BaseStream);
            case LegacyOffsetCommittedManifest:
                return new OffsetCommitted(OffsetFormat.ReadLegacyOffset(r));
            case LegacyCaptureSnapshotManifest:
                return new CaptureSnapshot(OffsetFormat.ReadLegacyOffset(r));
            case DeadLetterParkedManifest:
                return ReadDeadLetter(r);
            case ListDeadLetterPageManifest:
                return new ListDeadLetterPage(r.ReadInt32(), r.ReadInt32());
            case DeadLetterPageManifest:
            {
                var total = r.ReadInt32();
                var offset = r.ReadInt32();
                var next = r.ReadInt32();
                var entries = new DeadLetterParked[WireFormat.ReadCount(r, 1, "dead letters")];
                for (var i = 0; i < entries.Length; i++)
                {
                    entries[i] = ReadDeadLetter(r);
                }

                return new DeadLetterPage(total, offset, entries, next < 0 ? null : next);
            }

            case DeadLetterStoreSnapshotManifest:
            {
                var entries = new DeadLetterParked[WireFormat.ReadCount(r, 1, "dead letters")];
                for (var i = 0; i < entries.Length; i++)
                {
                    entries[i] = ReadDeadLetter(r);
                }

                return new DeadLetterStoreSnapshot(entries);
            }

            case MemberFactsManifest:
                return new MemberFacts(r.ReadString(), r.ReadString(), r.ReadString(), r.ReadBoolean());
            default:
                throw new System.Runtime.Serialization.SerializationException($"Unknown Replicator manifest '{manifest}': a node of a newer version may have sent it.");
        }
    }

    private static void WriteSequences(BinaryWriter w, string definition, int bucket, string epoch, IReadOnlyList<long> sequences)
    {
        w.Write(definition);
        w.Write(bucket);
        w.Write(epoch);
        w.Write7BitEncodedInt(sequences.Count);
        foreach (var sequence in sequences)
        {
            w.Write(sequence);
        }
    }

    private static (string Definition, int Bucket, string Epoch, long[] Sequences) ReadSequences(BinaryReader r)
    {
        var definition = r.ReadString();
        var bucket = r.ReadInt32();
        var epoch = r.ReadString();
        var sequences = new long[WireFormat.ReadCount(r, sizeof(long), "sequences")];
        for (var i = 0; i < sequences.Length; i++)
        {
            sequences[i] = r.ReadInt64();
        }

        return (definition, bucket, epoch, sequences);
    }

    private static void WriteDeadLetter(BinaryWriter w, DeadLetterParked parked)
    {
        w.Write(parked.Definition);
        w.Write(parked.Bucket);
        WireFormat.WriteChange(w, parked.Change);
        w.Write(parked.Error);
        w.Write(parked.Attempts);
        w.Write(parked.FirstFailure.Ticks);
        w.Write(parked.LastFailure.Ticks);
    }

    private static DeadLetterParked ReadDeadLetter(BinaryReader r) =>
        new(
            r.ReadString(),
            r.ReadInt32(),
            WireFormat.ReadChange(r),
            r.ReadString(),
            r.ReadInt32(),
            new DateTime(r.ReadInt64(), DateTimeKind.Utc),
            new DateTime(r.ReadInt64(), DateTimeKind.Utc));

    private static void WriteOptionalServer(BinaryWriter w, Offsets.SourceServer? server)
    {
        w.Write(server is not null);
        if (server is not null)
        {
            w.Write(server.ServerId);
            WireFormat.WriteOptional(w, server.Uuid);
            w.Write(server.Endpoint);
        }
    }

    private static Offsets.SourceServer? ReadOptionalServer(BinaryReader r) =>
        r.ReadBoolean() ? new Offsets.SourceServer(r.ReadUInt32(), WireFormat.ReadOptional(r), r.ReadString()) : null;

    private static void WriteOptionalOffset(BinaryWriter w, Offsets.SourceOffset? offset)
    {
        w.Write(offset is not null);
        if (offset is not null)
        {
            WireFormat.WriteOffset(w, offset);
        }
    }

    private static Offsets.SourceOffset? ReadOptionalOffset(BinaryReader r) => r.ReadBoolean() ? WireFormat.ReadOffset(r) : null;
}
