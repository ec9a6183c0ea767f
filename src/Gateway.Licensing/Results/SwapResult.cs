namespace Gateway.Licensing.Results;

/// <summary>Answer of a swap: the resulting states of both users.</summary>
/// <param name="Status"><see cref="ActivationStatus.Updated"/> when the swap was made, else why nothing changed.</param>
/// <param name="DeactivatedUserActive">Whether the user to deactivate is active now.</param>
/// <param name="ActivatedUserActive">Whether the user to activate is active now.</param>
/// <param name="ActivatedUserCreated">True when the user to activate was registered by this swap.</param>
/// <param name="EndedSessionIds">Sessions of the deactivated user ended by the swap.</param>
public sealed record SwapResult(ActivationStatus Status, bool DeactivatedUserActive, bool ActivatedUserActive, bool ActivatedUserCreated, IReadOnlyList<string> EndedSessionIds);
