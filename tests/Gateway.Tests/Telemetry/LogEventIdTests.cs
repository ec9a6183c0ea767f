using System.Reflection;
using Gateway.Hosting;
using Gateway.Licensing.Store;
using Microsoft.Extensions.Logging;

namespace Gateway.Tests.Telemetry;

/// <summary>
/// Every log message of the product has its own event id, so operators can filter and alert on one
/// message whatever its text becomes. Ranges: 1000-1999 the licensing engine, 2000-2899 the host,
/// 2900-2999 the Development demo (docs/operations.md, "Logs").
/// </summary>
public sealed class LogEventIdTests
{
    private static readonly (Assembly Assembly, int From, int To)[] Ranges =
    [
        (typeof(LicenseStore).Assembly, 1000, 1999),
        (typeof(SeatGatewayApplicationExtensions).Assembly, 2000, 2999),
    ];

    [Fact]
    public void Every_log_message_has_an_event_id_of_its_own_in_its_assembly_s_range()
    {
        var messages = Ranges
            .SelectMany(r => LogMessages(r.Assembly).Select(m => (Message: m.Name, m.Attribute.EventId, r.From, r.To)))
            .ToArray();

        Assert.NotEmpty(messages);
        Assert.All(messages, m => Assert.InRange(m.EventId, m.From, m.To));
        var duplicates = messages.GroupBy(m => m.EventId).Where(g => g.Count() > 1).Select(g => $"{g.Key}: {string.Join(", ", g.Select(m => m.Message))}");
        Assert.Empty(duplicates);
    }

    private static IEnumerable<(string Name, LoggerMessageAttribute Attribute)> LogMessages(Assembly assembly) =>
        from type in assembly.GetTypes()
        from method in type.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly)
        let attribute = method.GetCustomAttribute<LoggerMessageAttribute>()
        where attribute is not null
        select ($"{type.Name}.{method.Name}", attribute);
}
