using FsCheck;
using FsCheck.Fluent;
using Replicator.Engine.Offsets;

namespace Replicator.Engine.Tests.Offsets;

public sealed class PendingRowsTests
{
    [Fact]
    public void The_oldest_row_is_the_lowest_ordinal_with_an_unfinished_delivery()
    {
        var rows = new PendingRows();
        rows.Add(5);
        rows.Add(6);
        rows.Add(6);
        rows.Add(40);
        Assert.Equal(5, rows.Oldest);
        Assert.True(rows.Remove(6));
        Assert.Equal(5, rows.Oldest);
        Assert.True(rows.Remove(5));
        Assert.Equal(6, rows.Oldest);
        Assert.True(rows.Remove(6));
        Assert.Equal(40, rows.Oldest);
        Assert.False(rows.Remove(6));
        Assert.True(rows.Remove(40));
        Assert.True(rows.IsEmpty);
        Assert.False(rows.Remove(40));
    }

    [Fact]
    public void Random_adds_and_removes_agree_with_a_sorted_model_even_out_of_order()
    {
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(300), Prop.ForAll(Arb.From(Gen.Choose(0, int.MaxValue)), seed =>
        {
            var random = new Random(seed);
            var rows = new PendingRows();
            var model = new SortedDictionary<int, int>();
            var next = random.Next(1000);
            for (var step = 0; step < 2000; step++)
            {
                if (random.Next(3) > 0)
                {
                    // Mostly rising ordinals, sometimes the same row again, rarely one below the window.
                    var ordinal = random.Next(20) switch
                    {
                        0 => Math.Max(0, next - random.Next(50)),
                        < 4 => next,
                        _ => next += 1 + random.Next(3),
                    };
                    rows.Add(ordinal);
                    model[ordinal] = model.GetValueOrDefault(ordinal) + 1;
                }
                else
                {
                    var ordinal = model.Count > 0 && random.Next(4) > 0 ? model.Keys.ElementAt(random.Next(model.Count)) : random.Next(next + 2);
                    var expected = model.TryGetValue(ordinal, out var count);
                    if (expected)
                    {
                        if (count == 1)
                        {
                            model.Remove(ordinal);
                        }
                        else
                        {
                            model[ordinal] = count - 1;
                        }
                    }

                    if (rows.Remove(ordinal) != expected)
                    {
                        return false;
                    }
                }

                if (rows.IsEmpty != (model.Count == 0) || (model.Count > 0 && rows.Oldest != model.Keys.First()))
                {
                    return false;
                }
            }

            return true;
        }));
    }
}
