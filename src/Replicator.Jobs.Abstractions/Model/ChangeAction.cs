namespace Replicator.Model;

/// <summary>What a row change did: meepo's <c>write</c>, <c>update</c> and <c>delete</c>.</summary>
public enum ChangeAction : byte
{
    Write = 0,
    Update = 1,
    Delete = 2,
}
