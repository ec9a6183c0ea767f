namespace Gateway.Proxy;

/// <summary>The <c>X-Licensing-*</c> headers: the gateway's alone, never taken from a caller (SPEC §5).</summary>
internal static class LicensingHeaders
{
    public const string Prefix = "X-Licensing-";
    public const string Session = "X-Licensing-Session";
    public const string Tenant = "X-Licensing-Tenant";

    /// <summary>Removes every inbound <c>X-Licensing-*</c> header.</summary>
    public static void RemoveInbound(IHeaderDictionary headers)
    {
        List<string>? found = null;
        foreach (var header in headers)
        {
            if (header.Key.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase)) (found ??= []).Add(header.Key);
        }
        if (found is null) return;
        foreach (var name in found) headers.Remove(name);
    }

    /// <summary>Adds the session id and tenant to the request the proxy forwards.</summary>
    public static void SetForwarded(IHeaderDictionary headers, string sessionId, string tenant)
    {
        headers[Session] = sessionId;
        headers[Tenant] = tenant;
    }
}
