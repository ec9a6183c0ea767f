namespace Gateway.Licensing.Results;

/// <summary>Answer of a bulk activation: <see cref="Created"/> follows the order of the request.</summary>
/// <param name="Status"><see cref="ActivationStatus.Updated"/> when every change was applied, else why none was.</param>
/// <param name="ActiveUsers">Users active afterwards.</param>
/// <param name="Created">Per requested change, in order: true when that user was registered by this call (empty when nothing changed).</param>
/// <param name="EndedSessionIds">Sessions of deactivated users ended by the changes.</param>
public sealed record BulkActivationResult(ActivationStatus Status, int ActiveUsers, IReadOnlyList<bool> Created, IReadOnlyList<string> EndedSessionIds);
