using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Replicator.Engine.Replication;
using Replicator.Host.Admin;

namespace Replicator.Host.Commands;

/// <summary>
/// <c>replicator dead-letters</c>: lists a definition's dead letters through a node's admin endpoint,
/// a page at a time (the endpoint's <c>offset</c> and <c>limit</c>), or with <c>--all</c> every letter
/// as one JSON line, following each page's <c>next</c>, so a large store is never read in one reply.
/// Exit code 0, or 1 on an error.
/// </summary>
internal static class DeadLettersCommand
{
    public static Command Create()
    {
        var admin = new Option<string>("--admin") { Description = "The node's admin endpoint, host:port (as given to replicator run --admin).", Required = true };
        var definition = new Option<string>("--definition") { Description = "The definition whose dead letters to list.", Required = true };
        var offset = new Option<int>("--offset") { Description = "The first letter to list, from 0 (the 'next' of the page before).", DefaultValueFactory = _ => 0 };
        var limit = new Option<int>("--limit") { Description = $"Letters per page, 1 to {ListDeadLetterPage.MaxLimit}.", DefaultValueFactory = _ => ListDeadLetterPage.DefaultLimit };
        var all = new Option<bool>("--all") { Description = "Every letter from --offset on, one JSON object a line, page after page." };
        var tokenFile = new Option<FileInfo?>("--admin-token-file") { Description = $"File holding the admin token (instead of {AdminToken.EnvironmentVariable}); needed for an endpoint off loopback." };
        var command = new Command("dead-letters", "List a definition's dead letters through a node's admin endpoint, page by page.") { admin, definition, offset, limit, all, tokenFile };
        command.SetAction((result, cancellationToken) =>
        {
            if (!IPEndPoint.TryParse(result.GetValue(admin)!, out var endpoint))
            {
                return Task.FromResult(Errors.Report($"--admin '{result.GetValue(admin)}' is not host:port (e.g. 127.0.0.1:9090)."));
            }

            if (result.GetValue(limit) is < 1 or > ListDeadLetterPage.MaxLimit || result.GetValue(offset) < 0)
            {
                return Task.FromResult(Errors.Report($"--limit must be from 1 to {ListDeadLetterPage.MaxLimit} and --offset from 0."));
            }

            string? token;
            try
            {
                token = result.GetValue(tokenFile) is { } file ? File.ReadAllText(file.FullName).TrimEnd('\r', '\n') : Environment.GetEnvironmentVariable(AdminToken.EnvironmentVariable);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return Task.FromResult(Errors.Report($"--admin-token-file {result.GetValue(tokenFile)!.FullName}: cannot read it ({e.GetType().Name})."));
            }

            return ListAsync(endpoint, result.GetValue(definition)!, result.GetValue(offset), result.GetValue(limit), result.GetValue(all), token, cancellationToken);
        });
        return command;
    }

    private static async Task<int> ListAsync(IPEndPoint endpoint, string definition, int offset, int limit, bool all, string? token, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        if (!string.IsNullOrEmpty(token))
        {
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        int? next = offset;
        try
        {
            while (next is { } at)
            {
                var url = $"http://{endpoint}/dead-letters/{Uri.EscapeDataString(definition)}?offset={at.ToString(CultureInfo.InvariantCulture)}&limit={limit.ToString(CultureInfo.InvariantCulture)}";
                using var response = await http.GetAsync(url, cancellationToken).ConfigureAwait(false);
                var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
                if (!response.IsSuccessStatusCode)
                {
                    return Errors.Report($"{url} answered {(int)response.StatusCode}: {body.Trim()}");
                }

                if (!all)
                {
                    Console.WriteLine(body.TrimEnd());
                    return 0;
                }

                using var page = JsonDocument.Parse(body);
                foreach (var letter in page.RootElement.GetProperty("entries").EnumerateArray())
                {
                    Console.WriteLine(Compact(letter));
                }

                var nextValue = page.RootElement.GetProperty("next");
                next = nextValue.ValueKind == JsonValueKind.Null ? null : nextValue.GetInt32();
            }

            return 0;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException or KeyNotFoundException)
        {
            return Errors.Report($"the admin endpoint {endpoint}: {e.Message}");
        }
    }

    /// <summary>One letter on one line: the endpoint's indented JSON written again without indentation.</summary>
    private static string Compact(JsonElement letter)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            letter.WriteTo(writer);
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }
}
