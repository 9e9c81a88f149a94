using Akka.Configuration;
using Replicator.Binlog.Network;
using Replicator.Binlog.Positions;
using Replicator.Engine.Offsets;

namespace Replicator.Engine.Configuration;

/// <summary>One source: a MySQL or MariaDB server whose binlog is captured (replicator.sources.&lt;name&gt;).</summary>
public sealed record SourceSettings(
    string Name,
    string ConnectionString,
    uint ServerId,
    IReadOnlyList<string> Tables,
    IReadOnlyDictionary<string, IReadOnlyList<string>> KeyColumns,
    StartPosition Start,
    TimeSpan Heartbeat,
    TimeSpan ReadTimeout,
    TimeSpan ConnectTimeout,
    ResumeBy ResumeBy = ResumeBy.Position)
{
    /// <summary>
    /// Tables stopped for a resync by a statement before this position are not stopped again: the
    /// operator resynced them through here (resynced-through). Null: every such statement stops its table.
    /// </summary>
    public BinlogPosition? ResyncedThrough { get; init; }

    /// <summary>
    /// The most bytes one compressed event (a MariaDB compressed event, a MySQL compressed
    /// transaction) may inflate to (max-decompressed-size); a larger one stops the capture with an
    /// error naming its file and position, before anything is allocated for it.
    /// </summary>
    public long MaxDecompressedSize { get; init; } = MaxDecompressedSizeLimit;

    /// <summary>The decoder's own ceiling, and the default: 1 GiB.</summary>
    public const long MaxDecompressedSizeLimit = 1L << 30;

    /// <summary>The source type (type): how changes are read. Only <see cref="MySqlBinlogType"/> so far.</summary>
    public string Type { get; init; } = MySqlBinlogType;

    /// <summary>A MySQL or MariaDB server read through its binlog as a replica: the default type.</summary>
    public const string MySqlBinlogType = "mysql-binlog";

    /// <summary>The source types a node can run.</summary>
    public static IReadOnlyList<string> KnownTypes { get; } = [MySqlBinlogType];

    internal static SourceSettings Read(ConfigReader reader, string name, bool insecure)
    {
        var type = reader.String("type");
        if (!KnownTypes.Contains(type))
        {
            throw reader.Error("type", $"must be one of {string.Join(", ", KnownTypes)}, not '{type}'.");
        }

        reader.RequireOnly("type", "connection-string", "server-id", "tables", "key-columns", "start", "resume-by", "heartbeat", "read-timeout", "connect-timeout", "resynced-through", "max-decompressed-size");
        var connectionString = reader.String("connection-string", required: true);
        var serverId = reader.Long("server-id", 0, uint.MaxValue);
        if (serverId == 0)
        {
            throw reader.Error("server-id", "must be set to a replica server_id that is unique on the source and not 0.");
        }

        BinlogClientOptions client;
        try
        {
            client = BinlogClientOptions.FromConnectionString(connectionString);
        }
        catch (ArgumentException e)
        {
            throw reader.Error("connection-string", $"is not valid: {e.Message}");
        }

        if (TransportSecurity.CheckMySql(connectionString, reader.Path + ".connection-string", insecure) is { } unsafeTransport)
        {
            throw new ConfigurationException(unsafeTransport);
        }

        var keys = new Dictionary<string, IReadOnlyList<string>>(StringComparer.OrdinalIgnoreCase);
        var keyReader = reader.Child("key-columns");
        foreach (var table in keyReader.Keys)
        {
            var columns = keyReader.StringList(table);
            if (columns.Count == 0)
            {
                throw keyReader.Error(table, "must list at least one column.");
            }

            keys[table] = columns;
        }

        var heartbeat = reader.Duration("heartbeat", TimeSpan.FromMilliseconds(100), TimeSpan.FromMinutes(10));
        var readTimeout = reader.Duration("read-timeout", TimeSpan.FromMilliseconds(200), TimeSpan.FromHours(1));
        if (readTimeout <= heartbeat)
        {
            throw reader.Error("read-timeout", $"({readTimeout}) must be longer than heartbeat ({heartbeat}), or every quiet period would count as a dead connection.");
        }

        return new SourceSettings(
            name,
            connectionString,
            (uint)serverId,
            reader.StringList("tables"),
            keys,
            ParseStart(reader),
            heartbeat,
            readTimeout,
            reader.Duration("connect-timeout", TimeSpan.FromMilliseconds(100), TimeSpan.FromMinutes(10)),
            reader.Enum<ResumeBy>("resume-by"))
        {
            Type = type,
            ResyncedThrough = ParseResyncedThrough(reader),
            MaxDecompressedSize = reader.ByteSize("max-decompressed-size", 1L << 20, MaxDecompressedSizeLimit),
        };
    }

    private static BinlogPosition? ParseResyncedThrough(ConfigReader reader)
    {
        var text = reader.String("resynced-through").Trim();
        if (text.Length == 0)
        {
            return null;
        }

        var colon = text.LastIndexOf(':');
        if (colon > 0 && long.TryParse(text[(colon + 1)..], out var position) && position >= 4)
        {
            return new BinlogPosition(text[..colon], position);
        }

        throw reader.Error("resynced-through", $"must be empty or a binlog position file:position (e.g. mariadb-bin.000003:1234), not '{text}'.");
    }

    /// <summary>
    /// Where a capture with the saved <paramref name="offset"/> starts reading: after its MariaDB GTID
    /// position when <see cref="ResumeBy"/> is <see cref="Configuration.ResumeBy.Gtid"/> and the offset
    /// has one, else at its restart position. Either way the offset's restart point and skip count
    /// say which rows of the first transaction were already handled.
    /// </summary>
    public StartPosition ResumeFrom(SourceOffset offset) =>
        ResumeBy == ResumeBy.Gtid && offset.Gtid is { Length: > 0 } gtid
            ? StartPosition.After(MariaDbGtidPosition.Parse(gtid))
            : StartPosition.At(offset.Position);

    /// <summary>
    /// Options for a <see cref="BinlogClient"/> that starts at <paramref name="start"/>. A MySQL
    /// compressed transaction comes an inner event at a time, so reading it takes memory bounded
    /// by its largest event, and its changes are handed on as they are read.
    /// </summary>
    public BinlogClientOptions ClientOptions(StartPosition start)
    {
        var options = BinlogClientOptions.FromConnectionString(ConnectionString);
        return options with
        {
            ServerId = ServerId,
            Start = start,
            HeartbeatPeriod = Heartbeat,
            ReadTimeout = ReadTimeout,
            ConnectTimeout = ConnectTimeout,
            Decoder = options.Decoder with { StreamTransactionPayloads = true, MaxDecompressedSize = (int)MaxDecompressedSize },
        };
    }

    /// <summary>The connection string without its password, for logs.</summary>
    public string Describe()
    {
        var options = BinlogClientOptions.FromConnectionString(ConnectionString);
        return $"{options.User}@{options.Host}:{options.Port}";
    }

    public override string ToString() => $"source {Name} ({Describe()})";

    private static StartPosition ParseStart(ConfigReader reader)
    {
        var text = reader.String("start", required: true).Trim();
        switch (text.ToLowerInvariant())
        {
            case "end":
                return StartPosition.CurrentEnd;
            case "oldest":
                return StartPosition.Oldest;
        }

        var colon = text.LastIndexOf(':');
        if (colon > 0 && long.TryParse(text[(colon + 1)..], out var position) && position >= 4)
        {
            return StartPosition.At(text[..colon], position);
        }

        throw reader.Error("start", $"must be end, oldest, or file:position (e.g. mariadb-bin.000003:4), not '{text}'.");
    }
}
