using System.Security.Cryptography;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.StackExchangeRedis;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Gateway.SeatConsole;

/// <summary>
/// Console sign-in tickets kept in the store (a distributed cache on the gateway's own Redis connection,
/// keys <c>lic:{console}:signin:{id}</c>), so the cookie carries only a protected random id and every
/// replica reads the same sign-in. An entry lives until the sign-in expires; sign-out removes it.
/// </summary>
internal sealed class ConsoleTicketStore : ITicketStore
{
    /// <summary>Prefix of the ticket keys; the hash tag keeps them in one cluster slot beside the key ring.</summary>
    public const string KeyPrefix = "lic:{console}:signin:";

    private static readonly TicketSerializer Serializer = TicketSerializer.Default;
    private readonly IDistributedCache _cache;
    private readonly TimeProvider _time;

    public ConsoleTicketStore(IConnectionMultiplexer connection, TimeProvider time)
        : this(CreateCache(connection), time)
    {
    }

    internal ConsoleTicketStore(IDistributedCache cache, TimeProvider time)
    {
        _cache = cache;
        _time = time;
    }

    /// <summary>
    /// The cache on the shared connection. It is never disposed: disposing a <see cref="RedisCache"/>
    /// closes its connection, which is the gateway's own.
    /// </summary>
    private static RedisCache CreateCache(IConnectionMultiplexer connection) =>
        new(Options.Create(new RedisCacheOptions
        {
            InstanceName = KeyPrefix,
            ConnectionMultiplexerFactory = () => Task.FromResult(connection),
        }));

    public async Task<string> StoreAsync(AuthenticationTicket ticket)
    {
        var key = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
        await RenewAsync(key, ticket).ConfigureAwait(false);
        return key;
    }

    public Task RenewAsync(string key, AuthenticationTicket ticket) => RenewAsync(key, ticket, CancellationToken.None);

    public Task RenewAsync(string key, AuthenticationTicket ticket, CancellationToken cancellationToken)
    {
        var expires = ticket.Properties.ExpiresUtc ?? _time.GetUtcNow().AddHours(1);
        return _cache.SetAsync(key, Serializer.Serialize(ticket), new DistributedCacheEntryOptions { AbsoluteExpiration = expires }, cancellationToken);
    }

    public Task<AuthenticationTicket?> RetrieveAsync(string key) => RetrieveAsync(key, CancellationToken.None);

    public async Task<AuthenticationTicket?> RetrieveAsync(string key, CancellationToken cancellationToken)
    {
        if (!IsKey(key)) return null;
        var bytes = await _cache.GetAsync(key, cancellationToken).ConfigureAwait(false);
        return bytes is null ? null : Serializer.Deserialize(bytes);
    }

    public Task RemoveAsync(string key) => RemoveAsync(key, CancellationToken.None);

    public Task RemoveAsync(string key, CancellationToken cancellationToken) =>
        IsKey(key) ? _cache.RemoveAsync(key, cancellationToken) : Task.CompletedTask;

    /// <summary>Only ids this store made reach a store key (the cookie is protected, but a key never holds client text).</summary>
    private static bool IsKey(string key) => key.Length == 64 && key.All(char.IsAsciiHexDigitLower);
}

/// <summary>Hands the store to the cookie scheme once the services exist.</summary>
internal sealed class ConsoleCookieSetup(ConsoleTicketStore store) : IPostConfigureOptions<CookieAuthenticationOptions>
{
    public void PostConfigure(string? name, CookieAuthenticationOptions options)
    {
        if (name == ConsoleAuthentication.CookieScheme) options.SessionStore = store;
    }
}
