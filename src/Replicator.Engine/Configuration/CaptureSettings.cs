using System.Globalization;
using Akka.Configuration;

namespace Replicator.Engine.Configuration;

/// <summary>How capture delivers and commits (replicator.capture).</summary>
/// <param name="MaxInFlightBytes">Estimated wire bytes of the changes in flight at most (with <paramref name="MaxInFlight"/> changes).</param>
/// <param name="MaxFrameSize">The largest message between nodes: Akka's maximum-frame-size, which this sets. A change larger than fits in one cannot be delivered.</param>
/// <param name="MaxDeliveryBytes">Deliveries are cut at this many estimated bytes (with <paramref name="MaxChangesPerDelivery"/> changes); a larger change goes alone.</param>
/// <param name="MaxHeldXaChanges">Row changes of pending XA prepares held in memory until their outcome, at most (with <paramref name="MaxHeldXaBytes"/> estimated bytes).</param>
public sealed record CaptureSettings(
    int MaxInFlight,
    int MaxChangesPerDelivery,
    TimeSpan OffsetCommitInterval,
    int SnapshotEvery,
    TimeSpan RedeliveryTimeout,
    TimeSpan ReconnectMinBackoff,
    TimeSpan ReconnectMaxBackoff,
    long MaxInFlightBytes,
    long MaxFrameSize,
    long MaxDeliveryBytes,
    int MaxHeldXaChanges,
    long MaxHeldXaBytes)
{
    /// <summary>What a delivery needs besides its changes, at most: its own fields and the remoting envelope (recipient and sender paths, serializer, manifest).</summary>
    public const long DeliveryOverhead = 4096;

    /// <summary>The Akka frame settings that <see cref="MaxFrameSize"/> stands for.</summary>
    private const string FrameSizePath = "akka.remote.dot-netty.tcp.maximum-frame-size";
    private const string SendBufferPath = "akka.remote.dot-netty.tcp.send-buffer-size";
    private const string ReceiveBufferPath = "akka.remote.dot-netty.tcp.receive-buffer-size";

    /// <summary>The largest change that fits in a delivery of its own.</summary>
    public long MaxChangeBytes => MaxFrameSize - DeliveryOverhead;

    internal static CaptureSettings Read(ConfigReader reader)
    {
        reader.RequireOnly(
            "max-in-flight", "max-in-flight-bytes", "max-changes-per-delivery", "max-delivery-bytes", "max-frame-size",
            "offset-commit-interval", "snapshot-every", "redelivery-timeout", "reconnect-min-backoff", "reconnect-max-backoff",
            "max-held-xa-changes", "max-held-xa-bytes");
        var min = reader.Duration("reconnect-min-backoff", TimeSpan.FromMilliseconds(10), TimeSpan.FromHours(1));
        var max = reader.Duration("reconnect-max-backoff", TimeSpan.FromMilliseconds(10), TimeSpan.FromHours(1));
        if (max < min)
        {
            throw reader.Error("reconnect-max-backoff", $"({max}) must not be shorter than reconnect-min-backoff ({min}).");
        }

        // The socket buffers are twice the frame, and Akka reads them as ints.
        var frame = reader.ByteSize("max-frame-size", 32L << 10, 256L << 20);
        var delivery = reader.ByteSize("max-delivery-bytes", 1L << 10, 1L << 30);
        if (delivery > frame - DeliveryOverhead)
        {
            throw reader.Error("max-delivery-bytes", $"({Bytes(delivery)} bytes) must leave {Bytes(DeliveryOverhead)} bytes of max-frame-size ({Bytes(frame)} bytes) for the message's envelope: lower it, or raise max-frame-size.");
        }

        var inFlightBytes = reader.ByteSize("max-in-flight-bytes", 1L << 20, 1L << 40);
        if (inFlightBytes < frame)
        {
            throw reader.Error("max-in-flight-bytes", $"({Bytes(inFlightBytes)} bytes) must be at least max-frame-size ({Bytes(frame)} bytes), or the largest change that can be delivered could never be read.");
        }

        return new CaptureSettings(
            reader.Int("max-in-flight", 1, 10_000_000),
            reader.Int("max-changes-per-delivery", 1, 100_000),
            reader.Duration("offset-commit-interval", TimeSpan.FromMilliseconds(10), TimeSpan.FromMinutes(10)),
            reader.Int("snapshot-every", 1, 1_000_000),
            reader.Duration("redelivery-timeout", TimeSpan.FromMilliseconds(100), TimeSpan.FromHours(1)),
            min,
            max,
            inFlightBytes,
            frame,
            delivery,
            reader.Int("max-held-xa-changes", 1, 100_000_000),
            reader.ByteSize("max-held-xa-bytes", 1L << 10, 1L << 40));
    }

    /// <summary>
    /// The Akka remoting settings that carry deliveries of up to <see cref="MaxFrameSize"/>: the
    /// frame, and socket buffers of twice that. A node's own config that sets them to something that
    /// does not agree is refused, naming both keys: messages over a receiver's frame are dropped
    /// without a word, so every node must use the same replicator.capture.max-frame-size.
    /// </summary>
    public Config RemoteConfig(Config nodeConfig)
    {
        if (nodeConfig.HasPath(FrameSizePath) && nodeConfig.GetByteSize(FrameSizePath) is { } set && set != MaxFrameSize)
        {
            throw new ConfigurationException(
                $"{FrameSizePath} ({Bytes(set)} bytes) differs from replicator.capture.max-frame-size ({Bytes(MaxFrameSize)} bytes). Set only replicator.capture.max-frame-size, the same on every node: it sets Akka's frame and socket buffers.");
        }

        foreach (var path in new[] { SendBufferPath, ReceiveBufferPath })
        {
            if (nodeConfig.HasPath(path) && nodeConfig.GetByteSize(path) is { } buffer && buffer < MaxFrameSize)
            {
                throw new ConfigurationException(
                    $"{path} ({Bytes(buffer)} bytes) is smaller than replicator.capture.max-frame-size ({Bytes(MaxFrameSize)} bytes). Leave it out (it is set to twice the frame) or raise it.");
            }
        }

        var frame = MaxFrameSize.ToString(CultureInfo.InvariantCulture);
        var buffers = (MaxFrameSize * 2).ToString(CultureInfo.InvariantCulture);
        return ConfigurationFactory.ParseString($"{FrameSizePath} = {frame}b\n{SendBufferPath} = {buffers}b\n{ReceiveBufferPath} = {buffers}b");
    }

    /// <summary>A byte count as people read it (1,048,576), whatever the machine's culture.</summary>
    public static string Bytes(long count) => count.ToString("N0", CultureInfo.InvariantCulture);
}
