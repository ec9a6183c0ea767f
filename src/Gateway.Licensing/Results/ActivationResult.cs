namespace Gateway.Licensing.Results;

/// <summary>Answer of an activation change; <see cref="EndedSessionIds"/> ended because of it.</summary>
/// <param name="Status">How the change ended.</param>
/// <param name="Active">Whether the user is active now.</param>
/// <param name="EndedSessionIds">The user's sessions ended by a deactivation.</param>
public sealed record ActivationResult(ActivationStatus Status, bool Active, IReadOnlyList<string> EndedSessionIds);
