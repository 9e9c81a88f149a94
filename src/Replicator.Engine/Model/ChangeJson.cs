using System.Buffers;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using Replicator.Binlog.Columns;

namespace Replicator.Engine.Model;

/// <summary>Writes a <see cref="RowChange"/> as one JSON object in the event format of DESIGN.md.</summary>
public static class ChangeJson
{
    private static readonly JsonWriterOptions WriterOptions = new()
    {
        // Row text is data, not HTML: keep non-ASCII and quotes readable and exact.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        SkipValidation = true,
    };

    public static void Write(Utf8JsonWriter writer, RowChange change, ValueFormatOptions? options = null)
    {
        writer.WriteStartObject();
        writer.WriteString("source", change.Source);
        writer.WriteString("schema", change.Schema);
        writer.WriteString("table", change.Table);
        writer.WriteString("action", change.Action.Name());
        writer.WriteString("topic", change.Topic);
        writer.WritePropertyName("pk");
        writer.WriteStartObject();
        for (var i = 0; i < change.Key.Values.Length; i++)
        {
            writer.WritePropertyName(change.Key.Names[i]);
            change.Key.Values[i].WriteJson(writer, options);
        }

        writer.WriteEndObject();
        WriteRow(writer, "before", change.Before, options);
        WriteRow(writer, "after", change.After, options);
        writer.WritePropertyName("position");
        writer.WriteStartObject();
        writer.WriteString("file", change.Position.File);
        writer.WriteNumber("pos", change.Position.Position);
        if (change.Position.Gtid is null)
        {
            writer.WriteNull("gtid");
        }
        else
        {
            writer.WriteString("gtid", change.Position.Gtid);
        }

        writer.WriteEndObject();
        writer.WriteString("commit_time", FormatTime(change.CommitTime));
        writer.WriteEndObject();
    }

    /// <summary>UTC as <c>YYYY-MM-DDTHH:MM:SS[.ffffff]Z</c>; binlog timestamps have whole seconds except MySQL 8 commit timestamps.</summary>
    public static string FormatTime(DateTime utc) =>
        utc.ToString(utc.Ticks % TimeSpan.TicksPerSecond == 0 ? "yyyy-MM-dd'T'HH:mm:ss'Z'" : "yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);

    public static void WriteRow(Utf8JsonWriter writer, string property, RowData? row, ValueFormatOptions? options = null)
    {
        if (row is null)
        {
            writer.WriteNull(property);
            return;
        }

        writer.WritePropertyName(property);
        writer.WriteStartObject();
        for (var i = 0; i < row.Values.Length; i++)
        {
            if (row.Values[i].IsAbsent)
            {
                continue;
            }

            writer.WritePropertyName(row.Names[i]);
            row.Values[i].WriteJson(writer, options);
        }

        writer.WriteEndObject();
    }

    /// <summary>The change as a JSON string (one line).</summary>
    public static string ToJson(RowChange change, ValueFormatOptions? options = null)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var writer = CreateWriter(buffer))
        {
            Write(writer, change, options);
        }

        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    public static Utf8JsonWriter CreateWriter(IBufferWriter<byte> output) => new(output, WriterOptions);

    public static Utf8JsonWriter CreateWriter(Stream output) => new(output, WriterOptions);
}
