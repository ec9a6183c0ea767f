namespace Gateway.Tests.Support;

/// <summary>
/// How many trials a measuring test runs: <c>LIVENESS_TRIALS</c> when set (e.g. 20, to measure a worst
/// case), else the test's own small default, so the regular suite stays quick.
/// </summary>
public static class Trials
{
    public static int Count(int defaultCount) =>
        int.TryParse(Environment.GetEnvironmentVariable("LIVENESS_TRIALS"), out var n) && n > 0 ? n : defaultCount;
}
