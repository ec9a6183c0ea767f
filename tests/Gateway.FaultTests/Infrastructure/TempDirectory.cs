using Gateway.Licensing.Tests.Infrastructure;

namespace Gateway.FaultTests.Infrastructure;

/// <summary>
/// A fresh directory under <c>$GATEWAY_TEST_TMP</c> when set (CI's marker directory), else under the
/// system temp path; deleted on dispose.
/// </summary>
public sealed class TempDirectory(string prefix) : IDisposable
{
    public string Path { get; } = RedisProcess.CreateTempDirectory(prefix);

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
