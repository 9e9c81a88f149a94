using System.Globalization;
using Akka.Actor;
using Replicator.Engine.Configuration;
using Replicator.Model;

namespace Replicator.Engine.Jobs.Testing;

/// <summary>
/// Test instrumentation (replicator.testing.apply-ledger): one tab-separated line per sink write,
/// <c>schema.table:pk  version  node  sink  applied|refused  unix-ms</c>, so the fault suite can
/// count duplicates applied and find two nodes writing one pk. Off (a no-op) unless configured;
/// <see cref="LedgerRecordingJob"/> writes it for every job.
/// </summary>
public sealed class ApplyLedger : IExtension, IDisposable
{
    private readonly StreamWriter? _writer;
    private readonly string _node;
    private readonly object _gate = new();

    public ApplyLedger(ExtendedActorSystem system)
    {
        var path = ReplicatorSettings.Create(system).Testing.ApplyLedger;
        _node = system.Provider.DefaultAddress.ToString();
        if (path.Length > 0)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            _writer = new StreamWriter(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };
            system.RegisterOnTermination(Dispose);
        }
    }

    public static ApplyLedger Get(ActorSystem system) => system.WithExtension<ApplyLedger, ApplyLedgerProvider>();

    public bool Enabled => _writer is not null;

    public void Record(RowChange change, string sink, bool applied)
    {
        if (_writer is null)
        {
            return;
        }

        var line = string.Create(
            CultureInfo.InvariantCulture,
            $"{change.Schema}.{change.Table}:{change.Key.Canonical}\t{change.Version}\t{_node}\t{sink}\t{(applied ? "applied" : "refused")}\t{DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()}");
        lock (_gate)
        {
            _writer.WriteLine(line);
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _writer?.Dispose();
        }
    }
}

public sealed class ApplyLedgerProvider : ExtensionIdProvider<ApplyLedger>
{
    public override ApplyLedger CreateExtension(ExtendedActorSystem system) => new(system);
}
