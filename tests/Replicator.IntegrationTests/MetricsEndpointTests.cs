using System.Globalization;
using System.Net;
using Replicator.Host.Admin;
using Replicator.IntegrationTests.Infrastructure;

namespace Replicator.IntegrationTests;

/// <summary>
/// /metrics of a real node, scraped over HTTP after it replicated rows and read as Prometheus text
/// exposition (version 0.0.4): the families, their types, their labels, and counters that moved.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class MetricsEndpointTests
{
    [Fact]
    public async Task Metrics_are_Prometheus_text_with_counters_gauges_and_histograms_that_move_with_replication()
    {
        var schema = Servers.UniqueSchema("it_metrics");
        var data = Directory.CreateTempSubdirectory("replicator-metrics-").FullName;
        await Servers.ExecuteAsync($"CREATE DATABASE {schema}; CREATE TABLE {schema}.t (id INT PRIMARY KEY, v INT NOT NULL)");
        var node = await TestNode.StartAsync(TestNode.Config(data, schema, schema + ":", 7221));
        await using var admin = await AdminServer.StartAsync(node, new IPEndPoint(IPAddress.Loopback, 0), token: null);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var url = $"http://127.0.0.1:{admin.Endpoint.Port}/metrics";
        try
        {
            await Servers.ExecuteAsync($"INSERT INTO {schema}.t VALUES (1, 1), (2, 1), (3, 1); UPDATE {schema}.t SET v = 2 WHERE id = 2; DELETE FROM {schema}.t WHERE id = 3");
            var scrape = await Eventually.UntilAsync(
                async () =>
                {
                    using var response = await http.GetAsync(url);
                    Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                    Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.ToString(), StringComparison.Ordinal);
                    return PrometheusText.Parse(await response.Content.ReadAsStringAsync());
                },
                s => s.Value("replicator_changes_applied_total", ("definition", "cache")) >= 5,
                TimeSpan.FromSeconds(30));

            Assert.True(scrape.Value("replicator_changes_applied_total", ("definition", "cache")) == 5, "applied is not 5 in /metrics:\n" + scrape.Text);
            Assert.True(scrape.Value("replicator_changes_captured_total", ("source", "it")) >= 5);
            Assert.Equal(0, scrape.Value("replicator_sink_down", ("definition", "cache")));

            Assert.Equal("counter", scrape.Types["replicator_changes_applied_total"]);
            Assert.Equal("counter", scrape.Types["replicator_changes_captured_total"]);
            Assert.Equal("counter", scrape.Types["replicator_offset_commits_total"]);
            Assert.Equal("gauge", scrape.Types["replicator_sink_down"]);
            Assert.Equal("gauge", scrape.Types["replicator_bucket_pending_deliveries"]);
            Assert.Equal("histogram", scrape.Types["replicator_apply_duration_seconds"]);
            Assert.Equal("histogram", scrape.Types["replicator_capture_lag_seconds"]);

            // A histogram: cumulative buckets up to le="+Inf", which equals _count; the sum is a duration.
            foreach (var (family, label) in new[] { ("replicator_apply_duration_seconds", ("definition", "cache")), ("replicator_capture_lag_seconds", ("source", "it")) })
            {
                var count = scrape.Value(family + "_count", label);
                Assert.True(count >= 1, $"{family}_count is {count}");
                var buckets = scrape.Samples
                    .Where(s => s.Name == family + "_bucket" && s.Labels.GetValueOrDefault(label.Item1) == label.Item2)
                    .Select(s => (Le: s.Labels["le"] == "+Inf" ? double.PositiveInfinity : double.Parse(s.Labels["le"], CultureInfo.InvariantCulture), s.Value))
                    .OrderBy(b => b.Le)
                    .ToList();
                Assert.True(buckets.Count > 2, $"{family} has {buckets.Count} buckets");
                Assert.Equal(double.PositiveInfinity, buckets[^1].Le);
                Assert.Equal(count, buckets[^1].Value);
                Assert.True(buckets.Zip(buckets.Skip(1)).All(p => p.Item1.Value <= p.Item2.Value), $"{family}'s buckets are not cumulative");
                Assert.True(scrape.Value(family + "_sum", label) >= 0);
            }

            // Every sample belongs to a family with # HELP and # TYPE: nothing hand-written slipped through.
            Assert.All(scrape.Samples, s => Assert.True(scrape.Types.ContainsKey(PrometheusText.FamilyOf(s.Name, scrape.Types)), $"{s.Name} has no # TYPE"));
            Assert.All(scrape.Types.Keys, f => Assert.True(scrape.Help.ContainsKey(f), $"{f} has no # HELP"));
        }
        finally
        {
            await node.StopAsync();
            await Servers.ExecuteAsync($"DROP DATABASE {schema}");
            Directory.Delete(data, recursive: true);
        }
    }

    /// <summary>
    /// The Prometheus text format as the scraper reads it: <c># HELP</c>, <c># TYPE</c>, and samples
    /// <c>name{label="value",…} value</c>. Written for the test (a reader, not the exporter under test).
    /// </summary>
    private sealed record PrometheusText(
        string Text,
        Dictionary<string, string> Types,
        Dictionary<string, string> Help,
        List<(string Name, Dictionary<string, string> Labels, double Value)> Samples)
    {
        public static PrometheusText Parse(string text)
        {
            var result = new PrometheusText(text, [], [], []);
            foreach (var raw in text.Split('\n'))
            {
                var line = raw.TrimEnd('\r');
                if (line.Length == 0)
                {
                    continue;
                }

                if (line.StartsWith("# TYPE ", StringComparison.Ordinal) || line.StartsWith("# HELP ", StringComparison.Ordinal))
                {
                    var parts = line[7..].Split(' ', 2);
                    (line[2] == 'T' ? result.Types : result.Help)[parts[0]] = parts.Length > 1 ? parts[1] : "";
                    continue;
                }

                if (line.StartsWith('#'))
                {
                    continue;
                }

                var brace = line.IndexOf('{', StringComparison.Ordinal);
                var space = line.LastIndexOf(' ');
                Assert.True(space > 0, $"not a sample line: {line}");
                var name = brace >= 0 && brace < space ? line[..brace] : line[..space];
                var labels = new Dictionary<string, string>();
                if (brace >= 0 && brace < space)
                {
                    var close = line.LastIndexOf('}');
                    foreach (var pair in SplitLabels(line[(brace + 1)..close]))
                    {
                        var equals = pair.IndexOf('=', StringComparison.Ordinal);
                        labels[pair[..equals]] = pair[(equals + 2)..^1];
                    }
                }

                var value = line[(space + 1)..] switch
                {
                    "+Inf" => double.PositiveInfinity,
                    "-Inf" => double.NegativeInfinity,
                    "NaN" => double.NaN,
                    var v => double.Parse(v, NumberStyles.Float, CultureInfo.InvariantCulture),
                };
                result.Samples.Add((name, labels, value));
            }

            return result;
        }

        /// <summary>The value of the one sample of <paramref name="name"/> with <paramref name="label"/>; 0 when there is none yet.</summary>
        public double Value(string name, (string Name, string Value) label)
        {
            var matching = Samples.Where(s => s.Name == name && s.Labels.GetValueOrDefault(label.Name) == label.Value).ToList();
            Assert.True(matching.Count <= 1, $"{matching.Count} samples of {name} with {label.Name}={label.Value}");
            return matching.Count == 0 ? 0 : matching[0].Value;
        }

        /// <summary>The family a sample belongs to: its own name, or a histogram's without _bucket, _sum or _count.</summary>
        public static string FamilyOf(string sample, Dictionary<string, string> types) =>
            types.ContainsKey(sample) ? sample
            : new[] { "_bucket", "_sum", "_count" }.Where(sample.EndsWith).Select(suffix => sample[..^suffix.Length]).FirstOrDefault(types.ContainsKey) ?? sample;

        private static IEnumerable<string> SplitLabels(string labels)
        {
            var start = 0;
            var quoted = false;
            for (var i = 0; i < labels.Length; i++)
            {
                if (labels[i] == '"' && (i == 0 || labels[i - 1] != '\\'))
                {
                    quoted = !quoted;
                }
                else if (labels[i] == ',' && !quoted)
                {
                    yield return labels[start..i];
                    start = i + 1;
                }
            }

            if (start < labels.Length)
            {
                yield return labels[start..];
            }
        }
    }
}
