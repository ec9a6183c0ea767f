using System.Diagnostics.Metrics;
using Gateway.Licensing.Options;
using Gateway.Licensing.Sessions;
using Gateway.Licensing.Store;
using Gateway.Licensing.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

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
        // The engine's public services are built here: their constructors take the engine's internal parts.
        services.TryAddSingleton(sp => new LicenseStore(
            sp.GetRequiredService<IConnectionMultiplexer>(),
            sp.GetRequiredService<IOptionsMonitor<LicensingOptions>>(),
            sp.GetServices<ISessionEndedListener>(),
            sp.GetRequiredService<DurableWrites>()));
        services.TryAddSingleton<LicenseQueries>();
        services.TryAddSingleton<TouchBatcher>();
        services.TryAddSingleton<SessionSharing>();
        services.TryAddSingleton(sp => new SessionAdmitter(
            sp.GetRequiredService<LicenseStore>(),
            sp.GetRequiredService<LocalSessionCache>(),
            sp.GetRequiredService<TouchBatcher>(),
            sp.GetRequiredService<RevocationBus>(),
            sp.GetRequiredService<StoreHealth>(),
            sp.GetRequiredService<IOptionsMonitor<LicensingOptions>>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<LicensingMetrics>(),
            sp.GetRequiredService<RejectionBurstLog>(),
            sp.GetRequiredService<ILogger<SessionAdmitter>>(),
            sp.GetRequiredService<SessionSharing>(),
            sp.GetService<SessionCeiling>()));
        services.TryAddSingleton<RevocationBus>();
        services.TryAddSingleton<SessionSweeper>();
        services.TryAddSingleton(sp => new SessionUseTracker(
            sp.GetRequiredService<LocalSessionCache>(),
            sp.GetRequiredService<TouchBatcher>(),
            sp.GetRequiredService<RevocationBus>(),
            sp.GetRequiredService<StoreHealth>(),
            sp.GetRequiredService<IOptionsMonitor<LicensingOptions>>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<SessionUseTracker>>()));
        services.TryAddSingleton<ConfiguredPlanSeeder>();
        services.TryAddSingleton<TenantGauges>();
        services.TryAddSingleton<RejectionBurstLog>();
        services.TryAddSingleton<StoreHealthProbe>();
        services.TryAddSingleton<TenantLabels>();
        services.TryAddSingleton(sp => new LicensingMetrics(sp.GetRequiredService<IMeterFactory>(), sp.GetRequiredService<TenantLabels>()));
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
}
