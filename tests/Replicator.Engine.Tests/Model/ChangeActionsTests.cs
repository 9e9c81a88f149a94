using Replicator.Model;

namespace Replicator.Engine.Tests.Model;

public sealed class ChangeActionsTests
{
    [Theory]
    [InlineData(ChangeAction.Write, "write")]
    [InlineData(ChangeAction.Update, "update")]
    [InlineData(ChangeAction.Delete, "delete")]
    public void Each_defined_action_has_its_name(ChangeAction action, string expected)
    {
        Assert.Equal(expected, action.Name());
    }

    [Fact]
    public void Every_defined_action_is_named()
    {
        foreach (var action in Enum.GetValues<ChangeAction>())
            Assert.False(string.IsNullOrEmpty(action.Name()));
    }

    [Fact]
    public void An_unknown_action_throws_naming_the_value()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => ((ChangeAction)7).Name());
        Assert.Equal("action", ex.ParamName);
        Assert.Equal((ChangeAction)7, ex.ActualValue);
        Assert.Contains("7", ex.Message);
    }
}
