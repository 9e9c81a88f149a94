using System.Globalization;

namespace Replicator.Binlog.Positions;

/// <summary>A MariaDB GTID, written domain-server-sequence (<c>0-1-42</c>). https://mariadb.com/kb/en/gtid/</summary>
public readonly record struct MariaDbGtid(uint DomainId, uint ServerId, ulong Sequence)
{
    public static MariaDbGtid Parse(string text)
    {
        var parts = text.Trim().Split('-');
        if (parts.Length != 3
            || !uint.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var domain)
            || !uint.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var server)
            || !ulong.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var sequence))
        {
            throw new FormatException($"'{text}' is not a MariaDB GTID; expected domain-server-sequence such as 0-1-42.");
        }

        return new MariaDbGtid(domain, server, sequence);
    }

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{DomainId}-{ServerId}-{Sequence}");
}
