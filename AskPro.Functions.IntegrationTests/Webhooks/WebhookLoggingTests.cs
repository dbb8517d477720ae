using System.Security.Cryptography;
using System.Text;
using AskPro.Functions.Tests.Infrastructure;
using AskPro.Functions.Webhooks;
using static AskPro.Functions.Tests.Infrastructure.PersonalData;

namespace AskPro.Functions.Tests.Webhooks;

/// <summary>
/// What the HTTP function logs for each example: enough to trace a delivery (its id and the booking uid's pseudonym, never the uid), and no
/// personal data from the body and no secret. Each delivery gets a fresh app, so its log lines are its own.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class WebhookLoggingTests(AzuriteFixture azurite)
{
    public static TheoryData<string, string> AllExamples()
    {
        var data = new TheoryData<string, string>();
        foreach (var name in Examples.CalcomNames)
        {
            data.Add("calcom", name);
        }

        foreach (var name in Examples.SeedNames)
        {
            data.Add("seed", name);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(AllExamples))]
    public async Task A_delivery_is_logged_with_its_id_and_uid_pseudonym_but_without_the_uid_personal_data_or_secrets(string folder, string name)
    {
        var body = folder == "calcom" ? Examples.Calcom(name) : Examples.Seed(name);
        await using var app = TestApp.Create(azurite.ConnectionString);

        var response = await WebhookCall.PostSignedAsync(app, body);

        Assert.InRange(response.StatusCode, 200, 202);
        var logs = string.Join('\n', app.Logs.Lines);
        Assert.Contains(Convert.ToHexStringLower(SHA256.HashData(body)), logs, StringComparison.Ordinal);
        if (response.Json.TryGetProperty("uid", out var uid))
        {
            // A uid is a bearer token on Cal.com's public pages: the log names its pseudonym, never the uid.
            Assert.Contains(Logging.UidPseudonym.Of(uid.GetString()!), logs, StringComparison.Ordinal);
            Assert.DoesNotContain(uid.GetString()!, logs, StringComparison.Ordinal);
        }

        AssertNoPersonalDataOrSecret(body, logs, expectSomePersonalData: !name.Contains("confirmed", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("\"startTime\": \"2026-01-27T09:00:00Z\"", "\"startTime\": \"yesterday\"")]
    [InlineData("\"triggerEvent\": \"BOOKING_CREATED\"", "\"triggerEvent\": \"FORM_SUBMITTED\"")]
    public async Task A_rejected_or_ignored_delivery_logs_no_personal_data_either(string find, string replace)
    {
        var body = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(Examples.Calcom("booking_created_web.json")).Replace(find, replace, StringComparison.Ordinal));
        await using var app = TestApp.Create(azurite.ConnectionString);

        var response = await WebhookCall.PostSignedAsync(app, body);

        Assert.Contains(response.StatusCode, new[] { 200, 422 });
        var logs = string.Join('\n', app.Logs.Lines);
        Assert.Contains(Convert.ToHexStringLower(SHA256.HashData(body)), logs, StringComparison.Ordinal);
        AssertNoPersonalDataOrSecret(body, logs, expectSomePersonalData: true);
    }

    [Fact]
    public async Task An_unauthorized_delivery_logs_neither_the_body_nor_the_presented_signature_secret()
    {
        var body = Examples.Calcom("booking_created_web.json");
        await using var app = TestApp.Create(azurite.ConnectionString);

        var response = await WebhookCall.PostAsync(app, new MemoryStream(body), body.Length,
            new() { [WebhookSignature.HeaderName] = WebhookCall.Sign(body, "an-attackers-guess") });

        Assert.Equal(401, response.StatusCode);
        var logs = string.Join('\n', app.Logs.Lines);
        Assert.Contains("SignatureMismatch", logs, StringComparison.Ordinal);
        AssertNoPersonalDataOrSecret(body, logs, expectSomePersonalData: true);
    }

    private static void AssertNoPersonalDataOrSecret(byte[] body, string logs, bool expectSomePersonalData)
    {
        var personal = PersonalValues(body);
        if (expectSomePersonalData)
        {
            Assert.NotEmpty(personal);
        }

        Assert.All(personal, value => Assert.DoesNotContain(value, logs, StringComparison.OrdinalIgnoreCase));
        Assert.DoesNotContain(TestApp.Secret, logs, StringComparison.Ordinal);
        Assert.DoesNotContain(TestApp.SecondSecret, logs, StringComparison.Ordinal);
    }
}
