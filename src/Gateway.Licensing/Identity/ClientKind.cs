namespace Gateway.Licensing.Identity;

/// <summary>The kind of client a session belongs to. Serialized in lower case (<c>desktop</c>).</summary>
public enum ClientKind : byte
{
    /// <summary>A desktop application (<c>desktop</c>).</summary>
    Desktop,

    /// <summary>A browser (<c>web</c>).</summary>
    Web,

    /// <summary>A mobile app (<c>mobile</c>).</summary>
    Mobile,

    /// <summary>A service identity, a token without a user (<c>service</c>); never declared by a caller.</summary>
    Service,
}

/// <summary>The lower-case names of <see cref="ClientKind"/>, as the API, the store and the metrics write them.</summary>
public static class ClientKindNames
{
    /// <summary>The name of <see cref="ClientKind.Desktop"/>.</summary>
    public const string Desktop = "desktop";

    /// <summary>The name of <see cref="ClientKind.Web"/>.</summary>
    public const string Web = "web";

    /// <summary>The name of <see cref="ClientKind.Mobile"/>.</summary>
    public const string Mobile = "mobile";

    /// <summary>The name of <see cref="ClientKind.Service"/>.</summary>
    public const string Service = "service";

    /// <summary>The lower-case name of <paramref name="kind"/>.</summary>
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

    /// <summary>Parses a client kind as the store writes it: a declared kind in any case, or exactly <c>service</c>.</summary>
    public static bool TryParse(ReadOnlySpan<char> value, out ClientKind kind)
    {
        if (value.SequenceEqual(Service)) { kind = ClientKind.Service; return true; }
        return TryParseDeclared(value, out kind);
    }
}
