namespace Gateway.Development;

internal static class DevelopmentDemoExtensions
{
    /// <summary>
    /// In Development with <c>Demo:Enabled</c>, runs the stand-in ERP backend and prints demo
    /// commands at start. Does nothing in any other environment.
    /// </summary>
    public static WebApplicationBuilder AddDevelopmentDemo(this WebApplicationBuilder builder)
    {
        if (!builder.Environment.IsDevelopment()) return builder;
        var options = builder.Configuration.GetSection(DemoOptions.SectionName).Get<DemoOptions>() ?? new DemoOptions();
        if (!options.Enabled) return builder;
        builder.Services.AddSingleton(options);
        builder.Services.AddHostedService<DemoBackend>();
        builder.Services.AddHostedService<DemoTokens>();
        return builder;
    }
}
