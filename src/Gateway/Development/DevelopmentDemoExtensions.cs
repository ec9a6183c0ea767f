using Microsoft.Extensions.DependencyInjection.Extensions;

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
        AddDemoSigningKey(builder.Configuration, builder.Environment);
        var options = builder.Configuration.GetSection(DemoOptions.SectionName).Get<DemoOptions>() ?? new DemoOptions();
        if (!options.Enabled) return builder;
        builder.Services.TryAddSingleton(options);
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, DemoBackend>());
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, DemoTokens>());
        return builder;
    }

    /// <summary>
    /// Loads <c>Development/demo-signing-key.json</c> right after <c>appsettings.Development.json</c>, so
    /// user secrets, environment variables and the command line still override it.
    /// </summary>
    private static void AddDemoSigningKey(ConfigurationManager configuration, IWebHostEnvironment environment)
    {
        var source = new Microsoft.Extensions.Configuration.Json.JsonConfigurationSource
        {
            Path = "Development/demo-signing-key.json",
            Optional = true,
            FileProvider = environment.ContentRootFileProvider,
        };
        var sources = configuration.Sources;
        if (sources.Any(s => s is Microsoft.Extensions.Configuration.Json.JsonConfigurationSource { Path: var path } && path == source.Path)) return;
        var after = -1;
        for (var i = 0; i < sources.Count; i++)
        {
            if (sources[i] is Microsoft.Extensions.Configuration.Json.JsonConfigurationSource { Path: var path }
                && string.Equals(path, $"appsettings.{environment.EnvironmentName}.json", StringComparison.OrdinalIgnoreCase))
            {
                after = i;
            }
        }
        if (after < 0) sources.Add(source);
        else sources.Insert(after + 1, source);
    }
}
