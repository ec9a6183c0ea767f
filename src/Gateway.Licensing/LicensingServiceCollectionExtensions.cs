using System.Reflection;
using Gateway.Licensing.Options;
using Gateway.Licensing.Sessions;
using Gateway.Licensing.Store;
using Gateway.Licensing.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Gateway.Licensing;

/// <summary>Registration of the licensing engine in a host's services.</summary>
public static class LicensingServiceCollectionExtensions
{
    /// <summary>
    /// Registers the licensing engine. The caller registers the <c>IConnectionMultiplexer</c>
    /// (Redis or the embedded store) and binds <see cref="LicensingOptions"/>. Safe to call more than
    /// once: every registration is a TryAdd, so each hosted service runs once.
    /// </summary>
    public static IServiceCollection AddLicensingEngine(this IServiceCollection services)
    {
        services.AddOptions<LicensingOptions>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<LicensingOptions>, LicensingOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.AddMetrics(); // IMeterFactory for LicensingMetrics and TenantGauges; a host's own registration wins
        services.TryAddSingleton<LocalSessionCache>();
        services.TryAddSingleton<StoreHealth>();
        services.TryAddSingleton<DurableWrites>();
        // The engine's public services take its internal parts, so their constructors are internal, which the
        // container does not call by itself: BuiltByEngine resolves their parameters as it would.
        services.TryAddSingleton(BuiltByEngine<LicenseStore>);
        services.TryAddSingleton<LicenseQueries>();
        services.TryAddSingleton<TouchBatcher>();
        services.TryAddSingleton<SessionSharing>();
        services.TryAddSingleton(BuiltByEngine<SessionAdmitter>);
        services.TryAddSingleton<RevocationBus>();
        services.TryAddSingleton<SessionSweeper>();
        services.TryAddSingleton(BuiltByEngine<SessionUseTracker>);
        services.TryAddSingleton<ConfiguredPlanSeeder>();
        services.TryAddSingleton<TenantGauges>();
        services.TryAddSingleton<RejectionBurstLog>();
        services.TryAddSingleton<StoreHealthProbe>();
        services.TryAddSingleton<TenantLabels>();
        services.TryAddSingleton(BuiltByEngine<LicensingMetrics>);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ISessionEndedListener, LicensingMetrics>(sp => sp.GetRequiredService<LicensingMetrics>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ISessionEndedListener, RevocationBus>(sp => sp.GetRequiredService<RevocationBus>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, RevocationBus>(sp => sp.GetRequiredService<RevocationBus>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, ConfiguredPlanSeeder>(sp => sp.GetRequiredService<ConfiguredPlanSeeder>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, TouchBatcher>(sp => sp.GetRequiredService<TouchBatcher>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, SessionSweeper>(sp => sp.GetRequiredService<SessionSweeper>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, SessionUseTracker>(sp => sp.GetRequiredService<SessionUseTracker>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, TenantGauges>(sp => sp.GetRequiredService<TenantGauges>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, StoreHealthProbe>(sp => sp.GetRequiredService<StoreHealthProbe>()));
        return services;
    }

    /// <summary>
    /// Calls <typeparamref name="T"/>'s one internal constructor with every parameter taken from the
    /// container, as the container does for a public one; a parameter with a default (an optional part,
    /// such as the embedded store's session ceiling) gets it when nothing is registered. So a part added
    /// to a constructor is wired without a second list of parameters here to keep in step.
    /// </summary>
    private static T BuiltByEngine<T>(IServiceProvider services) where T : class
    {
        var constructor = typeof(T).GetConstructors(BindingFlags.Instance | BindingFlags.NonPublic).Single();
        var arguments = constructor.GetParameters().Select(p => services.GetService(p.ParameterType)
            ?? (p.HasDefaultValue ? p.DefaultValue : throw new InvalidOperationException($"{typeof(T).Name} needs a {p.ParameterType.Name}, which is not registered.")))
            .ToArray();
        return (T)constructor.Invoke(arguments);
    }
}
