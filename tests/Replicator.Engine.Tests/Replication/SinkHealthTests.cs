using Replicator.Engine.Replication;
using Replicator.Jobs;

namespace Replicator.Engine.Tests.Replication;

public sealed class SinkHealthTests
{
    private static readonly DateTime T0 = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    private static (string, ApplyResult) Failed(string pk, string error = "redis: RedisConnectionException: No connection is available to service this operation: EVALSHA") => (pk, ApplyResult.SinkUnavailable(error));

    private static (string, ApplyResult) Refused(string pk, string error) => (pk, ApplyResult.Failed(error));

    private static (string, ApplyResult) Ok(string pk) => (pk, ApplyResult.Applied);

    [Fact]
    public void A_whole_batch_of_pks_failing_the_same_way_is_an_outage_until_the_first_success()
    {
        var health = new SinkHealth();
        var down = health.Record([Failed("1"), Failed("2"), Failed("3")], T0);
        Assert.Equal(new SinkVerdict(true, SinkTransition.Down, 1, TimeSpan.Zero), down);
        Assert.True(health.IsDown);
        Assert.Equal(T0, health.DownSince);

        var again = health.Record([Failed("4")], T0.AddSeconds(5));
        Assert.Equal(new SinkVerdict(true, SinkTransition.None, 2, TimeSpan.FromSeconds(5)), again);

        var up = health.Record([Ok("1"), Failed("2")], T0.AddSeconds(30));
        Assert.Equal(SinkTransition.Up, up.Transition);
        Assert.False(up.Down);
        Assert.Equal(TimeSpan.FromSeconds(30), up.Duration);
        Assert.False(health.IsDown);
        Assert.Equal(1, health.Outages);
    }

    [Fact]
    public void Pks_failing_one_after_another_across_buckets_add_up_and_details_of_the_error_do_not_matter()
    {
        var health = new SinkHealth();
        Assert.False(health.Record([Failed("1", "redis: RedisTimeoutException: Timeout performing EVALSHA (5000ms), inst: 3")], T0).Down);
        Assert.False(health.Record([Failed("2", "redis: RedisTimeoutException: Timeout performing EVALSHA (5000ms), inst: 9")], T0).Down);
        Assert.True(health.Record([Failed("3", "redis: RedisTimeoutException: Timeout performing EVALSHA (5000ms), inst: 1")], T0).Down);
    }

    [Fact]
    public void One_pk_timing_out_batch_after_batch_is_never_an_outage()
    {
        var health = new SinkHealth();
        for (var i = 0; i < 50; i++)
        {
            Assert.False(health.Record([Failed("13", "the job did not finish within apply-timeout")], T0.AddSeconds(i)).Down);
        }
    }

    [Fact]
    public void Rows_the_sink_answered_for_and_refused_are_poison_rows_however_many_and_never_an_outage()
    {
        var health = new SinkHealth();
        for (var i = 0; i < 50; i++)
        {
            Assert.False(health.Record([Refused($"{i}", "redis: WRONGTYPE Operation against a key holding the wrong kind of value"), Refused($"{i + 100}", "redis: WRONGTYPE Operation against a key holding the wrong kind of value")], T0.AddSeconds(i)).Down);
        }

        // Nor do they hide an outage, or end one.
        Assert.True(health.Record([Failed("1"), Refused("2", "redis: WRONGTYPE x"), Failed("3"), Failed("4")], T0).Down);
        Assert.True(health.Record([Refused("2", "redis: WRONGTYPE x")], T0).Down);
    }

    [Fact]
    public void Failures_of_different_kinds_or_with_successes_between_are_not_an_outage()
    {
        var health = new SinkHealth();
        Assert.False(health.Record([Failed("1", "poisoned: a"), Failed("2", "redis: RedisTimeoutException: x")], T0).Down);
        Assert.False(health.Record([Failed("3", "poisoned: a")], T0).Down);
        Assert.False(health.Record([Ok("9")], T0).Down);
        Assert.False(health.Record([Failed("4", "poisoned: a"), Failed("5", "poisoned: a"), Ok("6")], T0).Down);
    }

    [Fact]
    public void Only_timeouts_lost_connections_and_refused_rights_say_the_sink_is_unavailable()
    {
        Assert.True(SinkHealth.IsUnavailable(new TimeoutException()));
        Assert.True(SinkHealth.IsUnavailable(new OperationCanceledException()));
        Assert.True(SinkHealth.IsUnavailable(new System.Net.Sockets.SocketException((int)System.Net.Sockets.SocketError.ConnectionRefused)));
        Assert.True(SinkHealth.IsUnavailable(new StackExchange.Redis.RedisServerException(StackExchange.Redis.RedisErrorKind.NoPermission, StackExchange.Redis.CommandFlags.None, "NOPERM this user has no permissions to run the 'evalsha' command")));
        Assert.True(SinkHealth.IsUnavailable(new InvalidOperationException("wrapped", new System.IO.IOException("broken pipe"))));
        Assert.True(SinkHealth.IsUnavailable(new AggregateException(new TimeoutException(), new System.Net.Sockets.SocketException())));

        Assert.False(SinkHealth.IsUnavailable(new FormatException("cannot encode this row")));
        Assert.False(SinkHealth.IsUnavailable(new StackExchange.Redis.RedisServerException(StackExchange.Redis.RedisErrorKind.UnknownError, StackExchange.Redis.CommandFlags.None, "ERR Error running script: too many results to unpack")));
        Assert.False(SinkHealth.IsUnavailable(new AggregateException(new TimeoutException(), new FormatException())));
    }
}
