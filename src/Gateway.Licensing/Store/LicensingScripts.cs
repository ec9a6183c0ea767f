using System.Reflection;

namespace Gateway.Licensing.Store;

/// <summary>
/// The Lua scripts, loaded once from embedded resources. Each is the shared prelude
/// (<c>common.lua</c>) followed by its body, so the same rules are written once.
/// </summary>
internal static class LicensingScripts
{
    public static readonly string Admit = Load("admit");
    public static readonly string Touch = Load("touch");
    public static readonly string EndSession = Load("end_session");
    public static readonly string Sweep = Load("sweep");
    public static readonly string SetPlan = Load("set_plan");
    public static readonly string SetUser = Load("set_user");
    public static readonly string SetUsers = Load("set_users");
    public static readonly string SwapUsers = Load("swap_users");

    // Read-only scripts of the management API (LicenseQueries): they never write a key.
    public static readonly string ReadUsers = Load("read_users");
    public static readonly string ReadSessions = Load("read_sessions");
    public static readonly string ReadAudit = Load("read_audit");

    private static string Load(string name) => Read("common") + "\n" + Read(name);

    private static string Read(string name)
    {
        var resource = $"Gateway.Licensing.Scripts.{name}.lua";
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"Embedded script {resource} is missing.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
