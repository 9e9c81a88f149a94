using System.Text;
using Replicator.Binlog.Columns;
using Replicator.Binlog.Protocol;

namespace Replicator.Binlog.Vendors.MySql;

/// <summary>
/// Reads the diff vector a PARTIAL_UPDATE_ROWS event holds for a JSON column updated in place
/// (binlog_row_value_options=PARTIAL_JSON; https://dev.mysql.com/doc/refman/8.4/en/replication-options-binary-log.html#sysvar_binlog_row_value_options).
/// Each entry (MySQL <c>Json_diff_vector::write_binary</c>): operation(1: 0 REPLACE, 1 INSERT,
/// 2 REMOVE), path as a length-encoded string, and unless REMOVE the new value as a
/// length-encoded binary JSON document.
/// </summary>
internal static class MySqlJsonDiff
{
    public static IReadOnlyList<JsonDiff> Read(ReadOnlySpan<byte> vector)
    {
        var reader = new ByteReader(vector);
        var diffs = new List<JsonDiff>();
        while (!reader.IsAtEnd)
        {
            var operation = reader.ReadByte();
            if (operation > (byte)JsonDiffOperation.Remove)
            {
                throw new FormatException($"JSON diff operation {operation} at offset {reader.Offset - 1} is not REPLACE, INSERT or REMOVE.");
            }

            var path = Encoding.UTF8.GetString(reader.ReadLengthEncodedBytes());
            string? value = null;
            if (operation != (byte)JsonDiffOperation.Remove)
            {
                value = MySqlJsonBinary.ToJson(reader.ReadLengthEncodedBytes());
            }

            diffs.Add(new JsonDiff((JsonDiffOperation)operation, path, value));
        }

        return diffs;
    }
}
