using System.Security.Cryptography;
using Gateway.Licensing.Options;
using Gateway.Problems;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.StackExchangeRedis;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using StackExchange.Redis;

namespace Gateway.SeatConsole;

/// <summary>
/// The console's sign-in: a cookie scheme (cookie <c>.seat-console</c>, path <c>{ManagementPath}/console</c>,
/// ticket kept in the store by <see cref="ConsoleTicketStore"/>) fed by OpenID Connect (authorization code
/// with PKCE) or, in Development without a client id, by the demo sign-in. The Data Protection key ring
/// that protects the cookie lives in the store, so every replica reads every other replica's cookies.
/// </summary>
internal static class ConsoleAuthentication
{
    public const string CookieScheme = "SeatConsole";
    public const string OidcScheme = "SeatConsoleOidc";
    public const string PolicyName = "SeatConsole";
    public const string CookieName = ".seat-console";

    /// <summary>The header every change through the console must carry, with the sign-in's antiforgery token.</summary>
    public const string AntiforgeryHeader = "X-Console-Antiforgery";

    /// <summary>Where the sign-in ticket keeps its antiforgery token (server-side, with the ticket).</summary>
    public const string AntiforgeryItem = ".seat-console.antiforgery";

    /// <summary>The store key of the Data Protection key ring (a list of key XML documents).</summary>
    public const string KeyRingKey = "lic:{console}:dataprotection";

    /// <summary>
    /// The Data Protection application name: replicas share keys only with the same name, and the default
    /// (the content root path) may differ between replicas.
    /// </summary>
    public const string ApplicationName = "seat-gateway";

    /// <summary>The console's path under <c>{ManagementPath}</c>.</summary>
    public const string ConsoleSegment = "/console";

    public static IServiceCollection AddSeatConsole(this IServiceCollection services)
    {
        services.AddOptions<SeatConsoleOptions>().BindConfiguration(SeatConsoleOptions.SectionName).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SeatConsoleOptions>, SeatConsoleOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ConsoleTicketStore>();
        services.TryAddSingleton<ConsoleLog>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IPostConfigureOptions<CookieAuthenticationOptions>, ConsoleCookieSetup>());

        // Registered whether or not the console is enabled (configuration is read lazily); unused, the
        // schemes are inert: nothing challenges them and ConsoleOidcHandler answers no path.
        services.AddAuthentication()
            .AddCookie(CookieScheme)
            .AddRemoteScheme<OpenIdConnectOptions, ConsoleOidcHandler>(OidcScheme, displayName: null, static _ => { });
        // What AddOpenIdConnect registers besides the scheme: the metadata, nonce and state defaults.
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IPostConfigureOptions<OpenIdConnectOptions>, OpenIdConnectPostConfigureOptions>());
        services.AddOptions<CookieAuthenticationOptions>(CookieScheme)
            .Configure<IOptions<LicensingOptions>, IOptions<SeatConsoleOptions>, TimeProvider>(ConfigureCookie);
        services.AddOptions<OpenIdConnectOptions>(OidcScheme)
            .Configure<IOptions<LicensingOptions>, IOptions<SeatConsoleOptions>>(ConfigureOpenIdConnect);

        services.AddDataProtection().SetApplicationName(ApplicationName);
        services.AddOptions<KeyManagementOptions>()
            .Configure<IOptions<SeatConsoleOptions>, IServiceProvider>(static (keys, console, provider) =>
            {
                // Only with the console on: nothing else protects data, and a store untouched by a
                // gateway without a console stays so.
                if (!console.Value.Enabled) return;
                keys.XmlRepository = new RedisXmlRepository(
                    () => provider.GetRequiredService<IConnectionMultiplexer>().GetDatabase(), KeyRingKey);
            });

        services.AddAuthorization(static options => options.AddPolicy(PolicyName, policy => policy
            .AddAuthenticationSchemes(CookieScheme)
            .RequireAuthenticatedUser()));
        return services;
    }

    /// <summary>The antiforgery token of a sign-in, from its ticket.</summary>
    public static string? AntiforgeryToken(AuthenticationProperties? properties) =>
        properties is not null && properties.Items.TryGetValue(AntiforgeryItem, out var token) ? token : null;

    public static string ConsolePath(LicensingOptions options) => options.ManagementPath.TrimEnd('/') + ConsoleSegment;

    private static void ConfigureCookie(CookieAuthenticationOptions o, IOptions<LicensingOptions> licensing, IOptions<SeatConsoleOptions> console, TimeProvider time)
    {
        var lifetime = console.Value.SignInLifetime;
        o.Cookie.Name = CookieName;
        o.Cookie.Path = ConsolePath(licensing.Value);
        o.Cookie.HttpOnly = true;
        o.Cookie.SameSite = SameSiteMode.Lax;
        o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        o.ExpireTimeSpan = lifetime;
        o.SlidingExpiration = false;
        o.TimeProvider = time;
        o.Events.OnSigningIn = context =>
        {
            // One token per sign-in, kept in the server-side ticket: a page of another site cannot read it.
            context.Properties.Items[AntiforgeryItem] = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
            var now = time.GetUtcNow();
            context.Properties.IssuedUtc = now;
            context.Properties.ExpiresUtc = now + lifetime;
            context.Properties.AllowRefresh = false;
            context.Properties.IsPersistent = false;
            return Task.CompletedTask;
        };
        o.Events.OnSignedIn = context =>
        {
            var caller = Management.ManagementCaller.From(context.Principal!, licensing.Value);
            var method = context.Principal!.Identity?.AuthenticationType == ConsoleEndpoints.DemoAuthenticationType ? "demo" : "oidc";
            context.HttpContext.RequestServices.GetRequiredService<ConsoleLog>().SignedIn(method, caller.User, caller.Tenant, caller.IsOperator, caller.IsAdmin);
            return Task.CompletedTask;
        };
        // An API answers, it does not redirect: the page itself sends the browser to the sign-in.
        o.Events.OnRedirectToLogin = static context => ConsoleProblems.SignInRequired(context.HttpContext);
        o.Events.OnRedirectToAccessDenied = static context => GatewayProblems.Forbidden(context.HttpContext);
        o.Events.OnRedirectToLogout = static context =>
        {
            context.Response.StatusCode = StatusCodes.Status204NoContent;
            return Task.CompletedTask;
        };
        o.Events.OnRedirectToReturnUrl = static context =>
        {
            context.Response.StatusCode = StatusCodes.Status204NoContent;
            return Task.CompletedTask;
        };
    }

    private static void ConfigureOpenIdConnect(OpenIdConnectOptions o, IOptions<LicensingOptions> licensing, IOptions<SeatConsoleOptions> consoleOptions)
    {
        var console = consoleOptions.Value;
        var path = ConsolePath(licensing.Value);
        o.SignInScheme = CookieScheme;
        o.CallbackPath = path + "/signin-oidc";
        o.SignedOutCallbackPath = path + "/signout-oidc";
        o.RemoteSignOutPath = path + "/signout-remote";
        o.ResponseType = OpenIdConnectResponseType.Code;
        // The code comes back on a top-level GET, so the correlation and nonce cookies can be SameSite=Lax
        // and work over plain http behind a TLS-ending load balancer (SameSite=None demands Secure).
        o.ResponseMode = OpenIdConnectResponseMode.Query;
        o.UsePkce = true;
        o.SaveTokens = false; // the console calls the API with its cookie; no token is kept
        o.MapInboundClaims = false;
        o.GetClaimsFromUserInfoEndpoint = false;
        o.UseTokenLifetime = false;
        o.BackchannelTimeout = TimeSpan.FromSeconds(10);
        o.TokenValidationParameters.NameClaimType = licensing.Value.Claims.User;
        o.TokenValidationParameters.RoleClaimType = licensing.Value.Claims.Role;
        o.CorrelationCookie.Name = CookieName + ".correlation.";
        o.CorrelationCookie.SameSite = SameSiteMode.Lax;
        o.CorrelationCookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        o.NonceCookie.Name = CookieName + ".nonce.";
        o.NonceCookie.SameSite = SameSiteMode.Lax;
        o.NonceCookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        o.Events.OnRemoteFailure = ConsoleProblems.SignInFailedAsync;

        if (console.UsesProvider)
        {
            o.Authority = console.Authority;
            o.ClientId = console.ClientId;
            o.ClientSecret = string.IsNullOrEmpty(console.ClientSecret) ? null : console.ClientSecret;
            o.RequireHttpsMetadata = console.RequireHttpsMetadata;
            o.Scope.Clear();
            o.Scope.Add(OpenIdConnectScope.OpenId);
            foreach (var scope in console.EffectiveScopes)
            {
                if (!o.Scope.Contains(scope)) o.Scope.Add(scope);
            }
        }
        else
        {
            // Inert (no provider configured): the handler is valid but nothing challenges it, and a
            // request to its callback path fails as a sign-in failure.
            o.ClientId = "unconfigured";
            o.Configuration = new OpenIdConnectConfiguration();
        }
    }
}
