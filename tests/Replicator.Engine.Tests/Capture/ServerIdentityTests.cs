using Replicator.Binlog.Positions;
using Replicator.Engine.Capture;
using Replicator.Engine.Offsets;

namespace Replicator.Engine.Tests.Capture;

/// <summary>The checks that keep a saved binlog position from being resumed on a binlog it was not read from.</summary>
public sealed class ServerIdentityTests
{
    private static readonly SourceServer A = new(1, null, "db-a:3306");
    private static readonly SourceServer B = new(2, null, "db-b:3306");

    private static SourceOffset Saved(SourceServer? server, string? gtid = "0-1-57") =>
        new(new BinlogPosition("mariadb-bin.000003", 1234), 0, gtid) { Server = server };

    [Fact]
    public void An_offset_saved_on_another_server_is_refused_naming_both_servers_and_resume_by_gtid()
    {
        var error = Assert.Throws<PreflightException>(() => SourcePreflight.CheckSameServer("orders", Saved(A), B, byGtid: false));
        Assert.Contains("server_id 1 at db-a:3306", error.Message);
        Assert.Contains("server_id 2 at db-b:3306", error.Message);
        Assert.Contains("replicator.sources.orders.resume-by = gtid", error.Message);
        Assert.Contains("0-1-57", error.Message);
    }

    [Fact]
    public void An_offset_saved_on_another_server_resumes_there_by_gtid_as_a_changed_server()
    {
        Assert.True(SourcePreflight.CheckSameServer("orders", Saved(A), B, byGtid: true));
    }

    [Fact]
    public void An_offset_without_a_recorded_server_adopts_the_one_it_reaches()
    {
        Assert.False(SourcePreflight.CheckSameServer("orders", Saved(null), B, byGtid: false));
        Assert.False(SourcePreflight.CheckSameServer("orders", null, B, byGtid: false));
        Assert.False(SourcePreflight.CheckSameServer("orders", Saved(A), A with { Endpoint = "10.0.0.5:3306" }, byGtid: false));
    }

    [Fact]
    public void A_mysql_server_is_told_apart_by_its_server_uuid_even_with_the_same_server_id()
    {
        var one = new SourceServer(1, "3e11fa47-71ca-11e1-9e33-c80aa9429562", "db:3306");
        var other = one with { Uuid = "8a94f357-aab4-11df-86ab-c80aa9429563" };
        Assert.Throws<PreflightException>(() => SourcePreflight.CheckSameServer("orders", Saved(one, gtid: null), other, byGtid: false));
        Assert.False(SourcePreflight.CheckSameServer("orders", Saved(one, gtid: null), one, byGtid: false));
    }

    [Fact]
    public void A_saved_position_whose_gtid_position_differs_on_the_server_was_reset_or_restored()
    {
        var reset = Assert.Throws<PreflightException>(() => SourcePreflight.CheckSavedGtid("orders", Saved(A, "0-1-57,1-1-3"), A, MariaDbGtidPosition.Parse("0-1-2")));
        Assert.Contains("RESET MASTER", reset.Message);
        Assert.Contains("resume-by = gtid", reset.Message);

        var noEvent = Assert.Throws<PreflightException>(() => SourcePreflight.CheckSavedGtid("orders", Saved(A), A, null));
        Assert.Contains("No event starts at the saved position mariadb-bin.000003:1234", noEvent.Message);

        // The server's full position may name more domains than an offset saved before full positions were kept.
        SourcePreflight.CheckSavedGtid("orders", Saved(A, "0-1-57"), A, MariaDbGtidPosition.Parse("0-1-57,1-1-3"));
        SourcePreflight.CheckSavedGtid("orders", Saved(A, gtid: null), A, null);
    }

    [Fact]
    public void A_gtid_resume_needs_a_server_that_holds_the_saved_position_and_the_binlog_after_it()
    {
        var after = MariaDbGtidPosition.Parse("0-1-57");
        Assert.Empty(SourcePreflight.CheckGtidResume("orders", after, B, MariaDbGtidPosition.Parse("0-2-60"), "b-bin.000001", MariaDbGtidPosition.Empty));

        var behind = Assert.Throws<PreflightException>(() => SourcePreflight.CheckGtidResume("orders", after, B, MariaDbGtidPosition.Parse("0-1-50"), "b-bin.000001", MariaDbGtidPosition.Empty));
        Assert.Contains("lacks transactions of domain 0 up to 0-1-57", behind.Message);

        var purged = Assert.Throws<PreflightException>(() => SourcePreflight.CheckGtidResume("orders", after, B, MariaDbGtidPosition.Parse("0-2-90"), "b-bin.000004", MariaDbGtidPosition.Parse("0-2-70")));
        Assert.Contains("b-bin.000004, starts after 0-2-70", purged.Message);

        var warning = Assert.Single(SourcePreflight.CheckGtidResume("orders", after, B, MariaDbGtidPosition.Parse("0-2-60,5-2-9"), "b-bin.000001", MariaDbGtidPosition.Empty));
        Assert.Contains("GTID domain 5", warning);
    }
}
