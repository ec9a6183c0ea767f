namespace Gateway.FaultTests.Infrastructure;

/// <summary>
/// A fresh directory under <c>$GATEWAY_TEST_TMP</c> when set (CI's marker directory), else under the
/// system temp path; deleted on dispose.
/// </summary>
public sealed class TempDirectory : IDisposable
{
    public TempDirectory(string prefix)
    {
        var root = Environment.GetEnvironmentVariable("GATEWAY_TEST_TMP") is { Length: > 0 } marker ? marker : System.IO.Path.GetTempPath();
        Path = System.IO.Path.Combine(root, $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 13)]);
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // best effort
        }
    }
}
