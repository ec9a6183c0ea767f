using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.Extensions.Options;

namespace Gateway.SeatConsole;

/// <summary>
/// The OpenID Connect handler of the console, answering its callback paths only while the console is on
/// and signs in through a provider. Otherwise those paths are no different from any other unknown path
/// under the management path (404), whatever a client sends there.
/// </summary>
internal sealed class ConsoleOidcHandler(
    IOptionsMonitor<OpenIdConnectOptions> options,
    ILoggerFactory logger,
    HtmlEncoder htmlEncoder,
    UrlEncoder encoder,
    IOptionsMonitor<SeatConsoleOptions> console)
    : OpenIdConnectHandler(options, logger, htmlEncoder, encoder)
{
    public override Task<bool> HandleRequestAsync() =>
        console.CurrentValue is { Enabled: true, UsesProvider: true } ? base.HandleRequestAsync() : Task.FromResult(false);
}
