using System.Text;

namespace Gateway.Tests.Support;

/// <summary>Text from requests, logs or the store made safe to print in a test message.</summary>
public static class Printable
{
    /// <summary>At most <paramref name="max"/> characters, escaped, with the full length when cut.</summary>
    public static string Shorten(string text, int max = 120) =>
        text.Length <= max ? Escape(text) : Escape(text[..max]) + $"...({text.Length} chars)";

    /// <summary>Control characters and C1 controls as <c>\xNN</c>, so a hostile value cannot garble the output.</summary>
    public static string Escape(string text)
    {
        var sb = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            if (c is < ' ' or (> '~' and < '\u00a0')) sb.Append($"\\x{(int)c:x2}");
            else sb.Append(c);
        }
        return sb.ToString();
    }
}
