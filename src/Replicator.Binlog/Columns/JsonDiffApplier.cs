using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Replicator.Binlog.Columns;

/// <summary>
/// Applies the diffs of a MySQL partial JSON update (<see cref="ValueKind.JsonDiff"/>) to the
/// document they were computed against, with the server's own rules (sql/json_diff.cc,
/// <c>apply_json_diffs</c>): REPLACE needs the path to exist; INSERT needs its parent to exist and,
/// in an object, the member not to, and in an array inserts before the index (appending past the
/// end); REMOVE needs the path to exist. The root itself is never a diff target. Any other case
/// throws <see cref="JsonDiffException"/>.
/// Paths are MySQL JSON paths as the server writes them: <c>$</c>, <c>.member</c>,
/// <c>."quoted member"</c>, <c>[n]</c>, <c>[last]</c>, <c>[last-n]</c>
/// (https://dev.mysql.com/doc/refman/8.4/en/json.html#json-path-syntax).
/// </summary>
public static class JsonDiffApplier
{
    private static readonly JsonSerializerOptions Compact = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        WriteIndented = false,
    };

    /// <summary>The JSON text of <paramref name="documentJson"/> after applying <paramref name="diffs"/> in order.</summary>
    public static string Apply(string documentJson, IReadOnlyList<JsonDiff> diffs)
    {
        ArgumentNullException.ThrowIfNull(documentJson);
        ArgumentNullException.ThrowIfNull(diffs);
        JsonNode? document;
        try
        {
            document = JsonNode.Parse(documentJson);
        }
        catch (JsonException e)
        {
            throw new JsonDiffException($"The document to patch is not valid JSON: {e.Message}", inner: e);
        }

        foreach (var diff in diffs)
        {
            Apply(document, diff);
        }

        return document is null ? "null" : document.ToJsonString(Compact);
    }

    private static void Apply(JsonNode? document, JsonDiff diff)
    {
        var legs = ParsePath(diff);
        if (legs.Count == 0)
        {
            throw new JsonDiffException("A partial update cannot target the document root", diff);
        }

        var parent = Seek(document, legs, legs.Count - 1, diff);
        var last = legs[^1];
        switch (diff.Operation)
        {
            case JsonDiffOperation.Replace:
                if (parent is JsonObject obj && last.Member is { } key && obj.ContainsKey(key))
                {
                    obj[key] = Value(diff);
                    return;
                }

                if (parent is JsonArray array && last.Member is null && last.Resolve(array.Count) is var index && index >= 0 && index < array.Count)
                {
                    array[index] = Value(diff);
                    return;
                }

                throw new JsonDiffException("REPLACE names a value the document does not have", diff);
            case JsonDiffOperation.Insert:
                if (parent is JsonObject insertInto && last.Member is { } newKey)
                {
                    if (insertInto.ContainsKey(newKey))
                    {
                        throw new JsonDiffException("INSERT names a member the document already has", diff);
                    }

                    insertInto[newKey] = Value(diff);
                    return;
                }

                if (parent is JsonArray insertArray && last.Member is null)
                {
                    var at = Math.Clamp(last.Resolve(insertArray.Count), 0, insertArray.Count);
                    insertArray.Insert(at, Value(diff));
                    return;
                }

                throw new JsonDiffException("INSERT names a place whose parent is not an object or array of the right kind", diff);
            case JsonDiffOperation.Remove:
                if (parent is JsonObject removeFrom && last.Member is { } removeKey && removeFrom.Remove(removeKey))
                {
                    return;
                }

                if (parent is JsonArray removeArray && last.Member is null && last.Resolve(removeArray.Count) is var removeAt && removeAt >= 0 && removeAt < removeArray.Count)
                {
                    removeArray.RemoveAt(removeAt);
                    return;
                }

                throw new JsonDiffException("REMOVE names a value the document does not have", diff);
            default:
                throw new JsonDiffException($"Operation {(int)diff.Operation} is not REPLACE, INSERT or REMOVE", diff);
        }
    }

    private static JsonNode? Value(JsonDiff diff)
    {
        if (diff.ValueJson is null)
        {
            throw new JsonDiffException("The diff has no value", diff);
        }

        try
        {
            return JsonNode.Parse(diff.ValueJson);
        }
        catch (JsonException e)
        {
            throw new JsonDiffException($"The diff's value is not valid JSON: {e.Message}", diff, e);
        }
    }

    /// <summary>The container the first <paramref name="count"/> legs lead to.</summary>
    private static JsonNode Seek(JsonNode? node, List<PathLeg> legs, int count, JsonDiff diff)
    {
        for (var i = 0; i < count; i++)
        {
            var leg = legs[i];
            if (node is JsonObject obj && leg.Member is { } key && obj.TryGetPropertyValue(key, out var child))
            {
                node = child;
            }
            else if (node is JsonArray array && leg.Member is null && leg.Resolve(array.Count) is var index && index >= 0 && index < array.Count)
            {
                node = array[index];
            }
            else
            {
                throw new JsonDiffException($"The path does not resolve in the document at leg {i + 1}", diff);
            }
        }

        return node ?? throw new JsonDiffException("The path's parent is JSON null, not an object or array", diff);
    }

    private static List<PathLeg> ParsePath(JsonDiff diff)
    {
        var path = diff.Path.AsSpan().Trim();
        if (path.IsEmpty || path[0] != '$')
        {
            throw new JsonDiffException("The path does not start with $", diff);
        }

        var legs = new List<PathLeg>();
        var i = 1;
        while (i < path.Length)
        {
            var c = path[i];
            if (char.IsWhiteSpace(c))
            {
                i++;
            }
            else if (c == '.')
            {
                i++;
                while (i < path.Length && char.IsWhiteSpace(path[i]))
                {
                    i++;
                }

                if (i < path.Length && path[i] == '"')
                {
                    var end = i + 1;
                    while (end < path.Length && path[end] != '"')
                    {
                        end += path[end] == '\\' ? 2 : 1;
                    }

                    if (end >= path.Length)
                    {
                        throw new JsonDiffException("The path has an unterminated quoted member", diff);
                    }

                    try
                    {
                        legs.Add(PathLeg.ForMember(JsonSerializer.Deserialize<string>(path[i..(end + 1)].ToString())!));
                    }
                    catch (JsonException e)
                    {
                        throw new JsonDiffException("The path has an invalid quoted member", diff, e);
                    }

                    i = end + 1;
                }
                else
                {
                    var start = i;
                    while (i < path.Length && path[i] is not ('.' or '[') && !char.IsWhiteSpace(path[i]))
                    {
                        i++;
                    }

                    var name = path[start..i];
                    if (name.IsEmpty || name.Contains('*'))
                    {
                        throw new JsonDiffException("The path has an empty or wildcard member", diff);
                    }

                    legs.Add(PathLeg.ForMember(name.ToString()));
                }
            }
            else if (c == '[')
            {
                var close = path[i..].IndexOf(']');
                if (close < 0)
                {
                    throw new JsonDiffException("The path has an unterminated array index", diff);
                }

                legs.Add(ParseIndex(path[(i + 1)..(i + close)], diff));
                i += close + 1;
            }
            else
            {
                throw new JsonDiffException($"The path has an unexpected '{c}' at {i}", diff);
            }
        }

        return legs;
    }

    private static PathLeg ParseIndex(ReadOnlySpan<char> text, JsonDiff diff)
    {
        var compact = new StringBuilder();
        foreach (var c in text)
        {
            if (!char.IsWhiteSpace(c))
            {
                compact.Append(c);
            }
        }

        var index = compact.ToString();
        if (index == "last")
        {
            return PathLeg.FromLast(0);
        }

        if (index.StartsWith("last-", StringComparison.Ordinal)
            && int.TryParse(index.AsSpan(5), NumberStyles.None, CultureInfo.InvariantCulture, out var back))
        {
            return PathLeg.FromLast(back);
        }

        if (int.TryParse(index, NumberStyles.None, CultureInfo.InvariantCulture, out var position))
        {
            return PathLeg.At(position);
        }

        throw new JsonDiffException($"The path has an array index '{index}' that is not n, last or last-n (ranges and wildcards cannot be diffed)", diff);
    }

    private readonly record struct PathLeg(string? Member, int Index, bool FromEnd)
    {
        public static PathLeg ForMember(string name) => new(name, 0, false);

        public static PathLeg At(int index) => new(null, index, false);

        public static PathLeg FromLast(int back) => new(null, back, true);

        public int Resolve(int count) => FromEnd ? count - 1 - Index : Index;
    }
}
