using System.Net;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Gateway.Licensing.Tests.Infrastructure;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Gateway.Tests.Infrastructure;

/// <summary>
/// A real OpenID Connect provider (OpenIddict) on a free loopback port, for tests that point the gateway's
/// <c>Authentication:Schemes:Bearer:Authority</c> at it: discovery, JWKS, and RFC 9068 <c>at+jwt</c> access
/// tokens from the client-credentials and authorization-code (PKCE) grants. Its signing keys can be
/// rotated and removed while it runs, and tokens with any <c>kid</c> can be minted beside the real ones.
/// </summary>
/// <remarks>
/// <para>Clients: <see cref="ServiceClientId"/> (client credentials) and <see cref="WebClientId"/>
/// (authorization code with PKCE, redirect URI <see cref="WebRedirectUri"/>; more can be registered with
/// <see cref="RegisterWebRedirectUriAsync"/>), both confidential with <see cref="ClientSecret"/>. The
/// authorization endpoint signs in at once, as the user named by <c>login_hint</c> (else
/// <see cref="DefaultUser"/>): no login page, so a browser completes the flow without input.</para>
/// <para>Every access token carries <c>aud</c> = <see cref="Audience"/>, <c>sub</c> (the user, or the
/// client id for client credentials), <c>name</c> and, when set, <see cref="Tenant"/> as <c>tid</c> and
/// <see cref="Roles"/> as <c>role</c>. The issuer is <c>http://127.0.0.1:{port}/</c>.</para>
/// <para>Signing keys are RSA 2048 (RS256). The newest key signs; every key not removed is published.
/// Requests to the provider and key changes are serialized, so a key change never races a JWKS read.</para>
/// </remarks>
public sealed class OidcProvider : IAsyncLifetime, IAsyncDisposable
{
    public const string Audience = "api";
    public const string ServiceClientId = "svc";
    public const string WebClientId = "web";
    public const string ClientSecret = "test-client-secret-not-for-production";
    public const string DefaultUser = "alice";
    public static readonly Uri WebRedirectUri = new("http://127.0.0.1/signin-oidc");

    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly RSA _stranger = RSA.Create(2048);
    private readonly Dictionary<string, RsaSecurityKey> _keys = new(StringComparer.Ordinal);
    private readonly string _database = "oidc-" + Guid.NewGuid().ToString("N");
    private WebApplication? _app;
    private int _jwksReads;

    /// <summary>The provider's own log entries (Information and up), to explain a failed request.</summary>
    public Hostile.CapturedLogs Logs { get; } = new();

    /// <summary>The <c>tid</c> claim of every token (none when null).</summary>
    public string? Tenant { get; set; }

    /// <summary>The <c>role</c> claims of every token.</summary>
    public string[] Roles { get; set; } = [];

    /// <summary><c>http://127.0.0.1:{port}/</c>: the authority and the issuer.</summary>
    public Uri Authority { get; private set; } = null!;

    public string Issuer => Authority.AbsoluteUri;

    /// <summary>The key id that signs new tokens.</summary>
    public string SigningKeyId { get; private set; } = "";

    /// <summary>Ids of the published keys, newest first.</summary>
    public IReadOnlyList<string> PublishedKeyIds => Credentials().Select(c => c.Key.KeyId).ToArray();

    /// <summary>How many times the JWKS document was served.</summary>
    public int JwksReads => Volatile.Read(ref _jwksReads);

    public async Task InitializeAsync()
    {
        for (var attempt = 1; ; attempt++)
        {
            var port = FreePort.Get();
            try
            {
                await StartAsync(port);
                break;
            }
            catch (IOException) when (attempt < 5)
            {
                // The port was taken meanwhile: try another.
            }
        }
        await SeedClientsAsync();
    }

    private async Task StartAsync(int port)
    {
        Authority = new Uri($"http://127.0.0.1:{port}/");
        var first = NewKey();
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ApplicationName = typeof(OidcProvider).Assembly.GetName().Name,
            EnvironmentName = Environments.Production,
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(Logs);
        builder.WebHost.UseUrls(Authority.GetLeftPart(UriPartial.Authority));

        builder.Services.AddDbContext<DbContext>(o =>
        {
            o.UseInMemoryDatabase(_database);
            o.UseOpenIddict();
        });
        builder.Services.AddOpenIddict()
            .AddCore(o => o.UseEntityFrameworkCore().UseDbContext<DbContext>())
            .AddServer(o =>
            {
                o.SetIssuer(Authority);
                o.SetAuthorizationEndpointUris("connect/authorize")
                    .SetTokenEndpointUris("connect/token");
                o.AllowClientCredentialsFlow();
                o.AllowAuthorizationCodeFlow().RequireProofKeyForCodeExchange();
                o.RegisterScopes(Scopes.OpenId, Scopes.Profile, "api");
                // RSA 2048: the ephemeral keys are RSA 4096 and cost seconds to generate.
                o.AddSigningKey(first);
                o.AddEncryptionKey(new SymmetricSecurityKey(RandomNumberGenerator.GetBytes(32)));
                o.DisableAccessTokenEncryption();
                o.UseAspNetCore()
                    .DisableTransportSecurityRequirement()
                    .EnableAuthorizationEndpointPassthrough()
                    .EnableTokenEndpointPassthrough();
            });

        var app = builder.Build();
        // Before OpenIddict (it answers discovery and JWKS from the authentication middleware, which
        // the app otherwise puts first): key changes and every request take turns.
        app.Use(async (context, next) =>
        {
            await _gate.WaitAsync(context.RequestAborted);
            try
            {
                if (context.Request.Path.StartsWithSegments("/.well-known/jwks")) Interlocked.Increment(ref _jwksReads);
                await next(context);
            }
            finally
            {
                _gate.Release();
            }
        });
        app.UseAuthentication();
        app.MapMethods("/connect/authorize", [HttpMethods.Get, HttpMethods.Post], Authorize);
        app.MapPost("/connect/token", TokenAsync);
        try
        {
            await app.StartAsync();
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
        _app = app;
        _keys[first.KeyId!] = first;
        SigningKeyId = first.KeyId!;
    }

    private async Task SeedClientsAsync()
    {
        await using var scope = _app!.Services.CreateAsyncScope();
        var applications = scope.ServiceProvider.GetRequiredService<IOpenIddictApplicationManager>();
        await applications.CreateAsync(new OpenIddictApplicationDescriptor
        {
            ClientId = ServiceClientId,
            ClientSecret = ClientSecret,
            ClientType = ClientTypes.Confidential,
            Permissions = { Permissions.Endpoints.Token, Permissions.GrantTypes.ClientCredentials, Permissions.Prefixes.Scope + "api" },
        });
        var web = new OpenIddictApplicationDescriptor
        {
            ClientId = WebClientId,
            ClientSecret = ClientSecret,
            ClientType = ClientTypes.Confidential,
            RedirectUris = { WebRedirectUri },
            Permissions =
            {
                Permissions.Endpoints.Authorization, Permissions.Endpoints.Token, Permissions.GrantTypes.AuthorizationCode,
                Permissions.ResponseTypes.Code, Permissions.Scopes.Profile, Permissions.Prefixes.Scope + "api",
            },
            Requirements = { Requirements.Features.ProofKeyForCodeExchange },
        };
        await applications.CreateAsync(web);
    }

    /// <summary>Adds a redirect URI to the web client (e.g. <c>{gateway}/signin-oidc</c> of a browser sign-in).</summary>
    public async Task RegisterWebRedirectUriAsync(Uri redirectUri)
    {
        await using var scope = _app!.Services.CreateAsyncScope();
        var applications = scope.ServiceProvider.GetRequiredService<IOpenIddictApplicationManager>();
        var web = await applications.FindByClientIdAsync(WebClientId) ?? throw new InvalidOperationException("The web client is missing.");
        var descriptor = new OpenIddictApplicationDescriptor();
        await applications.PopulateAsync(descriptor, web);
        descriptor.RedirectUris.Add(redirectUri);
        await applications.UpdateAsync(web, descriptor);
    }

    /// <summary>An access token from the token endpoint, client-credentials grant (<c>sub</c> = the client id).</summary>
    public async Task<string> ClientCredentialsTokenAsync(string scope = "api")
    {
        using var http = new HttpClient { BaseAddress = Authority };
        return await RequestTokenAsync(http, new Dictionary<string, string>
        {
            ["grant_type"] = GrantTypes.ClientCredentials,
            ["client_id"] = ServiceClientId,
            ["client_secret"] = ClientSecret,
            ["scope"] = scope,
        });
    }

    /// <summary>
    /// An access token for <paramref name="user"/> from the authorization-code grant with PKCE: the
    /// authorization request (signed in at once), its redirect with the code, and the code exchange.
    /// </summary>
    public async Task<string> AuthorizationCodeTokenAsync(string user = DefaultUser)
    {
        using var http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { BaseAddress = Authority };
        var verifier = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));
        var challenge = Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));
        var state = Guid.NewGuid().ToString("N");
        var query = string.Join('&', new Dictionary<string, string>
        {
            ["client_id"] = WebClientId,
            ["response_type"] = ResponseTypes.Code,
            ["redirect_uri"] = WebRedirectUri.AbsoluteUri,
            ["scope"] = "openid profile api",
            ["code_challenge"] = challenge,
            ["code_challenge_method"] = CodeChallengeMethods.Sha256,
            ["state"] = state,
            ["login_hint"] = user,
        }.Select(p => $"{p.Key}={Uri.EscapeDataString(p.Value)}"));

        using var authorize = await http.GetAsync("connect/authorize?" + query);
        var location = authorize.Headers.Location;
        if (authorize.StatusCode != HttpStatusCode.Redirect || location is null)
            throw new InvalidOperationException($"The authorization request answered {(int)authorize.StatusCode}: {await authorize.Content.ReadAsStringAsync()}");
        var parameters = location.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Split('=', 2)).ToDictionary(p => p[0], p => Uri.UnescapeDataString(p.Length > 1 ? p[1] : ""));
        if (!parameters.TryGetValue("code", out var code) || parameters.GetValueOrDefault("state") != state)
            throw new InvalidOperationException($"The authorization response carries no code for this state: {location}");

        return await RequestTokenAsync(http, new Dictionary<string, string>
        {
            ["grant_type"] = GrantTypes.AuthorizationCode,
            ["code"] = code,
            ["redirect_uri"] = WebRedirectUri.AbsoluteUri,
            ["client_id"] = WebClientId,
            ["client_secret"] = ClientSecret,
            ["code_verifier"] = verifier,
        });
    }

    private static async Task<string> RequestTokenAsync(HttpClient http, Dictionary<string, string> form)
    {
        using var response = await http.PostAsync("connect/token", new FormUrlEncodedContent(form));
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode || body.Length == 0)
            throw new InvalidOperationException($"The token endpoint answered {(int)response.StatusCode} {response.Content.Headers.ContentType}: {body}");
        return JsonDocument.Parse(body).RootElement.GetProperty("access_token").GetString()!;
    }

    /// <summary>Publishes a new signing key and signs new tokens with it; the older keys stay published.</summary>
    /// <returns>The new key's id.</returns>
    public async Task<string> RotateSigningKeyAsync()
    {
        var key = NewKey();
        await ChangeKeysAsync(credentials => credentials.Insert(0, new SigningCredentials(key, SecurityAlgorithms.RsaSha256)));
        _keys[key.KeyId!] = key;
        SigningKeyId = key.KeyId!;
        return key.KeyId!;
    }

    /// <summary>Stops publishing a key (it signs nothing any more). The provider keeps at least one key.</summary>
    public async Task RemoveSigningKeyAsync(string keyId)
    {
        await ChangeKeysAsync(credentials =>
        {
            if (credentials.Count(c => c.Key is RsaSecurityKey) <= 1) throw new InvalidOperationException("The provider must keep one signing key.");
            if (credentials.RemoveAll(c => c.Key.KeyId == keyId) != 1) throw new InvalidOperationException($"No published key '{keyId}'.");
        });
        if (SigningKeyId == keyId) SigningKeyId = Credentials().First().Key.KeyId!;
    }

    /// <summary>
    /// A token shaped like the provider's own access tokens, signed by the test: with a key of the
    /// provider (<paramref name="keyId"/>, published or removed), or, for an unknown id, with a key nobody
    /// publishes that carries that <c>kid</c>.
    /// </summary>
    public string MintToken(string? keyId = null, string subject = DefaultUser, IDictionary<string, object>? extraClaims = null, IDictionary<string, object>? extraHeaders = null)
    {
        keyId ??= SigningKeyId;
        var key = _keys.TryGetValue(keyId, out var known) ? known : new RsaSecurityKey(_stranger) { KeyId = keyId };
        var claims = new Dictionary<string, object>(StringComparer.Ordinal)
        {
            ["sub"] = subject,
            ["name"] = subject,
            ["jti"] = Guid.NewGuid().ToString("N"),
        };
        if (Tenant is not null) claims["tid"] = Tenant;
        if (Roles.Length > 0) claims["role"] = Roles;
        foreach (var (type, value) in extraClaims ?? new Dictionary<string, object>()) claims[type] = value;
        var now = DateTime.UtcNow;
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            Audience = Audience,
            Claims = claims,
            IssuedAt = now,
            NotBefore = now,
            Expires = now.AddMinutes(30),
            TokenType = "at+jwt",
            AdditionalHeaderClaims = extraHeaders,
            SigningCredentials = new SigningCredentials(key, SecurityAlgorithms.RsaSha256),
        });
    }

    private IEnumerable<SigningCredentials> Credentials() =>
        _app!.Services.GetRequiredService<IOptionsMonitor<OpenIddictServerOptions>>().CurrentValue.SigningCredentials.Where(c => c.Key is RsaSecurityKey);

    private async Task ChangeKeysAsync(Action<List<SigningCredentials>> change)
    {
        await _gate.WaitAsync();
        try
        {
            change(_app!.Services.GetRequiredService<IOptionsMonitor<OpenIddictServerOptions>>().CurrentValue.SigningCredentials);
        }
        finally
        {
            _gate.Release();
        }
    }

    private static RsaSecurityKey NewKey() => new(RSA.Create(2048)) { KeyId = "k-" + Guid.NewGuid().ToString("N")[..12] };

    /// <summary>Signs in at once, as the user named by <c>login_hint</c>.</summary>
    private IResult Authorize(HttpContext context)
    {
        var request = context.GetOpenIddictServerRequest() ?? throw new InvalidOperationException("Not an OpenID Connect request.");
        var user = string.IsNullOrEmpty(request.LoginHint) ? DefaultUser : request.LoginHint;
        return SignIn(Identity(user, request));
    }

    /// <summary>
    /// Both grants (a <see cref="RequestDelegate"/>: a method returning <c>Task&lt;IResult&gt;</c> would be
    /// taken as one and its result dropped).
    /// </summary>
    private async Task TokenAsync(HttpContext context)
    {
        var request = context.GetOpenIddictServerRequest() ?? throw new InvalidOperationException("Not an OpenID Connect request.");
        IResult result;
        if (request.IsClientCredentialsGrantType()) result = SignIn(Identity(request.ClientId!, request));
        else if (request.IsAuthorizationCodeGrantType())
        {
            var authenticated = await context.AuthenticateAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
            result = SignIn((ClaimsIdentity)authenticated.Principal!.Identity!);
        }
        else result = Results.BadRequest();
        await result.ExecuteAsync(context);
    }

    private ClaimsIdentity Identity(string subject, OpenIddictRequest request)
    {
        var identity = new ClaimsIdentity(TokenValidationParameters.DefaultAuthenticationType, Claims.Name, Claims.Role);
        identity.SetClaim(Claims.Subject, subject).SetClaim(Claims.Name, subject);
        if (Tenant is not null) identity.SetClaim("tid", Tenant);
        foreach (var role in Roles) identity.AddClaim(new Claim(Claims.Role, role));
        identity.SetScopes(request.GetScopes());
        identity.SetResources(Audience);
        identity.SetDestinations(_ => [Destinations.AccessToken, Destinations.IdentityToken]);
        return identity;
    }

    private static IResult SignIn(ClaimsIdentity identity) =>
        Results.SignIn(new ClaimsPrincipal(identity), properties: null, authenticationScheme: OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
            _app = null;
        }
        foreach (var key in _keys.Values) key.Rsa?.Dispose();
        _keys.Clear();
        _stranger.Dispose();
    }

    ValueTask IAsyncDisposable.DisposeAsync() => new(DisposeAsync());
}
