namespace Gateway.Licensing.Store;

/// <summary>
/// An admin write was made on the primary, but too few replicas acknowledged it in time: it may or may not
/// survive the loss of that primary, so it must not be answered as done.
/// </summary>
public sealed class StoreNotDurableException(string message) : Exception(message);
