namespace Gateway.Identity;

internal enum DeviceSourceKind : byte
{
    Claim,
    Header,
    Cookie,
    Fingerprint,
}

/// <summary>One entry of <c>Licensing:DeviceSources</c>, parsed once (<c>claim:NAME</c>, <c>header:NAME</c>, <c>cookie:NAME</c>, <c>fingerprint</c>).</summary>
internal readonly record struct DeviceSource(DeviceSourceKind Kind, string Name)
{
    /// <summary>Parses a source the options validator has accepted.</summary>
    public static DeviceSource Parse(string source)
    {
        if (source == "fingerprint") return new DeviceSource(DeviceSourceKind.Fingerprint, "");
        var colon = source.IndexOf(':');
        var name = source[(colon + 1)..];
        return source[..colon] switch
        {
            "claim" => new DeviceSource(DeviceSourceKind.Claim, name),
            "header" => new DeviceSource(DeviceSourceKind.Header, name),
            "cookie" => new DeviceSource(DeviceSourceKind.Cookie, name),
            _ => throw new InvalidOperationException($"Unknown device source '{source}'."),
        };
    }

    /// <summary>The gateway's own device cookie: the only cookie the gateway ever mints (for web clients).</summary>
    public bool IsGatewayCookie => Kind == DeviceSourceKind.Cookie && Name == DeviceCookie.Name;
}
