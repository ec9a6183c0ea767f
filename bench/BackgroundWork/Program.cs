// Background store work of REPLICAS licensing engine instances (each with its own connection, as
// separate gateway processes would have) against one redis-server holding TENANTS tenants, each
// with one live session that nothing touches. Reads INFO commandstats before and after a window in
// which nothing but the engines' own background services runs, and prints the commands per second
// they cost, per command.
//
//   dotnet run -c Release --project bench/BackgroundWork -- <redis host:port>
//
// Environment: TENANTS=10000 REPLICAS=3 WARMUP_SECONDS=20 WINDOW_SECONDS=60
using System.Diagnostics;
using System.Globalization;
using Gateway.Licensing;
using Gateway.Licensing.Identity;
using Gateway.Licensing.Options;
using Gateway.Licensing.Rules;
using Gateway.Licensing.Store;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

var endpoint = args.Length > 0 ? args[0] : "127.0.0.1:6379";
var tenants = Env("TENANTS", 10_000);
var replicas = Env("REPLICAS", 3);
var warmup = Env("WARMUP_SECONDS", 20);
var window = Env("WINDOW_SECONDS", 60);

var admin = await ConnectionMultiplexer.ConnectAsync($"{endpoint},allowAdmin=true,syncTimeout=20000,asyncTimeout=20000");
var server = admin.GetServer(admin.GetEndPoints()[0]);
await server.FlushAllDatabasesAsync();

// Seed through the engine itself, so the store holds what the gateway would have written.
var seeder = Build(admin);
var store = seeder.GetRequiredService<LicenseStore>();
var names = Enumerable.Range(0, tenants).Select(i => "bench-" + i.ToString("D5", CultureInfo.InvariantCulture)).ToArray();
var clock = Stopwatch.StartNew();
await ForEachAsync(names, t => store.SetPlanAsync(t, new TenantPlan(LicenseModel.ConcurrentSessions, 10, []), false, "bench"));
await ForEachAsync(names, t => store.AdmitAsync(new SessionIdentity(t, "u1", ClientKind.Desktop, "d1")));
Console.Error.WriteLine($"seeded {tenants} tenants with one live session each in {clock.Elapsed.TotalSeconds:F1} s");

var engines = new List<(ServiceProvider Services, IHostedService[] Hosted, ConnectionMultiplexer Connection)>();
for (var r = 0; r < replicas; r++)
{
    var connection = await ConnectionMultiplexer.ConnectAsync($"{endpoint},syncTimeout=20000,asyncTimeout=20000");
    var services = Build(connection);
    var hosted = services.GetServices<IHostedService>().ToArray();
    foreach (var h in hosted) await h.StartAsync(CancellationToken.None);
    engines.Add((services, hosted, connection));
}
Console.Error.WriteLine($"{replicas} engines started; warming up {warmup} s");
await Task.Delay(TimeSpan.FromSeconds(warmup));

var before = await CommandStatsAsync(server);
clock.Restart();
await Task.Delay(TimeSpan.FromSeconds(window));
var seconds = clock.Elapsed.TotalSeconds;
var after = await CommandStatsAsync(server);

foreach (var (services, hosted, connection) in engines)
{
    foreach (var h in hosted.Reverse()) await h.StopAsync(CancellationToken.None);
    await services.DisposeAsync();
    await connection.DisposeAsync();
}

// The two INFO calls of this program are not background work.
var rows = after.Select(a =>
{
    before.TryGetValue(a.Key, out var b);
    var calls = a.Value.Calls - b.Calls - (a.Key == "info" ? 1 : 0);
    return (Command: a.Key, Calls: calls, Usec: a.Value.Usec - b.Usec);
}).Where(r => r.Calls > 0).OrderByDescending(r => r.Calls).ToArray();

Console.WriteLine($"tenants={tenants} replicas={replicas} window={seconds:F1}s");
Console.WriteLine();
Console.WriteLine("| command | calls/s | server time (ms/s) |");
Console.WriteLine("|---|---:|---:|");
foreach (var r in rows)
{
    Console.WriteLine(FormattableString.Invariant($"| {r.Command} | {r.Calls / seconds:F1} | {r.Usec / 1000.0 / seconds:F2} |"));
}
Console.WriteLine(FormattableString.Invariant($"| **total** | **{rows.Sum(r => r.Calls) / seconds:F1}** | **{rows.Sum(r => r.Usec) / 1000.0 / seconds:F2}** |"));
return 0;

static int Env(string name, int fallback) =>
    int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : fallback;

static ServiceProvider Build(IConnectionMultiplexer connection)
{
    var services = new ServiceCollection();
    services.AddSingleton(connection);
    services.AddSingleton(typeof(ILogger<>), typeof(NullLogger<>));
    services.AddSingleton<ILoggerFactory>(NullLoggerFactory.Instance);
    services.AddLicensingEngine();
    // Sessions stay live through the run: nothing is due, which is the common state of most tenants.
    services.Configure<LicensingOptions>(o => o.IdleTimeout = TimeSpan.FromMinutes(30));
    return services.BuildServiceProvider();
}

static async Task ForEachAsync(IEnumerable<string> items, Func<string, Task> action)
{
    using var gate = new SemaphoreSlim(64);
    var tasks = items.Select(async item =>
    {
        await gate.WaitAsync();
        try { await action(item); }
        finally { gate.Release(); }
    }).ToArray();
    await Task.WhenAll(tasks);
}

static async Task<Dictionary<string, (long Calls, long Usec)>> CommandStatsAsync(IServer server)
{
    var stats = new Dictionary<string, (long, long)>(StringComparer.Ordinal);
    foreach (var group in await server.InfoAsync("commandstats"))
    {
        foreach (var entry in group)
        {
            // cmdstat_evalsha: calls=12,usec=345,usec_per_call=...,rejected_calls=0,failed_calls=0
            var name = entry.Key.Replace("cmdstat_", "", StringComparison.Ordinal);
            var fields = entry.Value.Split(',').Select(f => f.Split('=')).ToDictionary(f => f[0], f => f[1]);
            stats[name] = (long.Parse(fields["calls"], CultureInfo.InvariantCulture), long.Parse(fields["usec"], CultureInfo.InvariantCulture));
        }
    }
    return stats;
}
