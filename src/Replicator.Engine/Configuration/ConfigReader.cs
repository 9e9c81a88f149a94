using System.Globalization;
using Akka.Configuration;
using Akka.Configuration.Hocon;

namespace Replicator.Engine.Configuration;

/// <summary>
/// Reads one config object strictly: every key must be known, every value of the right type and in
/// range. Failures throw a <see cref="ConfigurationException"/> naming the full key path and what
/// was wrong, never the value of a secret.
/// </summary>
internal sealed class ConfigReader
{
    private readonly Config _config;

    public ConfigReader(Config config, string path)
    {
        _config = config;
        Path = path;
    }

    /// <summary>The full path of this object, e.g. <c>replicator.sources.main</c>.</summary>
    public string Path { get; }

    public static ConfigReader At(Config root, string path) =>
        new(root.HasPath(path) ? root.GetConfig(path) : ConfigurationFactory.Empty, path);

    public ConfigReader Child(string key) =>
        new(_config.HasPath(key) ? _config.GetConfig(key) : ConfigurationFactory.Empty, $"{Path}.{key}");

    public Config Config => _config;

    public bool HasAny => !_config.IsEmpty;

    public IReadOnlyList<string> Keys =>
        _config.IsEmpty ? [] : _config.Root.GetObject().Items.Keys.ToList();

    /// <summary>Fails on any key not in <paramref name="known"/>, suggesting the closest known key.</summary>
    public void RequireOnly(params string[] known)
    {
        foreach (var key in Keys)
        {
            if (!known.Contains(key, StringComparer.Ordinal))
            {
                var suggestion = known.OrderBy(k => Distance(k, key)).FirstOrDefault();
                var hint = suggestion is not null && Distance(suggestion, key) <= 3 ? $" Did you mean {Path}.{suggestion}?" : $" Known keys: {string.Join(", ", known)}.";
                throw Error(key, "is not a known setting." + hint);
            }
        }
    }

    public bool Has(string key) => _config.HasPath(key);

    public string String(string key, bool required = false)
    {
        var value = Value(key);
        if (value is null || value.IsEmpty)
        {
            return required ? throw Error(key, "is required.") : "";
        }

        if (value.IsObject() || value.IsArray())
        {
            throw Error(key, "must be a string.");
        }

        var text = value.GetString();
        if (required && string.IsNullOrWhiteSpace(text))
        {
            throw Error(key, "is required and must not be empty.");
        }

        return text;
    }

    public int Int(string key, int min, int max)
    {
        var text = String(key, required: true);
        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
        {
            throw Error(key, $"must be a whole number, not '{text}'.");
        }

        return value < min || value > max ? throw Error(key, $"must be between {min} and {max}, not {value}.") : value;
    }

    public long Long(string key, long min, long max)
    {
        var text = String(key, required: true);
        if (!long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
        {
            throw Error(key, $"must be a whole number, not '{text}'.");
        }

        return value < min || value > max ? throw Error(key, $"must be between {min} and {max}, not {value}.") : value;
    }

    public double Double(string key, double min, double max)
    {
        var text = String(key, required: true);
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
        {
            throw Error(key, $"must be a number, not '{text}'.");
        }

        return value < min || value > max ? throw Error(key, $"must be between {min} and {max}, not {value}.") : value;
    }

    public bool Bool(string key)
    {
        var text = String(key, required: true).ToLowerInvariant();
        return text switch
        {
            "on" or "true" or "yes" => true,
            "off" or "false" or "no" => false,
            _ => throw Error(key, $"must be on or off, not '{text}'."),
        };
    }

    public TimeSpan Duration(string key, TimeSpan min, TimeSpan max)
    {
        TimeSpan value;
        try
        {
            value = _config.GetTimeSpan(key, null, allowInfinite: false);
        }
        catch (Exception e) when (e is FormatException or OverflowException or ConfigurationException or ArgumentException)
        {
            throw Error(key, $"must be a duration such as 500ms, 5s, 2m or 1h, not '{String(key)}'.");
        }

        return value < min || value > max ? throw Error(key, $"must be between {min} and {max}, not {value}.") : value;
    }

    /// <summary>A size in bytes: a number with a unit such as 128000b, 256KiB or 4MiB.</summary>
    public long ByteSize(string key, long min, long max)
    {
        long? value;
        try
        {
            value = _config.GetByteSize(key);
        }
        catch (Exception e) when (e is FormatException or OverflowException or ConfigurationException or ArgumentException)
        {
            value = null;
        }

        if (value is null)
        {
            throw Error(key, $"must be a size such as 128000b, 256KiB or 4MiB, not '{String(key)}'.");
        }

        return value < min || value > max ? throw Error(key, $"must be between {CaptureSettings.Bytes(min)} and {CaptureSettings.Bytes(max)} bytes, not {CaptureSettings.Bytes(value.Value)}.") : value.Value;
    }

    public IReadOnlyList<string> StringList(string key)
    {
        var value = Value(key);
        if (value is null || value.IsEmpty)
        {
            return [];
        }

        try
        {
            return value.GetStringList().ToList();
        }
        catch (Exception e) when (e is InvalidOperationException or ConfigurationException or FormatException or NullReferenceException)
        {
            throw Error(key, "must be a list such as [a, b].");
        }
    }

    public T Enum<T>(string key)
        where T : struct, Enum
    {
        var text = String(key, required: true);
        var normalized = text.Replace("-", "", StringComparison.Ordinal);
        return System.Enum.TryParse<T>(normalized, ignoreCase: true, out var value) && System.Enum.IsDefined(value)
            ? value
            : throw Error(key, $"must be one of {string.Join(", ", System.Enum.GetNames<T>().Select(Kebab))}, not '{text}'.");
    }

    public ConfigurationException Error(string key, string problem) => new($"{Path}.{key} {problem}");

    /// <summary>
    /// The value of <paramref name="key"/>. A key that holds a dot (a quoted <c>"schema.table"</c> as
    /// <c>key-columns</c> uses) is one of this object's own items, which a path lookup would split.
    /// </summary>
    private HoconValue? Value(string key) =>
        key.Contains('.', StringComparison.Ordinal) && !_config.IsEmpty && _config.Root.GetObject().Items.TryGetValue(key, out var item)
            ? item
            : _config.HasPath(key) ? _config.GetValue(key) : null;

    private static string Kebab(string name) =>
        string.Concat(name.Select((c, i) => char.IsUpper(c) && i > 0 ? "-" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));

    private static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }

        for (var j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            }
        }

        return d[a.Length, b.Length];
    }
}
