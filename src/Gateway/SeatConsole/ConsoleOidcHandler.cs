using System.Text.Encodings.Web;
using Gateway.Licensing.Options;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.Extensions.Options;

namespace Gateway.SeatConsole;

/// <summary>
/// The OpenID Connect handler of the console, answering its callback paths only while the console is on
/// and signs in through a provider, and with <c>Licensing:ManagementPort</c> set only on that port, like
/// the rest of the console. Otherwise those paths are no different from any other unknown path under the
/// management path (404), whatever a client sends there.
/// </summary>
internal sealed class ConsoleOidcHandler(
    IOptionsMonitor<OpenIdConnectOptions> options,
    ILoggerFactory logger,
    HtmlEncoder htmlEncoder,
    UrlEncoder encoder,
    IOptionsMonitor<SeatConsoleOptions> console,
    IOptionsMonitor<LicensingOptions> licensing)
    : OpenIdConnectHandler(options, logger, htmlEncoder, encoder)
{
    public override Task<bool> HandleRequestAsync()
    {
        if (console.CurrentValue is not { Enabled: true, UsesProvider: true }) return Task.FromResult(false);
        if (licensing.CurrentValue.ManagementPort is { } port && Context.Connection.LocalPort != port) return Task.FromResult(false);
        return base.HandleRequestAsync();
    }
}
