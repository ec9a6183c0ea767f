namespace Gateway.Licensing.Results;

/// <summary>One day of the usage ledger: peaks of concurrent sessions and of active users that UTC day.</summary>
/// <param name="Date">The UTC day.</param>
/// <param name="PeakSessions">Most sessions live at once that day.</param>
/// <param name="PeakActiveUsers">Most users active at once that day.</param>
public sealed record UsageDay(DateOnly Date, int PeakSessions, int PeakActiveUsers);
