using Gateway.SeatConsole;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Hosting;

namespace Gateway.Tests.SeatConsole;

/// <summary><c>Licensing:Console</c> checked at start: every failure names its key.</summary>
public sealed class ConsoleOptionsTests
{
    private static string? Failure(SeatConsoleOptions options, string environment = "Production")
    {
        var result = new SeatConsoleOptionsValidator(new Environment(environment)).Validate(null, options);
        return result.Failed ? result.FailureMessage : null;
    }

    private static SeatConsoleOptions WithProvider() => new()
    {
        Enabled = true,
        Authority = "https://id.example.com/",
        ClientId = "seat-console",
    };

    [Fact]
    public void Defaults_are_off_with_an_eight_hour_sign_in_and_openid_profile_scopes()
    {
        var options = new SeatConsoleOptions();
        Assert.False(options.Enabled);
        Assert.True(options.RequireHttpsMetadata);
        Assert.Equal(TimeSpan.FromHours(8), options.SignInLifetime);
        Assert.Equal(["openid", "profile"], options.EffectiveScopes);
        Assert.Null(Failure(options));
    }

    [Fact]
    public void Enabled_without_a_client_id_stops_the_start_outside_Development_and_is_the_demo_in_Development()
    {
        var message = Failure(new SeatConsoleOptions { Enabled = true });
        Assert.NotNull(message);
        Assert.Contains("Licensing:Console:ClientId", message);
        Assert.Null(Failure(new SeatConsoleOptions { Enabled = true }, Environments.Development));
    }

    [Theory]
    [InlineData(null, "Licensing:Console:Authority is required")]
    [InlineData("id.example.com", "Licensing:Console:Authority must be an absolute")]
    [InlineData("ftp://id.example.com/", "Licensing:Console:Authority must be an absolute")]
    [InlineData("http://id.example.com/", "Licensing:Console:RequireHttpsMetadata")]
    public void The_authority_is_an_https_url(string? authority, string named)
    {
        var options = WithProvider();
        options.Authority = authority;
        Assert.Contains(named, Failure(options));
        Assert.Contains(named, Failure(options, Environments.Development));
    }

    [Fact]
    public void A_plain_http_authority_is_allowed_when_https_metadata_is_not_required()
    {
        var options = WithProvider();
        options.Authority = "http://127.0.0.1:5000/";
        options.RequireHttpsMetadata = false;
        Assert.Null(Failure(options));
    }

    [Theory]
    [InlineData("00:00:30")]
    [InlineData("7.00:00:01")]
    [InlineData("-01:00:00")]
    public void The_sign_in_lifetime_is_between_a_minute_and_seven_days(string lifetime)
    {
        var options = WithProvider();
        options.SignInLifetime = TimeSpan.Parse(lifetime, System.Globalization.CultureInfo.InvariantCulture);
        Assert.Contains("Licensing:Console:SignInLifetime", Failure(options));
    }

    [Theory]
    [InlineData("")]
    [InlineData("two words")]
    public void A_scope_is_one_word(string scope)
    {
        var options = WithProvider();
        options.Scopes = ["openid", scope];
        Assert.Contains("Licensing:Console:Scopes", Failure(options));
    }

    [Fact]
    public void Configured_scopes_replace_the_default()
    {
        var options = WithProvider();
        options.Scopes = ["openid", "erp"];
        Assert.Equal(["openid", "erp"], options.EffectiveScopes);
        Assert.Null(Failure(options));
    }

    [Fact]
    public void Nothing_is_checked_while_the_console_is_off()
    {
        Assert.Null(Failure(new SeatConsoleOptions { Enabled = false, Authority = "nonsense", SignInLifetime = TimeSpan.Zero }));
    }

    [Theory]
    [InlineData(null, "/_licensing/console/")]
    [InlineData("", "/_licensing/console/")]
    [InlineData("/_licensing/console/users?q=a", "/_licensing/console/users?q=a")]
    [InlineData("/_licensing/console", "/_licensing/console")]
    [InlineData("/_licensing/consolex", "/_licensing/console/")]
    [InlineData("https://evil.example/_licensing/console/", "/_licensing/console/")]
    [InlineData("//evil.example/_licensing/console/", "/_licensing/console/")]
    [InlineData("/_licensing/console//evil.example", "/_licensing/console/")]
    [InlineData("/_licensing/console/\\evil", "/_licensing/console/")]
    [InlineData("/_licensing/console/../v1/tenants", "/_licensing/console/")]
    [InlineData("/_licensing/console/%2e%2e/v1", "/_licensing/console/")]
    public void The_return_address_is_a_path_inside_the_console(string? requested, string expected)
    {
        Assert.Equal(expected, ConsoleEndpoints.SafeReturnUrl(requested, "/_licensing/console"));
    }

    private sealed class Environment(string name) : IHostEnvironment
    {
        public string EnvironmentName { get; set; } = name;
        public string ApplicationName { get; set; } = "Gateway";
        public string ContentRootPath { get; set; } = AppContext.BaseDirectory;
        public IFileProvider ContentRootFileProvider { get; set; } = new NullFileProvider();
    }
}
