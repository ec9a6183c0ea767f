namespace Gateway.Development;

/// <summary>The <c>Demo</c> section of <c>appsettings.Development.json</c>.</summary>
internal sealed class DemoOptions
{
    public const string SectionName = "Demo";

    /// <summary>Whether to run the stand-in backend and print demo commands. Default: false.</summary>
    public bool Enabled { get; set; }

    /// <summary>Where the stand-in ERP backend listens; the demo routes point here. Default: http://127.0.0.1:5190.</summary>
    public string BackendUrl { get; set; } = "http://127.0.0.1:5190";

    /// <summary>The demo tenant. Default: demo.</summary>
    public string Tenant { get; set; } = "demo";

    /// <summary>How long printed demo tokens live. Default: 8 hours.</summary>
    public TimeSpan TokenLifetime { get; set; } = TimeSpan.FromHours(8);
}
