namespace Gateway.Hosting;

/// <summary>
/// The content root is the application's folder (where the shipped <c>appsettings.json</c> lies),
/// whatever the working directory the process was started from: ASP.NET's default is the working
/// directory, and a gateway started from elsewhere silently ran without its shipped settings (its log
/// levels among them). An explicit content root still wins: <c>--contentRoot</c> on the command line or
/// <c>ASPNETCORE_CONTENTROOT</c> / <c>DOTNET_CONTENTROOT</c> in the environment.
/// </summary>
public static class GatewayContentRoot
{
    public static WebApplicationOptions Options(string[] args) => new()
    {
        Args = args,
        ContentRootPath = IsGiven(args) ? null : AppContext.BaseDirectory,
    };

    private static bool IsGiven(string[] args) =>
        !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("ASPNETCORE_CONTENTROOT"))
        || !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("DOTNET_CONTENTROOT"))
        || args.Any(arg => arg.TrimStart('-', '/').StartsWith("contentRoot", StringComparison.OrdinalIgnoreCase));
}
