using System.Net;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Gateway.Licensing.Options;
using Gateway.Management;
using Gateway.Problems;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Gateway.SeatConsole;

/// <summary>What <c>{ManagementPath}/console/me</c> answers: the signed-in person and what they may do.</summary>
public sealed record ConsoleMeResponse(
    string? User,
    string? Name,
    string? Tenant,
    IReadOnlyList<string> Roles,
    bool IsOperator,
    bool IsAdmin,
    string AntiforgeryToken,
    string AntiforgeryHeader,
    string ApiBase,
    DateTimeOffset? ExpiresAt,
    string SignIn);

/// <summary>
/// The console's server routes under <c>{ManagementPath}/console</c>: <c>signin</c>, <c>me</c>,
/// <c>signout</c>, and the management API again at <c>api/v1</c>, authenticated by the console's
/// sign-in instead of a bearer token. The page itself (<c>console/</c>) is mapped by the host beside these.
/// </summary>
internal static class ConsoleEndpoints
{
    /// <summary>The demo people of a Development sign-in without a provider.</summary>
    public const string DemoAdmin = "demo-admin";
    public const string DemoOperator = "ops";
    public const string DemoAuthenticationType = "seat-console-demo";

    /// <summary>Catches store and provider failures of the console's sign-in (503, never 500). Before authentication.</summary>
    public static void UseSeatConsole(this IApplicationBuilder app, LicensingOptions licensing)
    {
        var path = new PathString(ConsoleAuthentication.ConsolePath(licensing));
        app.UseWhen(context => context.Request.Path.StartsWithSegments(path, StringComparison.OrdinalIgnoreCase),
            branch => branch.UseMiddleware<ConsoleFailureMiddleware>());
    }

    public static RouteGroupBuilder MapSeatConsole(this IEndpointRouteBuilder endpoints, LicensingOptions licensing)
    {
        var consolePath = ConsoleAuthentication.ConsolePath(licensing);
        // The whole console answers only where the tenant routes do (Licensing:ManagementPort).
        var console = endpoints.MapGroup(consolePath)
            .RequireManagementPort()
            .ExcludeFromDescription()
            .AddEndpointFilter(NoStore);

        console.MapGet("/signin", SignInAsync).AllowAnonymous().WithName("ConsoleSignIn");
        console.MapGet("/me", Me).RequireAuthorization(ConsoleAuthentication.PolicyName).WithName("ConsoleMe");
        console.MapPost("/signout", SignOutAsync)
            .RequireAuthorization(ConsoleAuthentication.PolicyName)
            .AddEndpointFilter(RequireAntiforgeryToken)
            .WithName("ConsoleSignOut");

        var api = console.MapGroup("/api/v1")
            .RequireAuthorization(ConsoleAuthentication.PolicyName)
            .AddEndpointFilter(RequireAntiforgeryToken);
        ManagementApi.MapManagementRoutes(api, endpointNamePrefix: "Console");
        return console;
    }

    /// <summary>
    /// Starts a sign-in: to the identity provider (authorization code with PKCE), or in Development without a
    /// provider, as a demo person (<c>?as=admin</c> or <c>?as=operator</c>; a small chooser without it).
    /// <c>returnUrl</c>, a path under the console, is where the browser goes afterwards (default: the console).
    /// </summary>
    private static async Task SignInAsync(HttpContext context, IOptions<SeatConsoleOptions> consoleOptions, IOptions<LicensingOptions> licensingOptions,
        IHostEnvironment environment)
    {
        var licensing = licensingOptions.Value;
        var consolePath = ConsoleAuthentication.ConsolePath(licensing);
        var returnUrl = SafeReturnUrl(context.Request.Query["returnUrl"].ToString(), context.Request.PathBase + consolePath);
        if (consoleOptions.Value.UsesProvider)
        {
            await context.ChallengeAsync(ConsoleAuthentication.OidcScheme, new AuthenticationProperties { RedirectUri = returnUrl }).ConfigureAwait(false);
            return;
        }
        if (!environment.IsDevelopment())
        {
            // Unreachable: the options validator refuses this at start.
            await ConsoleProblems.SignInRequired(context).ConfigureAwait(false);
            return;
        }

        var who = context.Request.Query["as"].ToString();
        var (user, role) = who switch
        {
            "admin" => (DemoAdmin, licensing.Roles.Admin),
            "operator" => (DemoOperator, licensing.Roles.Operator),
            _ => (null, null),
        };
        if (user is null)
        {
            await WriteDemoChooserAsync(context, returnUrl).ConfigureAwait(false);
            return;
        }
        var tenant = string.IsNullOrEmpty(licensing.DefaultTenant) ? "demo" : licensing.DefaultTenant;
        var identity = new ClaimsIdentity(DemoAuthenticationType, licensing.Claims.User, licensing.Claims.Role);
        identity.AddClaim(new Claim(licensing.Claims.User, user));
        identity.AddClaim(new Claim(licensing.Claims.Tenant, tenant));
        identity.AddClaim(new Claim(licensing.Claims.Role, role!));
        identity.AddClaim(new Claim("name", who == "admin" ? "Demo admin" : "Demo operator"));
        await context.SignInAsync(ConsoleAuthentication.CookieScheme, new ClaimsPrincipal(identity)).ConfigureAwait(false);
        context.Response.Redirect(returnUrl);
    }

    private static async Task<IResult> SignOutAsync(HttpContext context, IOptionsMonitor<LicensingOptions> options, ConsoleLog log)
    {
        var caller = ManagementApi.Caller(context, options);
        // Removes the ticket from the store, so the cookie is worthless everywhere, and expires the cookie.
        await context.SignOutAsync(ConsoleAuthentication.CookieScheme).ConfigureAwait(false);
        log.SignedOut(caller.User, caller.Tenant);
        return Results.NoContent();
    }

    private static async Task<IResult> Me(HttpContext context, IOptionsMonitor<LicensingOptions> options)
    {
        var licensing = options.CurrentValue;
        var caller = ManagementApi.Caller(context, options);
        var result = await context.AuthenticateAsync(ConsoleAuthentication.CookieScheme).ConfigureAwait(false);
        var properties = result.Properties;
        var roles = new List<string>();
        if (caller.IsOperator) roles.Add(licensing.Roles.Operator);
        if (caller.IsAdmin) roles.Add(licensing.Roles.Admin);
        return Results.Ok(new ConsoleMeResponse(
            caller.User,
            context.User.FindFirst("name")?.Value,
            caller.Tenant,
            roles,
            caller.IsOperator,
            caller.IsAdmin,
            ConsoleAuthentication.AntiforgeryToken(properties) ?? "",
            ConsoleAuthentication.AntiforgeryHeader,
            context.Request.PathBase + ConsoleAuthentication.ConsolePath(licensing) + "/api/v1",
            properties?.ExpiresUtc,
            context.User.Identity?.AuthenticationType == DemoAuthenticationType ? "demo" : "oidc"));
    }

    /// <summary>
    /// Every change (anything but GET, HEAD, OPTIONS) carries the sign-in's antiforgery token in
    /// <see cref="ConsoleAuthentication.AntiforgeryHeader"/>: a page of another site can make the browser
    /// send the cookie, but cannot read the token. Else 400 <c>antiforgery-token-invalid</c>, before the route runs.
    /// </summary>
    private static async ValueTask<object?> RequireAntiforgeryToken(EndpointFilterInvocationContext invocation, EndpointFilterDelegate next)
    {
        var context = invocation.HttpContext;
        var method = context.Request.Method;
        if (HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method)) return await next(invocation).ConfigureAwait(false);

        var sent = context.Request.Headers[ConsoleAuthentication.AntiforgeryHeader];
        var result = await context.AuthenticateAsync(ConsoleAuthentication.CookieScheme).ConfigureAwait(false);
        var expected = ConsoleAuthentication.AntiforgeryToken(result.Properties);
        if (sent.Count != 1 || string.IsNullOrEmpty(expected) || !FixedTimeEquals(sent.ToString(), expected))
        {
            context.RequestServices.GetRequiredService<ConsoleLog>().AntiforgeryRefused(method, context.Request.Path.Value ?? "");
            return new ProblemResult(Management.Problems.Create(StatusCodes.Status400BadRequest, ProblemCodes.AntiforgeryTokenInvalid,
                "Antiforgery token invalid",
                $"A change through the console needs the header {ConsoleAuthentication.AntiforgeryHeader} with the antiforgery token of this sign-in (console/me answers it).").ProblemDetails);
        }
        return await next(invocation).ConfigureAwait(false);
    }

    private static bool FixedTimeEquals(string a, string b) =>
        CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(a), Encoding.UTF8.GetBytes(b));

    private static async ValueTask<object?> NoStore(EndpointFilterInvocationContext invocation, EndpointFilterDelegate next)
    {
        invocation.HttpContext.Response.Headers.CacheControl = "no-store";
        return await next(invocation).ConfigureAwait(false);
    }

    /// <summary>A local path under the console (no scheme, host, <c>//</c> or backslash), else the console itself.</summary>
    internal static string SafeReturnUrl(string? requested, string consolePath)
    {
        var home = consolePath + "/";
        if (string.IsNullOrEmpty(requested) || requested.Length > 2048) return home;
        if (requested.Contains('\\') || requested.Contains("//", StringComparison.Ordinal) || requested.Any(char.IsControl)) return home;
        if (!requested.StartsWith(home, StringComparison.Ordinal) && requested != consolePath) return home;
        if (requested.Split('?', '#')[0].Split('/').Any(segment => segment is "." or ".." || segment.Contains('%'))) return home;
        return requested;
    }

    private static Task WriteDemoChooserAsync(HttpContext context, string returnUrl)
    {
        var target = WebUtility.HtmlEncode(Uri.EscapeDataString(returnUrl));
        var html = $$"""
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>Seat console: demo sign-in</title></head>
            <body>
            <main>
            <h1>Demo sign-in</h1>
            <p>Development without an identity provider: choose who you are.</p>
            <ul>
            <li><a href="signin?as=admin&amp;returnUrl={{target}}">Tenant admin ({{DemoAdmin}})</a></li>
            <li><a href="signin?as=operator&amp;returnUrl={{target}}">Operator ({{DemoOperator}})</a></li>
            </ul>
            </main>
            </body></html>
            """;
        context.Response.ContentType = "text/html; charset=utf-8";
        context.Response.Headers.ContentSecurityPolicy = "default-src 'none'; frame-ancestors 'none'";
        return context.Response.WriteAsync(html);
    }
}
