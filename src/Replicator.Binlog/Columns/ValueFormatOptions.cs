namespace Replicator.Binlog.Columns;

/// <summary>How zero dates (<c>0000-00-00</c>) and zero-in-date values (<c>2020-00-15</c>) are written.</summary>
public enum ZeroDateHandling
{
    /// <summary>As the literal text the server holds (the default).</summary>
    Literal,

    /// <summary>As JSON null.</summary>
    Null,
}

/// <summary>Choices that change how values are rendered, not how they are decoded.</summary>
public sealed record ValueFormatOptions(ZeroDateHandling ZeroDates = ZeroDateHandling.Literal)
{
    public static ValueFormatOptions Default { get; } = new();
}
