namespace Replicator.Model;

public static class ChangeActions
{
    /// <summary>The action's name in topics and JSON: write, update, delete.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not a defined <see cref="ChangeAction"/>.</exception>
    public static string Name(this ChangeAction action) => action switch
    {
        ChangeAction.Write => "write",
        ChangeAction.Update => "update",
        ChangeAction.Delete => "delete",
        _ => throw new ArgumentOutOfRangeException(nameof(action), action, $"unknown change action {(byte)action}; known: write, update, delete"),
    };
}
