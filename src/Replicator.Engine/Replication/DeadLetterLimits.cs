using Replicator.Engine.Configuration;

namespace Replicator.Engine.Replication;

/// <summary>
/// The sizes dead letters keep to, from the capture's frame settings: a letter at most
/// <paramref name="MaxLetterBytes"/> (the largest change a delivery carries, so a letter crosses
/// nodes and fits a journal row whatever its change), and a page of a listing at most
/// <paramref name="MaxPageBytes"/> (max-delivery-bytes, as deliveries are cut; one letter always goes).
/// </summary>
public sealed record DeadLetterLimits(long MaxLetterBytes, long MaxPageBytes)
{
    /// <summary>The limits of the default replicator.capture settings (a 4 MiB frame, 256 KiB deliveries).</summary>
    public static DeadLetterLimits Default { get; } = new((4L << 20) - CaptureSettings.DeliveryOverhead, 256L << 10);

    /// <summary>The limits that go with a node's capture settings.</summary>
    public static DeadLetterLimits Of(CaptureSettings capture) => new(capture.MaxChangeBytes, capture.MaxDeliveryBytes);
}
