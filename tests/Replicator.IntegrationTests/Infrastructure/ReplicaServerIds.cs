namespace Replicator.IntegrationTests.Infrastructure;

/// <summary>Replica server ids for the capture suite's readers: 3001 and up, one per use, so no two readers of one server share an id.</summary>
public static class ReplicaServerIds
{
    private static int _next = 3000;

    public static string Next() => Interlocked.Increment(ref _next).ToString(System.Globalization.CultureInfo.InvariantCulture);
}
