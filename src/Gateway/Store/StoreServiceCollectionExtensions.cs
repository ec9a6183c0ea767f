using Microsoft.Extensions.DependencyInjection.Extensions;
using Gateway.Licensing.Sessions;
using Gateway.Licensing.Store;
using StackExchange.Redis;

namespace Gateway.Store;

internal static class StoreServiceCollectionExtensions
{
    /// <summary>
    /// Registers the shared store connection (Redis, or the embedded store when
    /// <c>ConnectionStrings:Redis</c> is empty). Configuration is read when the connection is first
    /// resolved, so test hosts can override it.
    /// </summary>
    public static IServiceCollection AddLicensingStoreConnection(this IServiceCollection services)
    {
        services.TryAddSingleton<EmbeddedStoreHost>();
        services.TryAddSingleton<StoreConnector>();
        services.TryAddSingleton<IConnectionMultiplexer>(sp => sp.GetRequiredService<StoreConnector>().Connect());
        // Null on Redis: only a store with a barrier makes admin writes wait for its own commit.
        services.TryAddSingleton<IStoreWriteBarrier>(sp => StoreConnector.UsesEmbeddedStore(sp.GetRequiredService<IConfiguration>())
            ? new EmbeddedStoreWriteBarrier(sp.GetRequiredService<IConnectionMultiplexer>())
            : null!);
        // Null on Redis: the ceiling guards the memory of a store inside this process only.
        services.TryAddSingleton<SessionCeiling>(sp => StoreConnector.UsesEmbeddedStore(sp.GetRequiredService<IConfiguration>())
            ? ActivatorUtilities.CreateInstance<SessionCeiling>(sp)
            : null!);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, EmbeddedStoreCheckpointer>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, EmbeddedSessionCeilingSampler>());
        return services;
    }
}
