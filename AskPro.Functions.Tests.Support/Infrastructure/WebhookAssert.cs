namespace AskPro.Functions.Tests.Infrastructure;

/// <summary>What every error answer of the webhook function looks like.</summary>
public static class WebhookAssert
{
    /// <summary>Every 4xx has the same shape: status "error", a code and a message; 422 also lists details.</summary>
    public static void AssertError(WebhookResponse response, int statusCode, string code)
    {
        Assert.True(response.StatusCode == statusCode, $"expected {statusCode} {code}, got {response}");
        Assert.StartsWith("application/json", response.ContentType, StringComparison.Ordinal);
        var json = response.Json;
        Assert.Equal(["status", "error"], json.EnumerateObject().Select(p => p.Name));
        Assert.Equal("error", json.GetProperty("status").GetString());
        var error = json.GetProperty("error");
        Assert.Equal(code, error.GetProperty("code").GetString());
        Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("message").GetString()));
        if (statusCode == 422)
        {
            Assert.Equal(System.Text.Json.JsonValueKind.Array, error.GetProperty("details").ValueKind);
            Assert.NotEmpty(response.Details);
            Assert.All(response.Details, d => Assert.False(string.IsNullOrWhiteSpace(d)));
        }
        else
        {
            Assert.False(error.TryGetProperty("details", out _));
        }
    }
}
