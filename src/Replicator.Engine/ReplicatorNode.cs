using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using Akka.Cluster.Tools.Singleton;
using Akka.Configuration;
using Akka.Event;
using MySqlConnector;
using Replicator.Engine.Capture;
using Replicator.Engine.Configuration;
using Replicator.Engine.Jobs;
using Replicator.Engine.Membership;
using Replicator.Engine.Replication;
using Replicator.Engine.Routing;
using Replicator.Engine.Schema;

namespace Replicator.Engine;

/// <summary>
/// One Replicator cluster node: an actor system that joins the cluster, runs a capture singleton
/// per source (on nodes with the <c>capture</c> role), a shard region per replicator definition
/// (hosting buckets on nodes with the <c>worker</c> role, a proxy elsewhere) and a dead-letter
/// store singleton per definition.
/// </summary>
public sealed class ReplicatorNode : IAsyncDisposable
{
    public const string CaptureRole = "capture";
    public const string WorkerRole = "worker";

    private readonly Dictionary<string, IActorRef> _captures;
    private readonly Dictionary<string, IActorRef> _deadLetterStores;
    private readonly List<IAsyncDisposable> _owned;

    private ReplicatorNode(
        ActorSystem system,
        ReplicatorSettings settings,
        Dictionary<string, IActorRef> captures,
        Dictionary<string, IActorRef> regions,
        Dictionary<string, IActorRef> deadLetterStores,
        List<IAsyncDisposable> owned)
    {
        System = system;
        Settings = settings;
        _captures = captures;
        Regions = regions;
        _deadLetterStores = deadLetterStores;
        _owned = owned;
    }

    public ActorSystem System { get; }

    public ReplicatorSettings Settings { get; }

    /// <summary>The shard region (or proxy) of each definition.</summary>
    public IReadOnlyDictionary<string, IActorRef> Regions { get; }

    public ReplicationMetrics Metrics => ReplicationMetrics.Get(System);

    /// <summary>
    /// Validates <paramref name="config"/> (replicator.* strictly; it throws a
    /// <see cref="ConfigurationException"/> naming the key before anything starts), then starts the
    /// actor system (named replicator.cluster-name), joins the cluster (itself when no seed nodes are
    /// configured), checks that every other member may share it (<see cref="MembershipGuard"/>) and
    /// starts the captures, regions and stores. Returns once this node is Up and admitted. A node on
    /// the embedded journal with seed nodes, or refused by the cluster it joins, throws a
    /// <see cref="ConfigurationException"/> that says why. <paramref name="setups"/> are added to the
    /// actor system's setup (the host passes the one its logger bridge reads).
    /// </summary>
    public static async Task<ReplicatorNode> StartAsync(Config config, TimeSpan? joinTimeout = null, IReadOnlyList<Akka.Actor.Setup.Setup>? setups = null)
    {
        var settings = ReplicatorSettings.Create(config);
        var full = config
            .WithFallback(settings.Capture.RemoteConfig(config))
            .WithFallback(PersistenceConfig(settings))
            .WithFallback(NodeDefaults)
            .WithFallback(ReplicatorSettings.Defaults)
            .WithFallback(Akka.Persistence.Sql.SqlPersistence.DefaultConfiguration)
            .WithFallback(ClusterSharding.DefaultConfig())
            .WithFallback(ClusterSingleton.DefaultConfig());

        if (full.GetBoolean("akka.log-config-on-start", false))
        {
            throw new ConfigurationException(
                "akka.log-config-on-start = on would print the whole configuration, connection strings and their passwords included. Set it off: the node logs its cluster, "
                + "sources and journal at start without secrets.");
        }

        CheckEmbeddedJournal(settings, full);
        Directory.CreateDirectory(settings.DataDirectory);
        if (settings.Persistence == PersistenceProvider.MySql && settings.PersistenceAutoInitialize)
        {
            await Offsets.MySqlPersistenceSchema.EnsureAsync(settings.PersistenceConnectionString).ConfigureAwait(false);
        }

        if (full.GetBoolean("akka.remote.dot-netty.tcp.ssl.suppress-validation", false))
        {
            throw new ConfigurationException(
                "akka.remote.dot-netty.tcp.ssl.suppress-validation = on would accept any peer's certificate, so anyone could join the cluster. Set it off and use replicator.remoting-tls.");
        }

        var extra = new List<Akka.Actor.Setup.Setup>(setups ?? []);
        if (settings.RemotingTls.Enabled)
        {
            full = RemotingTls.EnableSsl.WithFallback(full);
            extra.Add(RemotingTls.Setup(settings.RemotingTls));
        }

        var system = ActorSystem.Create(settings.ClusterName, Akka.Actor.Setup.ActorSystemSetup.Create([Akka.Actor.BootstrapSetup.Create().WithConfig(full), .. extra]));

        try
        {
            return await StartOn(system, settings, joinTimeout ?? TimeSpan.FromSeconds(60)).ConfigureAwait(false);
        }
        catch
        {
            await system.Terminate().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// The embedded journal is per node: refuses it with seed nodes other than this node itself, and
    /// refuses a journal that a working-directory-relative data-dir left elsewhere (before data-dir
    /// resolved against the config file), which this node would otherwise silently start without.
    /// </summary>
    private static void CheckEmbeddedJournal(ReplicatorSettings settings, Config full)
    {
        if (settings.Persistence != PersistenceProvider.Sqlite)
        {
            return;
        }

        var hostname = full.GetString("akka.remote.dot-netty.tcp.hostname", "");
        var port = full.GetInt("akka.remote.dot-netty.tcp.port", 0);
        var others = full.GetStringList("akka.cluster.seed-nodes")
            .Where(seed => !(Address.TryParse(seed, out var address) && port != 0 && address.Host == hostname && address.Port == port))
            .ToList();
        if (others.Count > 0)
        {
            throw new ConfigurationException(
                $"akka.cluster.seed-nodes lists {others.Count} other node(s) ({string.Join(", ", others)}), but replicator.persistence.provider = sqlite: "
                + "the embedded journal is per node, so a capture moving to another node would find no offset there and start at the end of the binlog, skipping changes. "
                + JoinCompatibility.SharedJournalFix);
        }

        var journal = Path.Combine(settings.DataDirectory, "replicator.db");
        if (!Path.IsPathRooted(settings.DataDirectorySetting) && !File.Exists(journal))
        {
            var old = Path.GetFullPath(Path.Combine(settings.DataDirectorySetting, "replicator.db"));
            if (old != journal && File.Exists(old))
            {
                throw new ConfigurationException(
                    $"replicator.data-dir = \"{settings.DataDirectorySetting}\" now resolves against the config file's directory, to {settings.DataDirectory}, which holds no journal; "
                    + $"but {old} (the same path from the working directory) does. Move that directory to {settings.DataDirectory}, or set replicator.data-dir to an absolute path, so this node resumes from its offsets.");
            }
        }
    }

    private static async Task<ReplicatorNode> StartOn(ActorSystem system, ReplicatorSettings settings, TimeSpan joinTimeout)
    {
        var log = Logging.GetLogger(system, typeof(ReplicatorNode));
        log.Info("Replicator node starting in cluster {0}, remoting over {1}: state in {2}", settings.ClusterName, settings.RemotingTls, settings.Persistence == PersistenceProvider.Sqlite
            ? $"{Path.Combine(settings.DataDirectory, "replicator.db")} (embedded SQLite journal, for this node alone)"
            : MemberFacts.JournalOf(settings));
        var cluster = Cluster.Get(system);
        var verdicts = new MembershipGuard.Verdicts();
        system.ActorOf(MembershipGuard.Props(MemberFacts.Of(settings), verdicts), MembershipGuard.Name);
        var seeds = system.Settings.Config.GetStringList("akka.cluster.seed-nodes");
        if (seeds.Count == 0)
        {
            cluster.Join(cluster.SelfAddress);
        }

        // Singletons, proxies and regions start once this node is Up and every member it sees is
        // compatible, so they find each other at once and never start in a cluster they may not join.
        var timeout = Task.Delay(joinTimeout);
        var first = await Task.WhenAny(verdicts.Admitted, verdicts.Refused, system.WhenTerminated, timeout).ConfigureAwait(false);
        if (verdicts.Refused.IsCompleted)
        {
            throw new ConfigurationException(verdicts.Refused.Result);
        }

        if (first == system.WhenTerminated)
        {
            throw new ConfigurationException("This node stopped while it joined the cluster: another member downed it (its log says why), or Akka refused the join (this node's log says why, e.g. a seed node of another protocol such as akka.ssl.tcp).");
        }

        if (first == timeout)
        {
            throw new TimeoutException($"This node did not join the cluster within {joinTimeout}: check akka.cluster.seed-nodes and that a seed node is reachable.");
        }

        var roles = cluster.SelfRoles;
        var owned = new List<IAsyncDisposable>();
        var sharding = ClusterSharding.Get(system);
        var regions = new Dictionary<string, IActorRef>();
        var deadLetterStores = new Dictionary<string, IActorRef>();

        // One reader of current rows per source, shared by its definitions' buckets on this node.
        var currentRows = new Dictionary<string, SourceCurrentRows>();
        SourceCurrentRows CurrentRowsOf(string source)
        {
            if (!currentRows.TryGetValue(source, out var rows))
            {
                currentRows[source] = rows = new SourceCurrentRows(new SourceRowReader(MySqlDataSources.Get(system).For(SourceRowReader.ConnectionStringFor(settings.Source(source).ConnectionString))));
                owned.Add(rows);
            }

            return rows;
        }

        foreach (var definition in settings.Definitions)
        {
            var storeName = "dead-letters-" + definition.Name;
            var store = system.ActorOf(
                ClusterSingletonProxy.Props($"/user/{storeName}", ClusterSingletonProxySettings.Create(system).WithRole(WorkerRole)),
                storeName + "-proxy");
            deadLetterStores[definition.Name] = store;

            var extractor = new BucketMessageExtractor();
            if (roles.Contains(WorkerRole))
            {
                var job = JobFactory.Create(new JobContext(definition, settings, system, log));
                owned.Add(job);
                var rows = definition.Mode == DedupeMode.Row ? CurrentRowsOf(definition.Source) : null;
                var shardingSettings = ClusterShardingSettings.Create(system).WithRole(WorkerRole);
                regions[definition.Name] = await sharding.StartAsync(
                    definition.Name,
                    entityId => ReplicatorEntity.Props(definition, int.Parse(entityId, global::System.Globalization.CultureInfo.InvariantCulture), job, store, rows, DeadLetterLimits.Of(settings.Capture)),
                    shardingSettings,
                    extractor,
                    LiveRegionsAllocationStrategy.For(cluster, sharding.DefaultShardAllocationStrategy(shardingSettings)),
                    StopBucket.Instance).ConfigureAwait(false);
                system.ActorOf(
                    ClusterSingletonManager.Props(
                        Supervised(DeadLetterStore.Props(definition.Name, regions[definition.Name], definition.Mode, DeadLetterLimits.Of(settings.Capture)), "store"),
                        PoisonPill.Instance,
                        ClusterSingletonManagerSettings.Create(system).WithRole(WorkerRole)),
                    storeName);
            }
            else
            {
                regions[definition.Name] = await sharding.StartProxyAsync(definition.Name, WorkerRole, extractor).ConfigureAwait(false);
            }
        }

        var captures = new Dictionary<string, IActorRef>();
        foreach (var source in settings.Sources)
        {
            var name = "capture-" + source.Name;
            var routes = settings.Definitions
                .Where(d => d.Source == source.Name)
                .Select(d => new CaptureRoute(d, new TopicMatcher(d.Topics), regions[d.Name]))
                .ToList();
            if (roles.Contains(CaptureRole))
            {
                var schemaSource = new MySqlSchemaSource(MySqlDataSources.Get(system).For(MySqlSchemaSource.ConnectionStringFor(source.ConnectionString)));
                owned.Add(schemaSource);
                system.ActorOf(
                    ClusterSingletonManager.Props(
                        Supervised(CaptureActor.Props(settings, source, routes, schemaSource), "capture", finalStop: message => message is StopCapture),
                        StopCapture.Instance,
                        ClusterSingletonManagerSettings.Create(system).WithRole(CaptureRole)),
                    name);
            }

            captures[source.Name] = system.ActorOf(
                ClusterSingletonProxy.Props($"/user/{name}", ClusterSingletonProxySettings.Create(system).WithRole(CaptureRole)),
                name + "-proxy");
        }

        var node = new ReplicatorNode(system, settings, captures, regions, deadLetterStores, owned);

        log.Info("Replicator node up at {0} with roles [{1}]: {2} source(s), {3} definition(s), state in {4}",
            cluster.SelfAddress, string.Join(",", roles), settings.Sources.Count, settings.Definitions.Count, settings.Persistence == PersistenceProvider.Sqlite ? settings.DataDirectory : MemberFacts.JournalOf(settings));
        return node;
    }

    /// <summary>
    /// A singleton's actor under a back-off supervisor, which passes it every message. When the actor
    /// stops (a persistent actor stops when its journal fails a write or its recovery) it is started
    /// again after 1 s, doubling up to 30 s (±20 %), for as long as it takes. A message that
    /// <paramref name="finalStop"/> accepts (the capture's StopCapture, the singleton's hand-over) is
    /// passed on, and the supervisor then stops with the actor instead of starting it again.
    /// </summary>
    public static Props Supervised(Props child, string childName, Func<object, bool>? finalStop = null)
    {
        var options = Akka.Pattern.Backoff.OnStop(child, childName, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30), 0.2, maxNrOfRetries: -1);
        return Akka.Pattern.BackoffSupervisor.Props(finalStop is null ? options : options.WithFinalStopMessage(finalStop));
    }

    /// <summary>Asks the capture of a source (wherever its singleton runs) for its status.</summary>
    public Task<CaptureStatus> GetCaptureStatusAsync(string source, TimeSpan? timeout = null) =>
        _captures[source].Ask<CaptureStatus>(GetCaptureStatus.Instance, timeout ?? TimeSpan.FromSeconds(5));

    /// <summary>The dead letters of a definition.</summary>
    public Task<DeadLetterPage> ListDeadLettersAsync(string definition, int offset = 0, int limit = ListDeadLetterPage.DefaultLimit, TimeSpan? timeout = null) =>
        _deadLetterStores[definition].Ask<DeadLetterPage>(new ListDeadLetterPage(offset, limit), timeout ?? TimeSpan.FromSeconds(5));

    /// <summary>Sends every dead letter of a definition to its bucket again; entries leave the store as they are applied.</summary>
    public Task<DeadLettersRetrying> RetryDeadLettersAsync(string definition, TimeSpan? timeout = null) =>
        _deadLetterStores[definition].Ask<DeadLettersRetrying>(RetryDeadLetters.Instance, timeout ?? TimeSpan.FromSeconds(5));

    public Task<DeadLettersPurged> PurgeDeadLettersAsync(string definition, TimeSpan? timeout = null) =>
        _deadLetterStores[definition].Ask<DeadLettersPurged>(PurgeDeadLetters.Instance, timeout ?? TimeSpan.FromSeconds(5));

    /// <summary>Completes when the actor system has terminated (after a downing or a shutdown).</summary>
    public Task WhenTerminated => System.WhenTerminated;

    /// <summary>Leaves the cluster gracefully: captures persist their offsets and hand over, buckets hand off.</summary>
    public async Task StopAsync()
    {
        await CoordinatedShutdown.Get(System).Run(CoordinatedShutdown.ClrExitReason.Instance).ConfigureAwait(false);
        foreach (var owned in _owned)
        {
            await owned.DisposeAsync().ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!System.WhenTerminated.IsCompleted)
        {
            await StopAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Akka settings every node needs unless the config says otherwise: the embedded
    /// <c>akka-node.conf</c>, the one place they are written down.
    /// </summary>
    public static Config NodeDefaults { get; } = LoadNodeDefaults();

    private static Config LoadNodeDefaults()
    {
        using var stream = typeof(ReplicatorNode).Assembly.GetManifestResourceStream("Replicator.Engine.akka-node.conf")
            ?? throw new InvalidOperationException("akka-node.conf is not embedded in Replicator.Engine.");
        using var reader = new StreamReader(stream);
        // Through the loader: it resolves ${?REPLICATOR_HOSTNAME}-style substitutions, which Akka's parser does not.
        return HoconLoader.LoadString(reader.ReadToEnd(), "akka-node.conf (embedded)");
    }

    /// <summary>Journal and snapshot store for captures and dead-letter stores: SQLite in the data directory, or MySQL.</summary>
    public static Config PersistenceConfig(ReplicatorSettings settings)
    {
        string connection, provider;
        if (settings.Persistence == PersistenceProvider.Sqlite)
        {
            var path = Path.Combine(settings.DataDirectory, "replicator.db");
            connection = $"Data Source={path};Cache=Shared";
            provider = "SQLite.MS";
        }
        else
        {
            // Akka.Persistence.Sql sets user variables while creating its tables.
            connection = new MySqlConnectionStringBuilder(settings.PersistenceConnectionString) { AllowUserVariables = true }.ConnectionString;
            provider = "MySql.8.0.MySqlConnector";
        }

        var quoted = global::System.Text.Json.JsonSerializer.Serialize(connection);
        // MySQL tables are created by MySqlPersistenceSchema, never by the plugin (its DDL is MySQL 8-only).
        var init = settings.PersistenceAutoInitialize && settings.Persistence == PersistenceProvider.Sqlite ? "on" : "off";
        return ConfigurationFactory.ParseString($$"""
            akka.persistence {
              journal {
                plugin = "akka.persistence.journal.sql"
                sql {
                  connection-string = {{quoted}}
                  provider-name = "{{provider}}"
                  auto-initialize = {{init}}
                }
              }
              snapshot-store {
                plugin = "akka.persistence.snapshot-store.sql"
                sql {
                  connection-string = {{quoted}}
                  provider-name = "{{provider}}"
                  auto-initialize = {{init}}
                }
              }
            }
            """);
    }
}
