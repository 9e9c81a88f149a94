using System.Buffers;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using Replicator.Binlog.Columns;

namespace Replicator.Model;

/// <summary>Writes a <see cref="RowChange"/> as one JSON object in the event format of DESIGN.md.</summary>
/// <remarks>
/// Property names are encoded once: the fixed ones statically, column names once per table version
/// (its shared names list). A stream of changes mostly repeats its commit time, formatted once.
/// </remarks>
public static class ChangeJson
{
    private static readonly JsonWriterOptions WriterOptions = new()
    {
        // Row text is data, not HTML: keep non-ASCII and quotes readable and exact.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        SkipValidation = true,
    };

    private static readonly JsonEncodedText SourceName = Encode("source");
    private static readonly JsonEncodedText SchemaName = Encode("schema");
    private static readonly JsonEncodedText TableName = Encode("table");
    private static readonly JsonEncodedText ActionName = Encode("action");
    private static readonly JsonEncodedText TopicName = Encode("topic");
    private static readonly JsonEncodedText PkName = Encode("pk");
    private static readonly JsonEncodedText BeforeName = Encode("before");
    private static readonly JsonEncodedText AfterName = Encode("after");
    private static readonly JsonEncodedText PositionName = Encode("position");
    private static readonly JsonEncodedText FileName = Encode("file");
    private static readonly JsonEncodedText PosName = Encode("pos");
    private static readonly JsonEncodedText GtidName = Encode("gtid");
    private static readonly JsonEncodedText CommitTimeName = Encode("commit_time");

    [ThreadStatic]
    private static (DateTime Time, string Text) _lastCommitTime;

    // The encoded names of the last few names lists written on this thread (rows of a table share one list).
    [ThreadStatic]
    private static (IReadOnlyList<string>? Names, JsonEncodedText[]? Encoded)[]? _recentNames;

    [ThreadStatic]
    private static int _nextNamesSlot;

    public static void Write(Utf8JsonWriter writer, RowChange change, ValueFormatOptions? options = null)
    {
        writer.WriteStartObject();
        writer.WriteString(SourceName, change.Source);
        writer.WriteString(SchemaName, change.Schema);
        writer.WriteString(TableName, change.Table);
        writer.WriteString(ActionName, change.Action.Name());
        writer.WriteString(TopicName, change.Topic);
        writer.WritePropertyName(PkName);
        writer.WriteStartObject();
        var keyNames = EncodedNamesOf(change.Key.Names);
        for (var i = 0; i < change.Key.Values.Length; i++)
        {
            writer.WritePropertyName(keyNames[i]);
            change.Key.Values[i].WriteJson(writer, options);
        }

        writer.WriteEndObject();
        WriteRow(writer, BeforeName, change.Before, options);
        WriteRow(writer, AfterName, change.After, options);
        writer.WritePropertyName(PositionName);
        writer.WriteStartObject();
        writer.WriteString(FileName, change.Position.File);
        writer.WriteNumber(PosName, change.Position.Position);
        if (change.Position.Gtid is null)
        {
            writer.WriteNull(GtidName);
        }
        else
        {
            writer.WriteString(GtidName, change.Position.Gtid);
        }

        writer.WriteEndObject();
        writer.WriteString(CommitTimeName, CommitTimeText(change.CommitTime));
        writer.WriteEndObject();
    }

    private static string CommitTimeText(DateTime utc)
    {
        var last = _lastCommitTime;
        if (last.Text is not null && last.Time == utc)
        {
            return last.Text;
        }

        var text = FormatTime(utc);
        _lastCommitTime = (utc, text);
        return text;
    }

    private static JsonEncodedText Encode(string name) => JsonEncodedText.Encode(name, JavaScriptEncoder.UnsafeRelaxedJsonEscaping);

    /// <summary>The encoded names of a names list, reused while the same list (table version) keeps coming.</summary>
    private static JsonEncodedText[] EncodedNamesOf(IReadOnlyList<string> names)
    {
        var recent = _recentNames ??= new (IReadOnlyList<string>?, JsonEncodedText[]?)[4];
        foreach (var (list, encoded) in recent)
        {
            if (ReferenceEquals(list, names))
            {
                return encoded!;
            }
        }

        var fresh = new JsonEncodedText[names.Count];
        for (var i = 0; i < fresh.Length; i++)
        {
            fresh[i] = Encode(names[i]);
        }

        recent[_nextNamesSlot] = (names, fresh);
        _nextNamesSlot = (_nextNamesSlot + 1) % recent.Length;
        return fresh;
    }

    /// <summary>UTC as <c>YYYY-MM-DDTHH:MM:SS[.ffffff]Z</c>; binlog timestamps have whole seconds except MySQL 8 commit timestamps.</summary>
    public static string FormatTime(DateTime utc) =>
        utc.ToString(utc.Ticks % TimeSpan.TicksPerSecond == 0 ? "yyyy-MM-dd'T'HH:mm:ss'Z'" : "yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);

    public static void WriteRow(Utf8JsonWriter writer, string property, RowData? row, ValueFormatOptions? options = null) =>
        WriteRow(writer, Encode(property), row, options);

    private static void WriteRow(Utf8JsonWriter writer, JsonEncodedText property, RowData? row, ValueFormatOptions? options)
    {
        if (row is null)
        {
            writer.WriteNull(property);
            return;
        }

        writer.WritePropertyName(property);
        writer.WriteStartObject();
        var names = EncodedNamesOf(row.Names);
        for (var i = 0; i < row.Values.Length; i++)
        {
            if (row.Values[i].IsAbsent)
            {
                continue;
            }

            writer.WritePropertyName(names[i]);
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
