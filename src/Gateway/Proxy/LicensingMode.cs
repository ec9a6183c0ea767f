namespace Gateway.Proxy;

/// <summary>What the gateway does on a route, from its YARP metadata <c>Licensing</c>: <c>Enforce</c> when absent.</summary>
internal enum LicensingMode : byte
{
    /// <summary>Authenticate, admit the session, forward (the default).</summary>
    Enforce,

    /// <summary>Forward without authentication or licensing.</summary>
    Off,

    /// <summary>Forward without admitting; end the caller's session when the backend answers 2xx/3xx.</summary>
    Release,
}
