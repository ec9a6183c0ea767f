using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Gateway.Licensing.Store;
using Gateway.Management;
using Xunit.Abstractions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Gateway.Tests.SeatConsole;

/// <summary>
/// The seat console in headless Chromium, signed in through a real OpenID Connect provider: what an admin
/// and an operator do with it, with the mouse and with the keyboard only, checked in the page and in the store.
/// </summary>
public sealed class ConsoleBrowserTests(ConsoleBrowserFixture fixture, ITestOutputHelper output) : IClassFixture<ConsoleBrowserFixture>
{
    private const string AdminRole = ManagementCaller.AdminRole;
    private const string OperatorRole = ManagementCaller.OperatorRole;

    [Fact]
    public async Task An_admin_signs_in_through_the_provider_and_sees_the_seats_in_use()
    {
        output.WriteLine($"Chromium ({fixture.Chromium.Source}): {fixture.Chromium.ExecutablePath}, found or fetched in {fixture.ChromiumResolve.TotalSeconds:F2} s");
        output.WriteLine($"provider start {fixture.ProviderStart.TotalSeconds:F2} s, gateway start {fixture.GatewayStart.TotalSeconds:F2} s, Playwright + Chromium launch {fixture.BrowserStart.TotalSeconds:F2} s");
        await fixture.PutPlanAsync("signin", new { model = "RegisteredUsers", seatLimit = 5 });
        await fixture.SetUserActiveAsync("signin", "bob", true);
        await fixture.SetUserActiveAsync("signin", "carol", true);

        var clock = Stopwatch.StartNew();
        var (context, page) = await fixture.SignInAsync("signin", AdminRole);
        output.WriteLine($"browser sign-in round trip {clock.Elapsed.TotalSeconds:F2} s");
        await using var _ = context;

        await Expect(page.Locator("#who-role")).ToHaveTextAsync("tenant admin");
        await Expect(page.Locator("#tenant-name")).ToHaveTextAsync("signin");
        await Expect(page.Locator("#seats-used")).ToHaveTextAsync("2");
        await Expect(page.Locator("#seats-limit")).ToHaveTextAsync("5");
        await Expect(page.Locator("#chart svg rect")).ToHaveCountAsync(90);
        await Expect(page.Locator("#tenant-form")).ToBeHiddenAsync();
        await Expect(page.Locator("#plan-tab")).ToBeHiddenAsync();
    }

    [Fact]
    public async Task An_admin_activates_and_deactivates_a_user()
    {
        await fixture.PutPlanAsync("acts", new { model = "RegisteredUsers", seatLimit = 3 });
        var (context, page) = await fixture.SignInAsync("acts", AdminRole);
        await using var _ = context;

        await page.GetByRole(AriaRole.Link, new() { Name = "Users" }).ClickAsync();
        await page.GetByLabel("User id").FillAsync("dave");
        await page.GetByRole(AriaRole.Button, new() { Name = "Activate", Exact = true }).ClickAsync();
        await Expect(page.Locator("#notice")).ToHaveTextAsync("dave is now active.");
        await Expect(page.Locator("tr[data-user='dave'] td.state")).ToHaveTextAsync("active");
        Assert.True(await UserActiveAsync("acts", "dave"));

        await page.GetByRole(AriaRole.Button, new() { Name = "Deactivate dave" }).ClickAsync();
        await Expect(page.Locator("#notice")).ToHaveTextAsync("dave is now inactive.");
        await Expect(page.Locator("tr[data-user='dave'] td.state")).ToHaveTextAsync("inactive");
        Assert.False(await UserActiveAsync("acts", "dave"));

        // The trail names the signed-in admin as the actor.
        await page.GetByRole(AriaRole.Link, new() { Name = "Audit trail" }).ClickAsync();
        await Expect(page.Locator("#audit-body tr").First).ToContainTextAsync("user-deactivated");
        await Expect(page.Locator("#audit-body tr").First).ToContainTextAsync("alice");
    }

    [Fact]
    public async Task An_admin_hands_a_seat_over_with_a_swap()
    {
        await fixture.PutPlanAsync("swaps", new { model = "RegisteredUsers", seatLimit = 1 });
        await fixture.SetUserActiveAsync("swaps", "bob", true);
        var (context, page) = await fixture.SignInAsync("swaps", AdminRole);
        await using var _ = context;

        await page.GetByRole(AriaRole.Link, new() { Name = "Users" }).ClickAsync();
        await page.GetByLabel("From (deactivate)").FillAsync("bob");
        await page.GetByLabel("To (activate)").FillAsync("carol");
        await page.GetByRole(AriaRole.Button, new() { Name = "Swap" }).ClickAsync();

        await Expect(page.Locator("#notice")).ToHaveTextAsync("bob handed the seat to carol.");
        await Expect(page.Locator("tr[data-user='carol'] td.state")).ToHaveTextAsync("active");
        await Expect(page.Locator("tr[data-user='bob'] td.state")).ToHaveTextAsync("inactive");
        Assert.False(await UserActiveAsync("swaps", "bob"));
        Assert.True(await UserActiveAsync("swaps", "carol"));
    }

    [Fact]
    public async Task A_refused_activation_shows_the_refusal_s_detail()
    {
        await fixture.PutPlanAsync("full", new { model = "RegisteredUsers", seatLimit = 1 });
        await fixture.SetUserActiveAsync("full", "bob", true);
        var (context, page) = await fixture.SignInAsync("full", AdminRole);
        await using var _ = context;

        await page.GetByRole(AriaRole.Link, new() { Name = "Users" }).ClickAsync();
        await page.GetByLabel("User id").FillAsync("erin");
        await page.GetByRole(AriaRole.Button, new() { Name = "Activate", Exact = true }).ClickAsync();

        var alert = page.GetByRole(AriaRole.Alert);
        await Expect(alert).ToBeVisibleAsync();
        await Expect(alert).ToHaveAttributeAsync("data-code", "seat-limit-reached");
        var detail = await ProblemDetailAsync("full", "erin");
        await Expect(alert).ToContainTextAsync(detail);
        Assert.False(await UserActiveAsync("full", "erin"));
    }

    [Fact]
    public async Task Ending_a_session_makes_the_client_s_next_request_a_new_session()
    {
        await fixture.PutPlanAsync("ends", new { model = "ConcurrentSessions", seatLimit = 2 });
        Assert.Equal(HttpStatusCode.OK, await fixture.ClientRequestAsync("ends", "bob", "laptop"));
        var (firstId, firstStart) = Assert.Single(await SessionsAsync("ends"));

        var (context, page) = await fixture.SignInAsync("ends", AdminRole);
        await using var _ = context;
        await page.GetByRole(AriaRole.Link, new() { Name = "Sessions" }).ClickAsync();
        await Expect(page.Locator($"tr[data-session='{firstId}']")).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "End the session of bob on laptop" }).ClickAsync();
        await Expect(page.Locator("#notice")).ToHaveTextAsync("The session of bob on laptop ended.");
        await Expect(page.Locator("#sessions-body")).ToContainTextAsync("No live sessions.");
        Assert.Empty(await SessionsAsync("ends"));

        // The same client again: admitted as a new session (started now, not the ended one resumed).
        Assert.Equal(HttpStatusCode.OK, await fixture.ClientRequestAsync("ends", "bob", "laptop"));
        var (_, secondStart) = Assert.Single(await SessionsAsync("ends"));
        Assert.True(secondStart > firstStart, $"the session after the end started {secondStart:O}, the ended one {firstStart:O}");
        var audit = await fixture.GetAsync("/_licensing/v1/tenants/ends/audit");
        var actions = audit.GetProperty("entries").EnumerateArray().Select(e => e.GetProperty("action").GetString()).ToArray();
        Assert.Equal(2, actions.Count(a => a == "session-started"));
        Assert.Contains("session-ended", actions);

        await page.GetByRole(AriaRole.Button, new() { Name = "Refresh" }).ClickAsync();
        await Expect(page.Locator("#sessions-body tr[data-session]")).ToHaveCountAsync(1);
    }

    [Fact]
    public async Task A_list_downloads_as_csv()
    {
        await fixture.PutPlanAsync("csv", new { model = "RegisteredUsers", seatLimit = 4 });
        await fixture.SetUserActiveAsync("csv", "bob", true);
        await fixture.SetUserActiveAsync("csv", "carol", true);
        var (context, page) = await fixture.SignInAsync("csv", AdminRole);
        await using var _ = context;

        await page.GetByRole(AriaRole.Link, new() { Name = "Users" }).ClickAsync();
        var download = await page.RunAndWaitForDownloadAsync(() =>
            page.GetByRole(AriaRole.Button, new() { Name = "Download users (CSV)" }).ClickAsync());
        Assert.StartsWith("csv-users-", download.SuggestedFilename);
        Assert.EndsWith(".csv", download.SuggestedFilename);
        var path = await download.PathAsync();
        var lines = (await File.ReadAllLinesAsync(path)).Where(l => l.Length > 0).ToArray();
        Assert.Equal("userId,active,sessions,lastSeenAt", lines[0]);
        Assert.Equal(["bob,true,0,", "carol,true,0,"], lines[1..]);
    }

    [Fact]
    public async Task An_operator_switches_tenants_and_edits_a_plan()
    {
        await fixture.PutPlanAsync("north", new { model = "RegisteredUsers", seatLimit = 3 });
        await fixture.PutPlanAsync("south", new { model = "RegisteredUsers", seatLimit = 4 });
        var (context, page) = await fixture.SignInAsync("north", OperatorRole);
        await using var _ = context;
        await Expect(page.Locator("#who-role")).ToHaveTextAsync("operator");

        await page.GetByLabel("Tenant", new() { Exact = true }).SelectOptionAsync("south");
        await Expect(page.Locator("#seats-limit")).ToHaveTextAsync("4");

        await page.GetByRole(AriaRole.Link, new() { Name = "Plan" }).ClickAsync();
        await Expect(page.GetByLabel("Seat limit", new() { Exact = true })).ToHaveValueAsync("4");
        await page.GetByLabel("Model", new() { Exact = true }).SelectOptionAsync("ConcurrentSessions");
        await page.GetByLabel("Seat limit", new() { Exact = true }).FillAsync("9");
        await page.GetByLabel("Reserved users (concurrent sessions; one per line)").FillAsync("ceo\nnight-shift");
        await page.GetByLabel("Sessions per user (0 = no limit; empty = the gateway's default)").FillAsync("2");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save plan" }).ClickAsync();
        await Expect(page.Locator("#notice")).ToHaveTextAsync("The plan of south is saved.");

        var south = await fixture.GetAsync("/_licensing/v1/tenants/south");
        Assert.Equal("ConcurrentSessions", south.GetProperty("model").GetString());
        Assert.Equal(9, south.GetProperty("seatLimit").GetInt32());
        Assert.Equal(["ceo", "night-shift"], south.GetProperty("reservedUsers").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(2, south.GetProperty("maxSessionsPerUser").GetInt32());
        var north = await fixture.GetAsync("/_licensing/v1/tenants/north");
        Assert.Equal(3, north.GetProperty("seatLimit").GetInt32());

        // A refusal of the plan editor is shown too.
        await page.GetByLabel("Seat limit", new() { Exact = true }).FillAsync("1");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save plan" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Alert)).ToHaveAttributeAsync("data-code", "invalid-request");
    }

    [Fact]
    public async Task An_admin_activates_and_deactivates_with_the_keyboard_only()
    {
        await fixture.PutPlanAsync("keys", new { model = "RegisteredUsers", seatLimit = 2 });
        var (context, page) = await fixture.SignInAsync("keys", AdminRole);
        await using var _ = context;

        await TabToAsync(page, "a[data-view='users']");
        await page.Keyboard.PressAsync("Enter");
        await Expect(page.Locator("#view-users")).ToBeVisibleAsync();
        await TabToAsync(page, "#activate-id");
        await page.Keyboard.TypeAsync("frank");
        await page.Keyboard.PressAsync("Enter");
        await Expect(page.Locator("#notice")).ToHaveTextAsync("frank is now active.");
        Assert.True(await UserActiveAsync("keys", "frank"));

        await TabToAsync(page, "tr[data-user='frank'] button");
        await page.Keyboard.PressAsync("Enter");
        await Expect(page.Locator("#notice")).ToHaveTextAsync("frank is now inactive.");
        Assert.False(await UserActiveAsync("keys", "frank"));
    }

    [Fact]
    public async Task A_tenant_admin_can_neither_see_nor_change_another_tenant_through_the_console()
    {
        await fixture.PutPlanAsync("mine", new { model = "RegisteredUsers", seatLimit = 2 });
        await fixture.PutPlanAsync("theirs", new { model = "RegisteredUsers", seatLimit = 2 });
        await fixture.SetUserActiveAsync("theirs", "victim", true);
        var (context, page) = await fixture.SignInAsync("mine", AdminRole);
        await using var _ = context;

        var me = await (await context.APIRequest.GetAsync("/_licensing/console/me")).JsonAsync();
        var token = me!.Value.GetProperty("antiforgeryToken").GetString()!;
        var headers = new Dictionary<string, string> { ["X-Console-Antiforgery"] = token };

        foreach (var path in new[] { "tenants/theirs", "tenants/theirs/users", "tenants/theirs/sessions", "tenants/theirs/audit", "tenants/theirs/usage", "tenants" })
        {
            var read = await context.APIRequest.GetAsync("/_licensing/console/api/v1/" + path);
            Assert.True(read.Status == 403, $"GET {path}: {read.Status}");
            Assert.Contains("\"forbidden\"", await read.TextAsync());
        }
        var deactivate = await context.APIRequest.PutAsync("/_licensing/console/api/v1/tenants/theirs/users/victim",
            new() { Headers = headers, DataObject = new { active = false } });
        Assert.Equal(403, deactivate.Status);
        var plan = await context.APIRequest.PutAsync("/_licensing/console/api/v1/tenants/mine",
            new() { Headers = headers, DataObject = new { model = "RegisteredUsers", seatLimit = 50 } });
        Assert.Equal(403, plan.Status);
        Assert.True(await UserActiveAsync("theirs", "victim"));
        Assert.Equal(2, (await fixture.GetAsync("/_licensing/v1/tenants/mine")).GetProperty("seatLimit").GetInt32());

        // The page offers no way there either: the hash of another view changes nothing, and no picker exists.
        await page.GotoAsync(fixture.Console.AbsoluteUri + "#plan");
        await Expect(page.Locator("#view-overview")).ToBeVisibleAsync();
        await Expect(page.Locator("#view-plan")).ToBeHiddenAsync();
        await Expect(page.Locator("#tenant-picker")).ToBeHiddenAsync();
    }

    /// <summary>
    /// The overview as README shows it: a tenant with users, live sessions and 90 days of peaks (written into the
    /// usage ledger by the test). Saved to <c>SEAT_CONSOLE_SCREENSHOT</c> when set (docs/console.png is made so).
    /// </summary>
    [Fact]
    public async Task The_overview_draws_seats_and_ninety_days_of_peaks()
    {
        const string tenant = "acme";
        await fixture.PutPlanAsync(tenant, new { model = "RegisteredUsers", seatLimit = 40 });
        foreach (var user in Enumerable.Range(1, 34).Select(i => $"user{i:00}")) await fixture.SetUserActiveAsync(tenant, user, true);
        foreach (var (user, device) in new[] { ("user01", "laptop"), ("user02", "desk-7"), ("user03", "laptop"), ("user07", "tablet") })
            Assert.Equal(HttpStatusCode.OK, await fixture.ClientRequestAsync(tenant, user, device));
        var today = (int)(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 86_400_000);
        var ledger = Enumerable.Range(1, 89).Select(ago =>
        {
            var day = today - ago;
            var weekend = (day + 4) % 7 is 5 or 6;
            var users = weekend ? 6 + ago % 5 : Math.Min(40, 24 + (90 - ago) / 6 + ago % 4);
            return new StackExchange.Redis.HashEntry(day, $"{users + 3}:{users}");
        }).ToArray();
        await fixture.Gateway.Redis.Connection.GetDatabase().HashSetAsync(TenantKeys.For(tenant)[TenantKeys.Usage], ledger);

        var (context, page) = await fixture.SignInAsync(tenant, AdminRole, "alice");
        await using var _ = context;
        await Expect(page.Locator("#seats-used")).ToHaveTextAsync("34");
        await Expect(page.Locator("#chart svg rect.bar")).ToHaveCountAsync(90);
        await Expect(page.Locator("#chart svg rect.over")).ToHaveCountAsync(0);
        await Expect(page.Locator("#chart-svg-desc")).ToContainTextAsync("seat limit 40");

        var target = Environment.GetEnvironmentVariable("SEAT_CONSOLE_SCREENSHOT") is { Length: > 0 } configured
            ? configured
            : Path.Combine(Path.GetTempPath(), $"seat-console-{Guid.NewGuid():N}.png");
        var png = await page.ScreenshotAsync(new() { Path = target, FullPage = true });
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png[..4]);
        output.WriteLine($"screenshot: {target} ({png.Length} bytes)");
    }

    /// <summary>Presses Tab until <paramref name="selector"/> has the focus (at most 60 times): reachable by keyboard.</summary>
    private static async Task TabToAsync(IPage page, string selector)
    {
        for (var i = 0; i < 60; i++)
        {
            await page.Keyboard.PressAsync("Tab");
            if (await page.EvaluateAsync<bool>("s => document.activeElement === document.querySelector(s)", selector)) return;
        }
        Assert.Fail($"{selector} never got the focus by Tab");
    }

    private async Task<bool> UserActiveAsync(string tenant, string user)
    {
        var users = await fixture.GetAsync($"/_licensing/v1/tenants/{tenant}/users");
        return users.GetProperty("users").EnumerateArray().Any(u => u.GetProperty("userId").GetString() == user && u.GetProperty("active").GetBoolean());
    }

    private async Task<(string Id, DateTimeOffset StartedAt)[]> SessionsAsync(string tenant)
    {
        var sessions = await fixture.GetAsync($"/_licensing/v1/tenants/{tenant}/sessions");
        return sessions.GetProperty("sessions").EnumerateArray()
            .Select(s => (s.GetProperty("sessionId").GetString()!, s.GetProperty("startedAt").GetDateTimeOffset())).ToArray();
    }

    /// <summary>The detail the API itself writes for this refusal (the page must show it, not its own words).</summary>
    private async Task<string> ProblemDetailAsync(string tenant, string user)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, $"/_licensing/v1/tenants/{tenant}/users/{user}")
        {
            Content = System.Net.Http.Json.JsonContent.Create(new { active = true }),
        };
        request.Headers.Authorization = new("Bearer", Support.TestTokens.User("ops", "olga", ("role", OperatorRole)));
        using var response = await fixture.Gateway.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        var body = JsonSerializer.Deserialize<JsonElement>(await response.Content.ReadAsStringAsync());
        Assert.Equal("seat-limit-reached", body.GetProperty("code").GetString());
        return body.GetProperty("detail").GetString()!;
    }
}
