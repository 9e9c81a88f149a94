using Replicator.Engine.Capture;

namespace Replicator.Engine.Tests.Capture;

public sealed class CaptureStateTests
{
    [Theory]
    [InlineData(CaptureState.Starting, "starting")]
    [InlineData(CaptureState.Reading, "reading")]
    [InlineData(CaptureState.TablePaused, "reading, table paused")]
    [InlineData(CaptureState.BackingOff, "backing-off")]
    public void A_state_keeps_the_text_that_status_readers_and_older_nodes_know(CaptureState state, string text)
    {
        Assert.Equal(text, state.Text());
        Assert.Equal(state, CaptureStates.Parse(text));
    }

    [Fact]
    public void Every_state_has_a_text()
    {
        foreach (var state in Enum.GetValues<CaptureState>())
        {
            Assert.Equal(state, CaptureStates.Parse(state.Text()));
        }
    }

    [Fact]
    public void An_unknown_text_is_an_error_that_lists_the_states()
    {
        var error = Assert.Throws<FormatException>(() => CaptureStates.Parse("paused"));
        Assert.Contains("backing-off", error.Message);
    }
}
