namespace Gateway.Licensing.Identity;

/// <summary>The kind of client a session belongs to. Serialized in lower case (<c>desktop</c>).</summary>
public enum ClientKind : byte
{
    Desktop,
    Web,
    Mobile,
    Service,
}

public static class ClientKindNames
{
    public const string Desktop = "desktop";
    public const string Web = "web";
    public const string Mobile = "mobile";
    public const string Service = "service";

    public static string ToName(this ClientKind kind) => kind switch
    {
        ClientKind.Desktop => Desktop,
        ClientKind.Web => Web,
        ClientKind.Mobile => Mobile,
        ClientKind.Service => Service,
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>Parses a client kind a caller may declare (<c>service</c> is never declared, it is derived from the token).</summary>
    public static bool TryParseDeclared(ReadOnlySpan<char> value, out ClientKind kind)
    {
        if (value.Equals(Desktop, StringComparison.OrdinalIgnoreCase)) { kind = ClientKind.Desktop; return true; }
        if (value.Equals(Web, StringComparison.OrdinalIgnoreCase)) { kind = ClientKind.Web; return true; }
        if (value.Equals(Mobile, StringComparison.OrdinalIgnoreCase)) { kind = ClientKind.Mobile; return true; }
        kind = default;
        return false;
    }

    public static bool TryParse(ReadOnlySpan<char> value, out ClientKind kind)
    {
        if (value.SequenceEqual(Service)) { kind = ClientKind.Service; return true; }
        return TryParseDeclared(value, out kind);
    }
}
