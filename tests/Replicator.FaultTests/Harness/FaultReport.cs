using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Replicator.FaultTests.Harness;

/// <summary>
/// A scenario's figures as FAULTS.md §4.1/§4.4 name them, printed as one JSON line and collected
/// into artifacts/fault-report.json (one object per line) and artifacts/fault-report.md (a table).
/// </summary>
public sealed class FaultReport
{
    private static readonly object FileGate = new();
    private static readonly List<FaultReport> Written = [];

    public required string Scenario { get; init; }

    public int Seed { get; init; }

    public long AckedChanges { get; init; }

    public long EventsLost { get; set; }

    public int PksMismatched { get; init; }

    public int MissingInSink { get; init; }

    public int Stale { get; init; }

    public int Resurrected { get; init; }

    public int Corrupt { get; init; }

    public long DuplicatesApplied { get; init; }

    public long StaleWritesRejected { get; init; }

    public long DeadLetters { get; init; }

    public int DlqEntries { get; set; }

    public double? TimeToRecoverS { get; set; }

    public double MaxCaptureLagS { get; init; }

    public IReadOnlyDictionary<string, long> MaxRssMb { get; init; } = new Dictionary<string, long>();

    public long ReconnectAttempts { get; init; }

    public int MembershipChanges { get; init; }

    public int MaxBinlogReaders { get; init; }

    public int SecretLeaks { get; set; }

    public double QuiesceS { get; init; }

    public double WallS { get; init; }

    /// <summary>Scenario-specific figures (injected duplicates, kill offsets, …).</summary>
    public Dictionary<string, object> Extra { get; } = [];

    public string Result { get; set; } = "pass";

    public string ToJsonLine()
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteString("scenario", Scenario);
            w.WriteNumber("seed", Seed);
            w.WriteNumber("acked_changes", AckedChanges);
            w.WriteNumber("events_lost", EventsLost);
            w.WriteNumber("pks_mismatched", PksMismatched);
            w.WriteNumber("missing_in_sink", MissingInSink);
            w.WriteNumber("stale", Stale);
            w.WriteNumber("resurrected", Resurrected);
            w.WriteNumber("corrupt", Corrupt);
            w.WriteNumber("duplicates_applied", DuplicatesApplied);
            w.WriteNumber("stale_writes_rejected", StaleWritesRejected);
            w.WriteNumber("dead_letters", DeadLetters);
            w.WriteNumber("dlq_entries", DlqEntries);
            if (TimeToRecoverS is { } ttr)
            {
                w.WriteNumber("time_to_recover_s", ttr);
            }
            else
            {
                w.WriteNull("time_to_recover_s");
            }

            w.WriteNumber("max_capture_lag_s", MaxCaptureLagS);
            w.WriteStartObject("max_rss_mb");
            foreach (var (process, mb) in MaxRssMb.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                w.WriteNumber(process, mb);
            }

            w.WriteEndObject();
            w.WriteNumber("reconnect_attempts", ReconnectAttempts);
            w.WriteNumber("membership_changes", MembershipChanges);
            w.WriteNumber("max_binlog_readers", MaxBinlogReaders);
            w.WriteNumber("secret_leaks", SecretLeaks);
            foreach (var (key, value) in Extra.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                w.WritePropertyName(key);
                JsonSerializer.Serialize(w, value);
            }

            w.WriteNumber("quiesce_s", QuiesceS);
            w.WriteNumber("wall_s", WallS);
            w.WriteString("result", Result);
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>Adds this report to artifacts/fault-report.{json,md}, replacing an earlier report of the same scenario in this run.</summary>
    public void Save()
    {
        lock (FileGate)
        {
            Written.RemoveAll(r => r.Scenario == Scenario);
            Written.Add(this);
            Written.Sort((a, b) => string.CompareOrdinal(a.Scenario, b.Scenario));
            Directory.CreateDirectory(FaultRunDirectory.Artifacts);
            File.WriteAllLines(Path.Combine(FaultRunDirectory.Artifacts, "fault-report.json"), Written.Select(r => r.ToJsonLine()));
            File.WriteAllText(Path.Combine(FaultRunDirectory.Artifacts, "fault-report.md"), Markdown(Written));
        }
    }

    private static string Markdown(IEnumerable<FaultReport> reports)
    {
        var sb = new StringBuilder();
        sb.AppendLine("# Fault suite report");
        sb.AppendLine();
        sb.AppendLine("| scenario | result | acked changes | events lost | pks mismatched | resurrected | duplicates applied | stale writes rejected | dead letters | DLQ entries | time to recover (s) | max capture lag (s) | max RSS (MB) | reconnects | membership changes | max binlog readers | wall (s) |");
        sb.AppendLine("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: |");
        foreach (var r in reports)
        {
            var rss = string.Join(", ", r.MaxRssMb.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key} {kv.Value}"));
            sb.AppendLine(string.Create(
                CultureInfo.InvariantCulture,
                $"| {r.Scenario} | {r.Result} | {r.AckedChanges} | {r.EventsLost} | {r.PksMismatched} | {r.Resurrected} | {r.DuplicatesApplied} | {r.StaleWritesRejected} | {r.DeadLetters} | {r.DlqEntries} | {r.TimeToRecoverS?.ToString("0.0", CultureInfo.InvariantCulture) ?? "–"} | {r.MaxCaptureLagS:0.0} | {rss} | {r.ReconnectAttempts} | {r.MembershipChanges} | {r.MaxBinlogReaders} | {r.WallS:0} |"));
        }

        sb.AppendLine();
        sb.AppendLine("Scenario-specific figures are in fault-report.json (one JSON object per line).");
        return sb.ToString();
    }
}
