using System.Reflection;

namespace Gateway.Licensing.Store;

/// <summary>
/// The Lua scripts, loaded once from embedded resources. Each is the shared prelude
/// (<c>common.lua</c>) followed by its body, so the same rules are written once.
/// </summary>
internal static class LicensingScripts
{
    public static readonly StoreScript Admit = Load("admit");
    public static readonly StoreScript Touch = Load("touch");
    public static readonly StoreScript EndSession = Load("end_session");
    public static readonly StoreScript Sweep = Load("sweep");
    public static readonly StoreScript SetPlan = Load("set_plan");
    public static readonly StoreScript SetUser = Load("set_user");
    public static readonly StoreScript SetUsers = Load("set_users");
    public static readonly StoreScript SwapUsers = Load("swap_users");
    public static readonly StoreScript ReportShared = Load("report_shared");
    public static readonly StoreScript ReleasePlan = Load("release_plan");

    // Read-only scripts of the management API (LicenseQueries): they never write a key.
    public static readonly StoreScript ReadUsers = Load("read_users");
    public static readonly StoreScript ReadSessions = Load("read_sessions");
    public static readonly StoreScript ReadAudit = Load("read_audit");

    private static StoreScript Load(string name) => new(Read("common") + "\n" + Read(name));

    private static string Read(string name)
    {
        var resource = $"Gateway.Licensing.Scripts.{name}.lua";
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"Embedded script {resource} is missing.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
