using System.Text.RegularExpressions;
using Gateway.Licensing.Identity;
using Gateway.Licensing.Options;
using Gateway.Licensing.Rules;
using Gateway.Licensing.Scripts;
using Gateway.Licensing.Store;

namespace Gateway.Licensing.Tests.Scripts;

/// <summary>
/// Each wrapper sends exactly the arguments its script's header names: as many as the highest fixed
/// <c>ARGV[n]</c>, or, for a script with a variable tail (<c>[n..]</c>), the fixed ones and then the
/// tail. The contract tests check what the scripts do; this checks that neither side grew an argument
/// the other does not know of.
/// </summary>
public sealed partial class ScriptWrapperTests
{
    private const string Tenant = "acme";
    private static readonly ScriptContext Context = ScriptContext.For(new LicensingOptions(), "gateway");

    public static TheoryData<string, int> Calls() => new()
    {
        { "admit", AdmitScript.Call(Tenant, Context, new AdmitScript.Arguments("s", "u", ClientKind.Web, "d", 1, false, true, 0, 10, 0, EnforcementMode.Enforce)).Argv.Length },
        { "end_session", EndSessionScript.Call(Tenant, Context, new EndSessionScript.Arguments("s", "logout", null)).Argv.Length },
        { "sweep", SweepScript.Call(Tenant, Context, new SweepScript.Arguments(1, 1, 1)).Argv.Length },
        { "set_user", SetUserScript.Call(Tenant, Context, new SetUserScript.Arguments("u", true, 10)).Argv.Length },
        { "swap_users", SwapUsersScript.Call(Tenant, Context, new SwapUsersScript.Arguments("u", "v", 10)).Argv.Length },
        { "report_shared", ReportSharedScript.Call(Tenant, Context, "s").Argv.Length },
        { "release_plan", ReleasePlanScript.Call(Tenant, Context).Argv.Length },
        { "read_users", ReadUsersScript.Call(Tenant, Context, new ReadUsersScript.Arguments(null, 10, true, 100)).Argv.Length },
        { "read_audit", ReadAuditScript.Call(Tenant, Context, new ReadAuditScript.Arguments(null, 10, null)).Argv.Length },
    };

    [Theory]
    [MemberData(nameof(Calls))]
    public void A_call_sends_every_argument_its_script_names_and_no_more(string script, int argvLength)
    {
        var (fixedArgs, tailFrom) = Header(script);
        Assert.Null(tailFrom);
        Assert.Equal(fixedArgs, argvLength);
    }

    [Fact]
    public void Calls_with_a_variable_tail_put_it_where_the_script_reads_it()
    {
        // touch.lua and read_sessions.lua: ARGV[4..]; set_users.lua: ARGV[5..]; set_plan.lua: ARGV[10..].
        var touch = TouchScript.Call(Tenant, Context, [("a", 0L), ("b", 5L)]);
        Assert.Equal(Header("touch").TailFrom - 1 + 4, touch.Argv.Length);
        Assert.Equal("b", (string?)touch.Argv[Header("touch").TailFrom!.Value - 1 + 2]);

        var sessions = ReadSessionsScript.Call(Tenant, Context, ["a", "b", "c"]);
        Assert.Equal(Header("read_sessions").TailFrom - 1 + 3, sessions.Argv.Length);

        var users = SetUsersScript.Call(Tenant, Context, new SetUsersScript.Arguments(10, [("u", true), ("v", false)]));
        Assert.Equal(Header("set_users").TailFrom - 1 + 4, users.Argv.Length);
        Assert.Equal("v", (string?)users.Argv[Header("set_users").TailFrom!.Value - 1 + 2]);

        var plan = new TenantPlan(LicenseModel.ConcurrentSessions, 5, ["r"]) { MaxSessionsPerUser = 2 };
        var setPlan = SetPlanScript.Call(Tenant, Context, new SetPlanScript.Arguments(plan, false, 0, EnforcementMode.Enforce));
        var tail = Header("set_plan").TailFrom!.Value - 1;
        Assert.Equal(tail + 2 * plan.OptionalFields().Count(), setPlan.Argv.Length);
        Assert.Equal("maxSessionsPerUser", (string?)setPlan.Argv[tail]);
        Assert.Equal("2", (string?)setPlan.Argv[tail + 1]);
    }

    [Fact]
    public void Every_call_starts_with_the_common_arguments_and_the_tenants_keys()
    {
        var call = EndSessionScript.Call(Tenant, Context, new EndSessionScript.Arguments("s", "logout", "u"));
        Assert.Equal(Context.IdleWindowMs, (long)call.Argv[0]);
        Assert.Equal(Context.AuditCapacity, (int)call.Argv[1]);
        Assert.Equal("gateway", (string?)call.Argv[2]);
        Assert.Equal(TenantKeys.For(Tenant), call.Keys);
    }

    /// <summary>
    /// From the script's header (its leading comment lines): how many arguments the fixed ones take
    /// (the highest <c>[n]</c>, 3 when it names none), and where a variable tail starts (<c>[n..]</c>).
    /// </summary>
    private static (int FixedArgs, int? TailFrom) Header(string script)
    {
        using var stream = typeof(LicenseStore).Assembly.GetManifestResourceStream($"Gateway.Licensing.Scripts.{script}.lua")!;
        using var reader = new StreamReader(stream);
        var header = string.Join('\n', reader.ReadToEnd().Split('\n').TakeWhile(l => l.StartsWith("--", StringComparison.Ordinal)));
        var fixedArgs = ScriptContext.Count;
        int? tailFrom = null;
        foreach (Match m in ArgvIndex().Matches(header))
        {
            var n = int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            if (m.Groups[2].Success) tailFrom = n;
            else fixedArgs = Math.Max(fixedArgs, n);
        }
        return (fixedArgs, tailFrom);
    }

    [GeneratedRegex(@"\[(\d+)(\.\.)?\]")]
    private static partial Regex ArgvIndex();
}
