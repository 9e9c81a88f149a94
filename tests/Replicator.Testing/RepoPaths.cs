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

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Replicator.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new DirectoryNotFoundException("Replicator.sln not found above " + AppContext.BaseDirectory);
    }
}
