using Akka.Actor;
using Akka.Configuration;
using Replicator.Binlog.Columns;

namespace Replicator.Engine.Configuration;

/// <summary>
/// Everything under <c>replicator.*</c>, read once and checked strictly at start: unknown keys,
/// wrong types, values out of range, duplicate server ids and missing sources are errors naming the
/// key path, before the node joins a cluster or opens a binlog.
/// </summary>
public sealed partial record ReplicatorSettings(
    string DataDirectory,
    bool Insecure,
    ZeroDateHandling ZeroDates,
    CaptureSettings Capture,
    IReadOnlyList<SourceSettings> Sources,
    IReadOnlyList<DefinitionSettings> Definitions,
    PersistenceProvider Persistence,
    string PersistenceConnectionString,
    bool PersistenceAutoInitialize,
    TestingSettings Testing)
{
    /// <summary>The embedded defaults (reference.conf).</summary>
    public static Config Defaults { get; } = LoadDefaults();

    public static ReplicatorSettings Create(ActorSystem system) => Create(system.Settings.Config);

    public static ReplicatorSettings Create(Config config)
    {
        var root = config.WithFallback(Defaults);
        var reader = ConfigReader.At(root, "replicator");
        reader.RequireOnly("cluster-name", "remoting-tls", "data-dir", "config-directory", "insecure", "zero-dates", "capture", "source-defaults", "sources", "definition-defaults", "definitions", "persistence", "testing");
        var insecure = reader.Bool("insecure");

        var sourceDefaults = root.GetConfig("replicator.source-defaults");
        var sources = new List<SourceSettings>();
        var sourcesReader = reader.Child("sources");
        foreach (var name in sourcesReader.Keys)
        {
            var merged = sourcesReader.Config.GetConfig(name).WithFallback(sourceDefaults);
            sources.Add(SourceSettings.Read(new ConfigReader(merged, $"replicator.sources.{name}"), name, insecure));
        }

        foreach (var group in sources.GroupBy(s => s.ServerId).Where(g => g.Count() > 1))
        {
            throw new ConfigurationException($"replicator.sources.{group.Last().Name}.server-id {group.Key} is also used by source {group.First().Name}. Each reader needs its own server_id, or the server disconnects them in turn.");
        }

        var definitionDefaults = root.GetConfig("replicator.definition-defaults");
        var definitions = new List<DefinitionSettings>();
        var definitionsReader = reader.Child("definitions");
        foreach (var name in definitionsReader.Keys)
        {
            var merged = definitionsReader.Config.GetConfig(name).WithFallback(definitionDefaults);
            definitions.Add(DefinitionSettings.Read(new ConfigReader(merged, $"replicator.definitions.{name}"), name, sources, insecure));
        }

        var persistence = reader.Child("persistence");
        persistence.RequireOnly("provider", "connection-string", "auto-initialize");
        var provider = persistence.Enum<PersistenceProvider>("provider");
        var persistenceConnection = persistence.String("connection-string");
        if (provider == PersistenceProvider.MySql && persistenceConnection.Length == 0)
        {
            throw persistence.Error("connection-string", "is required when provider = mysql.");
        }

        if (provider == PersistenceProvider.MySql && TransportSecurity.CheckMySql(persistenceConnection, "replicator.persistence.connection-string", insecure) is { } unsafeTransport)
        {
            throw new ConfigurationException(unsafeTransport);
        }

        var dataDir = reader.String("data-dir", required: true);
        var configDirectory = reader.String("config-directory");
        if (configDirectory.Length > 0 && !Path.IsPathRooted(configDirectory))
        {
            throw reader.Error("config-directory", "must be an absolute path (the loader sets it to the directory of the --config file).");
        }

        var clusterName = reader.String("cluster-name", required: true);
        if (!ClusterNamePattern().IsMatch(clusterName))
        {
            throw reader.Error("cluster-name", $"must be letters, digits, '-' and '_', starting with a letter or digit (it names the actor system in every node's address), not '{clusterName}'.");
        }

        return new ReplicatorSettings(
            ResolveDataDirectory(dataDir, configDirectory),
            insecure,
            reader.Enum<ZeroDateHandling>("zero-dates"),
            CaptureSettings.Read(reader.Child("capture")),
            sources,
            definitions,
            provider,
            persistenceConnection,
            persistence.Bool("auto-initialize"),
            TestingSettings.Read(reader.Child("testing")))
        {
            DataDirectorySetting = dataDir,
            ClusterName = clusterName,
            RemotingTls = RemotingTlsSettings.Read(reader.Child("remoting-tls"), configDirectory),
        };
    }

    /// <summary>replicator.cluster-name: the actor system's name, the same on every node of one cluster.</summary>
    public string ClusterName { get; init; } = "replicator";

    /// <summary>replicator.remoting-tls: TLS with certificates between the cluster's nodes.</summary>
    public RemotingTlsSettings RemotingTls { get; init; } = RemotingTlsSettings.Off;

    /// <summary>replicator.data-dir as written; <see cref="DataDirectory"/> is where it resolved to.</summary>
    public string DataDirectorySetting { get; init; } = "";

    /// <summary>
    /// An absolute data-dir as it is; a relative one against the directory of the config file (so a
    /// node started from another working directory finds the same state), or against the working
    /// directory when the config was not loaded from a file.
    /// </summary>
    private static string ResolveDataDirectory(string dataDir, string configDirectory) =>
        Path.GetFullPath(Path.IsPathRooted(dataDir) ? dataDir : Path.Combine(configDirectory.Length > 0 ? configDirectory : Directory.GetCurrentDirectory(), dataDir));

    public SourceSettings Source(string name) =>
        Sources.FirstOrDefault(s => s.Name == name) ?? throw new ConfigurationException($"No source named {name} under replicator.sources.");

    [System.Text.RegularExpressions.GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_-]*$")]
    private static partial System.Text.RegularExpressions.Regex ClusterNamePattern();

    private static Config LoadDefaults()
    {
        using var stream = typeof(ReplicatorSettings).Assembly.GetManifestResourceStream("Replicator.Engine.reference.conf")
            ?? throw new InvalidOperationException("reference.conf is not embedded in Replicator.Engine.");
        using var reader = new StreamReader(stream);
        return ConfigurationFactory.ParseString(reader.ReadToEnd());
    }
}
