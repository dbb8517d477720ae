namespace AskPro.Functions.Tests.Infrastructure;

/// <summary>A body with exact text replaced (each replaced text must be there), for variants of the examples.</summary>
public static class BodyRewrite
{
    public static byte[] Rewrite(byte[] body, params (string From, string To)[] replacements)
    {
        var text = System.Text.Encoding.UTF8.GetString(body);
        foreach (var (from, to) in replacements)
        {
            Assert.Contains(from, text, StringComparison.Ordinal);
            text = text.Replace(from, to, StringComparison.Ordinal);
        }

        return System.Text.Encoding.UTF8.GetBytes(text);
    }
}
