using System.Text.Json.Nodes;
using Replicator.Binlog.Columns;

namespace Replicator.Binlog.Tests;

/// <summary>Applying MySQL partial JSON updates to the before image, with the server's rules.</summary>
public sealed class JsonDiffApplierTests
{
    private static JsonDiff Replace(string path, string value) => new(JsonDiffOperation.Replace, path, value);

    private static JsonDiff Insert(string path, string value) => new(JsonDiffOperation.Insert, path, value);

    private static JsonDiff Remove(string path) => new(JsonDiffOperation.Remove, path, null);

    [Theory]
    [InlineData("{\"age\":24,\"name\":\"Joe\"}", "{\"age\":26,\"name\":\"Joe\"}")]   // JSON_SET(doc, '$.age', 26)
    public void Replace_sets_an_existing_member(string document, string expected)
    {
        Assert.Equal(expected, JsonDiffApplier.Apply(document, [Replace("$.age", "26")]));
    }

    [Fact]
    public void Replace_reaches_into_nested_arrays_and_objects()
    {
        var result = JsonDiffApplier.Apply("{\"a\":{\"b\":[1,2,3]}}", [Replace("$.a.b[1]", "{\"x\":true}")]);
        Assert.Equal("{\"a\":{\"b\":[1,{\"x\":true},3]}}", result);
    }

    [Fact]
    public void Replace_understands_last_and_last_minus_n()
    {
        var result = JsonDiffApplier.Apply("[1,2,3]", [Replace("$[last]", "30"), Replace("$[last-2]", "10")]);
        Assert.Equal("[10,2,30]", result);
    }

    [Fact]
    public void Replace_understands_quoted_members()
    {
        var result = JsonDiffApplier.Apply("{\"a b\":1,\"c\\\"d\":2}", [Replace("$.\"a b\"", "3"), Replace("$.\"c\\\"d\"", "4")]);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("{\"a b\":3,\"c\\\"d\":4}"), JsonNode.Parse(result)));
    }

    [Fact]
    public void Insert_adds_a_member_that_was_not_there()
    {
        // JSON_SET(doc, '$.city', 'Oslo') on a document without city
        var result = JsonDiffApplier.Apply("{\"name\":\"Joe\"}", [Insert("$.city", "\"Oslo\"")]);
        Assert.Equal("{\"name\":\"Joe\",\"city\":\"Oslo\"}", result);
    }

    [Fact]
    public void Insert_into_an_array_shifts_the_rest()
    {
        // JSON_ARRAY_INSERT(doc, '$[1]', 'x')
        Assert.Equal("[1,\"x\",2]", JsonDiffApplier.Apply("[1,2]", [Insert("$[1]", "\"x\"")]));
    }

    [Fact]
    public void Insert_past_the_end_of_an_array_appends()
    {
        Assert.Equal("[1,2,3]", JsonDiffApplier.Apply("[1,2]", [Insert("$[10]", "3")]));
    }

    [Fact]
    public void Remove_drops_a_member_and_an_array_element()
    {
        var result = JsonDiffApplier.Apply("{\"a\":1,\"b\":[1,2,3]}", [Remove("$.a"), Remove("$.b[0]")]);
        Assert.Equal("{\"b\":[2,3]}", result);
    }

    [Fact]
    public void Diffs_apply_in_order_and_keep_big_numbers_and_unicode_exact()
    {
        var result = JsonDiffApplier.Apply(
            "{\"n\":18446744073709551615,\"s\":\"ø\"}",
            [Insert("$.t", "\"日本\""), Replace("$.t", "\"語\""), Remove("$.s")]);
        Assert.Equal("{\"n\":18446744073709551615,\"t\":\"語\"}", result);
    }

    [Fact]
    public void Replace_of_a_missing_path_fails_clearly()
    {
        var diff = Replace("$.missing", "1");
        var error = Assert.Throws<JsonDiffException>(() => JsonDiffApplier.Apply("{\"a\":1}", [diff]));
        Assert.Same(diff, error.Diff);
        Assert.Contains("$.missing", error.Message);
    }

    [Fact]
    public void Insert_of_an_existing_member_fails()
    {
        Assert.Throws<JsonDiffException>(() => JsonDiffApplier.Apply("{\"a\":1}", [Insert("$.a", "2")]));
    }

    [Fact]
    public void Remove_of_a_missing_element_fails()
    {
        Assert.Throws<JsonDiffException>(() => JsonDiffApplier.Apply("[1]", [Remove("$[3]")]));
    }

    [Fact]
    public void A_path_through_a_scalar_fails()
    {
        Assert.Throws<JsonDiffException>(() => JsonDiffApplier.Apply("{\"a\":1}", [Replace("$.a.b", "2")]));
    }

    [Fact]
    public void The_root_is_never_a_diff_target()
    {
        Assert.Throws<JsonDiffException>(() => JsonDiffApplier.Apply("{}", [Replace("$", "1")]));
    }

    [Fact]
    public void Wildcards_are_refused()
    {
        Assert.Throws<JsonDiffException>(() => JsonDiffApplier.Apply("[1]", [Replace("$[*]", "2")]));
    }

    [Fact]
    public void A_before_image_that_is_not_json_fails()
    {
        Assert.Throws<JsonDiffException>(() => JsonDiffApplier.Apply("{not json", [Replace("$.a", "1")]));
    }

    [Fact]
    public void A_diff_without_a_value_fails()
    {
        Assert.Throws<JsonDiffException>(() => JsonDiffApplier.Apply("{\"a\":1}", [new JsonDiff(JsonDiffOperation.Replace, "$.a", null)]));
    }
}
