using Gateway.Licensing.Tests.Infrastructure;
using Microsoft.Playwright;

namespace Gateway.Tests.SeatConsole;

/// <summary>
/// How the browser tests get Chromium on a machine without it: fetched from the distribution's packages
/// (real apt-get and dpkg-deb, into an empty cache folder, the machine's Chromium ignored), once for
/// parallel callers, driven by Playwright, reused without apt afterwards; and a clear error otherwise.
/// </summary>
public sealed class ChromiumProvisionerTests : IDisposable
{
    private readonly string _cacheRoot = Directory.CreateTempSubdirectory("chromium-cache-").FullName;

    public void Dispose()
    {
        try
        {
            Directory.Delete(_cacheRoot, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // best effort
        }
    }

    [Fact]
    public async Task Without_chromium_on_the_machine_parallel_callers_fetch_one_that_Playwright_drives_and_later_callers_need_no_apt()
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        // As on a machine without fontconfig's configuration: the copy brings fonts of its own.
        var noFontConfig = Path.Combine(_cacheRoot, "no-fonts.conf");
        var callers = Enumerable.Range(0, 2)
            .Select(_ => Task.Run(() => new ChromiumProvisioner(_cacheRoot, path) { LookOnMachine = false, SystemFontConfig = noFontConfig }.Resolve()))
            .ToArray();
        var results = await Task.WhenAll(callers).WaitAsync(TimeSpan.FromMinutes(20));

        Assert.Single(results, r => r.Source == ChromiumSource.Fetched);
        Assert.Single(results, r => r.Source == ChromiumSource.Cache);
        var browser = results[0];
        Assert.StartsWith(_cacheRoot, browser.ExecutablePath, StringComparison.Ordinal);
        Assert.Equal(results[1].ExecutablePath, browser.ExecutablePath);
        Assert.True(browser.Environment.ContainsKey("FONTCONFIG_FILE"));

        using var playwright = await Playwright.CreateAsync();
        await using var chromium = await playwright.Chromium.LaunchAsync(browser.LaunchOptions());
        var page = await chromium.NewPageAsync();
        await page.SetContentAsync("<main><h1>Seats</h1><button onclick=\"this.textContent='Signed in'\">Sign in</button></main>");
        var button = page.GetByRole(AriaRole.Button, new() { Name = "Sign in" });
        Assert.True((await button.BoundingBoxAsync())?.Width > 0); // text laid out with fonts
        await button.ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Button)).ToHaveTextAsync("Signed in");

        // Once fetched, an empty PATH (no apt-get, no dpkg-deb, no ldd) still finds it.
        var later = new ChromiumProvisioner(_cacheRoot, searchPath: "") { LookOnMachine = false }.Resolve();
        Assert.Equal(ChromiumSource.Cache, later.Source);
        Assert.Equal(browser.ExecutablePath, later.ExecutablePath);
        Assert.Equal(browser.Environment, later.Environment);
    }

    [Fact]
    public void Without_chromium_and_without_apt_it_fails_at_once_naming_what_to_install()
    {
        var provisioner = new ChromiumProvisioner(_cacheRoot, searchPath: "") { LookOnMachine = false };

        var error = Assert.Throws<ChromiumProvisioningException>(provisioner.Resolve);

        Assert.Contains("apt-get is not on PATH", error.Message, StringComparison.Ordinal);
        Assert.Contains("apt-get install -y chromium", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_CHROMIUM_PATH_that_does_not_exist_is_an_error_not_a_fetch()
    {
        var missing = Path.Combine(_cacheRoot, "no-chromium");
        var provisioner = new ChromiumProvisioner(_cacheRoot, Environment.GetEnvironmentVariable("PATH") ?? "") { ConfiguredPath = missing };

        var error = Assert.Throws<ChromiumProvisioningException>(provisioner.Resolve);

        Assert.Contains($"CHROMIUM_PATH is {missing}", error.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(provisioner.CacheDirectory));
    }
}
