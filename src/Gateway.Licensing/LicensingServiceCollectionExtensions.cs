using Gateway.Licensing.Options;
using Gateway.Licensing.Sessions;
using Gateway.Licensing.Store;
using Gateway.Licensing.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Gateway.Licensing;

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
        services.TryAddSingleton<LicenseStore>();
        services.TryAddSingleton<LicenseQueries>();
        services.TryAddSingleton<TouchBatcher>();
        services.TryAddSingleton<SessionSharing>();
        services.TryAddSingleton<SessionAdmitter>();
        services.TryAddSingleton<RevocationBus>();
        services.TryAddSingleton<SessionSweeper>();
        services.TryAddSingleton<SessionUseTracker>();
        services.TryAddSingleton<ConfiguredPlanSeeder>();
        services.TryAddSingleton<TenantGauges>();
        services.TryAddSingleton<RejectionBurstLog>();
        services.TryAddSingleton<StoreHealthProbe>();
        services.TryAddSingleton<TenantLabels>();
        services.TryAddSingleton<LicensingMetrics>();
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
