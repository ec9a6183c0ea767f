using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace Gateway.Authentication;

/// <summary>
/// The signing keys of the identity provider named by <c>Authentication:Schemes:Bearer:Authority</c>
/// (its discovery document and JWKS), in place of ASP.NET's configuration manager, which refreshes
/// every 12 hours and, once a token has asked for a refresh (any token naming an unknown key id does),
/// ignores further requests for 5 minutes: a stream of made-up key ids held a real rotation back, and
/// a key the provider dropped kept working.
/// <list type="bullet">
/// <item>The keys are fetched at start and then every <see cref="BearerTokenOptions.KeyRefreshInterval"/>
/// by <see cref="SigningKeyRefresher"/>: a new key is known, and a removed one forgotten, within that
/// interval (plus the fetch).</item>
/// <item>A token naming an unknown key asks for a refresh (JwtBearer calls <see cref="RequestRefresh"/>);
/// such refreshes run in the background, one at a time and at most one per <see cref="OnDemandSpacing"/>,
/// so made-up key ids can neither hold a rotation back for long nor flood the provider.</item>
/// <item>Each distinct key set has a <see cref="KeySet.Version"/>; the validated-token cache compares it
/// with the version its entry was validated under, and drops an entry whose key is no longer published.</item>
/// <item>A failed fetch keeps the last keys (an unreachable provider is not a removal) and logs a warning.</item>
/// </list>
/// </summary>
internal sealed partial class DiscoveredSigningKeys : IConfigurationManager<OpenIdConnectConfiguration>, IDisposable
{
    /// <summary>The least time between two refreshes asked for by tokens naming unknown keys.</summary>
    public static readonly TimeSpan OnDemandSpacing = TimeSpan.FromSeconds(5);

    private readonly string _metadataAddress;
    private readonly IDocumentRetriever _retriever;
    private readonly HttpClient? _ownedClient;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private Task? _refreshing;
    private KeySet? _current;
    private long _lastOnDemandTicks = long.MinValue;
    private bool _failing;

    public DiscoveredSigningKeys(string metadataAddress, IDocumentRetriever retriever, TimeProvider time, ILogger logger, HttpClient? ownedClient = null)
    {
        _metadataAddress = metadataAddress;
        _retriever = retriever;
        _time = time;
        _logger = logger;
        _ownedClient = ownedClient;
    }

    /// <summary>The keys last fetched, or null before the first successful fetch.</summary>
    public KeySet? Current => Volatile.Read(ref _current);

    /// <summary>The current configuration; only the very first call waits for a fetch (and fails if it fails).</summary>
    public async Task<OpenIdConnectConfiguration> GetConfigurationAsync(CancellationToken cancel)
    {
        if (Current is { } current) return current.Configuration;
        await RefreshAsync().WaitAsync(cancel).ConfigureAwait(false);
        return Current?.Configuration
            ?? throw new InvalidOperationException("The identity provider's signing keys could not be retrieved; see the previous warning.");
    }

    /// <summary>A token named an unknown key: refresh in the background, unless one ran less than <see cref="OnDemandSpacing"/> ago.</summary>
    public void RequestRefresh()
    {
        var now = _time.GetTimestamp();
        var last = Interlocked.Read(ref _lastOnDemandTicks);
        if (last != long.MinValue && _time.GetElapsedTime(last, now) < OnDemandSpacing) return;
        if (Interlocked.CompareExchange(ref _lastOnDemandTicks, now, last) != last) return;
        LogRefreshRequested();
        _ = RefreshAsync();
    }

    /// <summary>Fetches the discovery document and the keys; joins a fetch already running. Never throws.</summary>
    public Task RefreshAsync()
    {
        lock (_gate)
        {
            if (_refreshing is { IsCompleted: false } running) return running;
            return _refreshing = Task.Run(FetchAsync);
        }
    }

    private async Task FetchAsync()
    {
        OpenIdConnectConfiguration fetched;
        try
        {
            fetched = await OpenIdConnectConfigurationRetriever.GetAsync(_metadataAddress, _retriever, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            if (!_failing) LogFetchFailed(e, Current is null ? "none yet" : "the last ones fetched");
            _failing = true;
            return;
        }
        if (_failing) LogFetchRecovered();
        _failing = false;

        var previous = Current;
        var next = KeySet.From(fetched, previous);
        if (ReferenceEquals(next, previous))
        {
            LogUnchanged(previous!.Version);
            return;
        }
        Volatile.Write(ref _current, next);
        LogKeysChanged(next.Version, string.Join(", ", next.KeyIds), previous is null ? "-" : string.Join(", ", previous.KeyIds.Except(next.KeyIds)));
    }

    public void Dispose() => _ownedClient?.Dispose();

    [LoggerMessage(EventId = 2050, Level = LogLevel.Information, Message = "Signing keys of the identity provider, version {Version}: {KeyIds} (no longer published: {RemovedKeyIds})")]
    private partial void LogKeysChanged(int version, string keyIds, string removedKeyIds);

    [LoggerMessage(EventId = 2051, Level = LogLevel.Debug, Message = "Signing keys refreshed, unchanged (version {Version})")]
    private partial void LogUnchanged(int version);

    [LoggerMessage(EventId = 2052, Level = LogLevel.Debug, Message = "A token named an unknown signing key; refreshing the keys")]
    private partial void LogRefreshRequested();

    [LoggerMessage(EventId = 2053, Level = LogLevel.Warning, Message = "Could not fetch the identity provider's signing keys; keeping {Kept} until a fetch succeeds")]
    private partial void LogFetchFailed(Exception exception, string kept);

    [LoggerMessage(EventId = 2054, Level = LogLevel.Information, Message = "The identity provider's signing keys can be fetched again")]
    private partial void LogFetchRecovered();

    /// <summary>
    /// One fetched set of signing keys, never changed. A key that is the same as in the previous set (key
    /// id and key material) is the same object, so a cached token's key can be looked up by reference.
    /// </summary>
    internal sealed class KeySet
    {
        private readonly HashSet<SecurityKey> _keys;
        private readonly Dictionary<string, SecurityKey> _byIdentity;

        private KeySet(int version, OpenIdConnectConfiguration configuration, Dictionary<string, SecurityKey> byIdentity)
        {
            Version = version;
            Configuration = configuration;
            _byIdentity = byIdentity;
            _keys = new HashSet<SecurityKey>(byIdentity.Values, ReferenceEqualityComparer.Instance);
            KeyIds = byIdentity.Values.Select(k => k.KeyId ?? "(no kid)").ToArray();
        }

        /// <summary>Increases whenever the published keys (or the issuer) change.</summary>
        public int Version { get; }

        public OpenIdConnectConfiguration Configuration { get; }

        public IReadOnlyList<string> KeyIds { get; }

        public bool Contains(SecurityKey key) => _keys.Contains(key);

        /// <summary>The set of <paramref name="fetched"/>, or <paramref name="previous"/> itself when nothing changed.</summary>
        public static KeySet From(OpenIdConnectConfiguration fetched, KeySet? previous)
        {
            var byIdentity = new Dictionary<string, SecurityKey>(StringComparer.Ordinal);
            foreach (var key in fetched.SigningKeys)
            {
                var identity = Identity(key);
                byIdentity[identity] = previous is not null && previous._byIdentity.TryGetValue(identity, out var same) ? same : key;
            }
            if (previous is not null && previous.Configuration.Issuer == fetched.Issuer
                && previous._byIdentity.Count == byIdentity.Count && byIdentity.Keys.All(previous._byIdentity.ContainsKey))
                return previous;

            // JwtBearer reads the keys from the configuration: the reused objects go there too.
            fetched.SigningKeys.Clear();
            foreach (var key in byIdentity.Values) fetched.SigningKeys.Add(key);
            return new KeySet((previous?.Version ?? 0) + 1, fetched, byIdentity);
        }

        /// <summary>Key id and key material: a key id published again with other material is another key.</summary>
        private static string Identity(SecurityKey key)
        {
            var material = key.CanComputeJwkThumbprint() ? Base64UrlEncoder.Encode(key.ComputeJwkThumbprint()) : key.GetType().Name + ":" + key.KeyId;
            return (key.KeyId ?? "") + "|" + material;
        }
    }
}
