namespace Replicator.Model;

public static class ChangeActions
{
    /// <summary>The action's name in topics and JSON: write, update, delete.</summary>
    public static string Name(this ChangeAction action) => action switch
    {
        ChangeAction.Write => "write",
        ChangeAction.Update => "update",
        _ => "delete",
    };
}
