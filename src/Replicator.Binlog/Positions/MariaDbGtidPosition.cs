namespace Replicator.Binlog.Positions;

/// <summary>
/// A MariaDB replication position: the last GTID per domain, as in <c>@@gtid_binlog_pos</c>
/// (<c>0-1-42,1-1-7</c>). Immutable; <see cref="With"/> returns the position after one more GTID.
/// </summary>
public sealed class MariaDbGtidPosition : IEquatable<MariaDbGtidPosition>
{
    private readonly SortedDictionary<uint, MariaDbGtid> _byDomain;

    public static MariaDbGtidPosition Empty { get; } = new(new SortedDictionary<uint, MariaDbGtid>());

    private MariaDbGtidPosition(SortedDictionary<uint, MariaDbGtid> byDomain) => _byDomain = byDomain;

    public IReadOnlyCollection<MariaDbGtid> Gtids => _byDomain.Values;

    public bool IsEmpty => _byDomain.Count == 0;

    public static MariaDbGtidPosition Parse(string text)
    {
        var map = new SortedDictionary<uint, MariaDbGtid>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var gtid = MariaDbGtid.Parse(part);
            if (!map.TryAdd(gtid.DomainId, gtid))
            {
                throw new FormatException($"'{text}' names GTID domain {gtid.DomainId} twice; a position holds one GTID per domain.");
            }
        }

        return new MariaDbGtidPosition(map);
    }

    public static MariaDbGtidPosition Of(IEnumerable<MariaDbGtid> gtids)
    {
        var map = new SortedDictionary<uint, MariaDbGtid>();
        foreach (var gtid in gtids)
        {
            map[gtid.DomainId] = gtid;
        }

        return new MariaDbGtidPosition(map);
    }

    public MariaDbGtidPosition With(MariaDbGtid gtid) =>
        new(new SortedDictionary<uint, MariaDbGtid>(_byDomain) { [gtid.DomainId] = gtid });

    public bool TryGet(uint domainId, out MariaDbGtid gtid) => _byDomain.TryGetValue(domainId, out gtid);

    public override string ToString() => string.Join(',', _byDomain.Values);

    public bool Equals(MariaDbGtidPosition? other) => other is not null && ToString() == other.ToString();

    public override bool Equals(object? obj) => Equals(obj as MariaDbGtidPosition);

    public override int GetHashCode() => ToString().GetHashCode(StringComparison.Ordinal);
}
