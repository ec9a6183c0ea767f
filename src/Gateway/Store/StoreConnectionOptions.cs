using StackExchange.Redis;

namespace Gateway.Store;

/// <summary>
/// Builds the StackExchange.Redis options of the licensing store so that no request hangs on a dead
/// store and the gateway starts (and later recovers by itself) while the store is down (docs/operations.md, store outage).
/// </summary>
internal static class StoreConnectionOptions
{
    public const int DefaultConnectTimeoutMs = 2_000;
    public const int DefaultCommandTimeoutMs = 1_000;

    /// <summary>
    /// Parses <paramref name="connectionString"/> and applies the gateway's policy: never abort on a
    /// failed connect, fail commands at once while disconnected (no backlog), short timeouts. Timeouts
    /// written explicitly in the connection string are kept. Admin commands are allowed: the gateway's
    /// own durability check asks the store about its replicas (<c>INFO replication</c>, <c>CLUSTER NODES</c>),
    /// which the client refuses otherwise; the gateway sends no other admin command to a Redis it is given.
    /// </summary>
    public static ConfigurationOptions Create(string connectionString, string keyName)
    {
        ConfigurationOptions options;
        try
        {
            options = ConfigurationOptions.Parse(connectionString);
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or NotSupportedException)
        {
            // The connection string may hold a password: name the key, never echo the value.
            throw new InvalidOperationException($"{keyName} is not a valid StackExchange.Redis configuration string: {ex.GetType().Name}.", ex);
        }
        if (options.EndPoints.Count == 0)
            throw new InvalidOperationException($"{keyName} names no endpoint (expected e.g. 'redis:6379').");

        options.AbortOnConnectFail = false;
        options.BacklogPolicy = BacklogPolicy.FailFast;
        options.ReconnectRetryPolicy = new ExponentialRetry(500, 5_000);
        options.ClientName ??= "seat-gateway";
        options.AllowAdmin = true;
        if (!Mentions(connectionString, "connectTimeout")) options.ConnectTimeout = DefaultConnectTimeoutMs;
        if (!Mentions(connectionString, "syncTimeout")) options.SyncTimeout = DefaultCommandTimeoutMs;
        if (!Mentions(connectionString, "asyncTimeout")) options.AsyncTimeout = DefaultCommandTimeoutMs;
        return options;
    }

    private static bool Mentions(string connectionString, string option) =>
        connectionString.Contains(option + "=", StringComparison.OrdinalIgnoreCase);
}
