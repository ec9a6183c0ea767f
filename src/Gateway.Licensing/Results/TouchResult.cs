namespace Gateway.Licensing.Results;

/// <summary>Answer of a batched touch: which sessions the store no longer holds.</summary>
internal sealed record TouchResult(IReadOnlyList<string> MissingSessionIds, ExpiredSessions Expired);
