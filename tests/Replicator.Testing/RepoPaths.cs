namespace Replicator.Testing;

/// <summary>Paths in the repository the tests run from.</summary>
public static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    /// <summary>The built <c>replicator.dll</c> of the same configuration as the tests.</summary>
    public static string ReplicatorDll
    {
        get
        {
            var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";
            var path = Path.Combine(Root, "src", "Replicator.Host", "bin", configuration, "net10.0", "replicator.dll");
            return File.Exists(path) ? path : throw new FileNotFoundException($"Build src/Replicator.Host ({configuration}) first: {path} is missing.");
        }
    }

    // From the build output (a test project's bin/), else from the working directory (a file-based
    // app such as tests/fixtures/journals/record.cs builds outside the repository).
    private static string FindRoot() =>
        Above(AppContext.BaseDirectory) ?? Above(Environment.CurrentDirectory)
        ?? throw new DirectoryNotFoundException($"Replicator.sln not found above {AppContext.BaseDirectory} or {Environment.CurrentDirectory}");

    private static string? Above(string start)
    {
        var dir = new DirectoryInfo(start);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Replicator.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName;
    }
}
