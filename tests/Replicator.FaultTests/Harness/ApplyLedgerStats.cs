using System.Globalization;

namespace Replicator.FaultTests.Harness;

/// <summary>
/// What the nodes' apply ledgers (replicator.testing.apply-ledger: one line per sink write,
/// <c>schema.table:pk  version  node  sink  applied|refused  unix-ms</c>) say: writes applied, how
/// many of them applied a (pk, version) that was already applied (duplicates_applied), and writes
/// the sink's version fence refused (stale_writes_rejected).
/// </summary>
public sealed record ApplyLedgerStats(long Applied, long DistinctApplied, long Refused, IReadOnlyDictionary<string, long> AppliedByNode)
{
    public long DuplicatesApplied => Applied - DistinctApplied;

    public static ApplyLedgerStats Read(IEnumerable<string> paths)
    {
        long applied = 0, refused = 0;
        var distinct = new HashSet<(string, string)>();
        var byNode = new Dictionary<string, long>();
        foreach (var path in paths.Where(File.Exists))
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var reader = new StreamReader(stream);
            while (reader.ReadLine() is { } line)
            {
                var fields = line.Split('\t');
                if (fields.Length < 6)
                {
                    continue; // a line cut short by kill -9
                }

                if (fields[4] == "applied")
                {
                    applied++;
                    distinct.Add((fields[0], fields[1]));
                    var node = fields[2];
                    byNode[node] = byNode.GetValueOrDefault(node) + 1;
                }
                else if (fields[4] == "refused")
                {
                    refused++;
                }
            }
        }

        return new ApplyLedgerStats(applied, distinct.Count, refused, byNode);
    }

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"applied {Applied} ({DistinctApplied} distinct), refused {Refused}, by node: {string.Join(", ", AppliedByNode.Select(kv => $"{kv.Key} {kv.Value}"))}");
}
