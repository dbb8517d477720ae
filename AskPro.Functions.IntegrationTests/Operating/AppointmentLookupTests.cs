using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using AskPro.Functions.Appointments;
using AskPro.Functions.Logging;
using AskPro.Functions.Queueing;
using AskPro.Functions.Tests.Appointments;
using AskPro.Functions.Tests.Infrastructure;

namespace AskPro.Functions.Tests.Operating;

/// <summary><c>GET /api/appointments/{uid}</c> on Azurite: any uid of a chain, seated uids, 404, personal fields only on request, and the history.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class AppointmentLookupTests(AzuriteFixture azurite)
{
    private const string First = "Qm7ZtXo4Lp2WcN9vR1sK6e";
    private const string Middle = "Tz8cYw3RbN6kLq1PmV5xHd";
    private const string Last = "Wx4dRt7YpL2mQn8ZcV3bKs";

    /// <summary>The API story (create → reschedule) plus a second reschedule of the new booking: three uids, one appointment.</summary>
    private static byte[][] ThreeUidChain()
    {
        var created = Examples.Calcom("booking_created_api_metadata.json");
        var rescheduled = Examples.Calcom("booking_rescheduled.json");
        var again = JsonNode.Parse(rescheduled)!;
        var payload = again["payload"]!;
        Assert.Equal(Middle, (string?)payload["uid"]);
        Assert.Equal(First, (string?)payload["rescheduleUid"]);
        payload["uid"] = Last;
        payload["rescheduleUid"] = Middle;
        payload["rescheduleStartTime"] = payload["startTime"]!.GetValue<string>();
        payload["rescheduleEndTime"] = payload["endTime"]!.GetValue<string>();
        payload["startTime"] = "2026-02-03T10:00:00Z";
        payload["endTime"] = "2026-02-03T10:30:00Z";
        payload["bookingId"] = 9_100_003;
        again["createdAt"] = "2026-01-23T08:00:00.000Z";
        return [created, rescheduled, Encoding.UTF8.GetBytes(again.ToJsonString())];
    }

    [Theory]
    [InlineData(First)]
    [InlineData(Middle)]
    [InlineData(Last)]
    public async Task Any_uid_of_a_chain_finds_the_one_appointment_with_its_history(string uid)
    {
        await using var h = await StoreHarness.CreateAsync(azurite.ConnectionString);
        var bodies = ThreeUidChain();
        foreach (var body in bodies)
        {
            await h.ApplyAsync(body);
        }

        var response = await OperatorCall.LookupAsync(h.App, uid);

        Assert.Equal(200, response.StatusCode);
        Assert.Equal("ok", response.Status);
        var appointment = Assert.Single(response.Json.GetProperty("appointments").EnumerateArray());
        var stored = await h.RecordByUidAsync(First);
        Assert.Equal(stored.Record.AppointmentId, appointment.GetProperty("appointmentId").GetString());
        Assert.Equal(UidPseudonym.Of(Last), appointment.GetProperty("currentUidPseudonym").GetString());
        Assert.Equal(new[] { First, Middle, Last }.Select(UidPseudonym.Of), appointment.GetProperty("uidPseudonyms").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(DateTimeOffset.Parse("2026-02-03T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture), appointment.GetProperty("startTime").GetDateTimeOffset());
        var history = appointment.GetProperty("history").EnumerateArray().ToList();
        Assert.Equal(bodies.Select(b => WebhookQueue.DeliveryIdOf(b)), history.Select(e => e.GetProperty("src").GetString()));
        Assert.Equal(["BOOKING_CREATED", "BOOKING_RESCHEDULED", "BOOKING_RESCHEDULED"], history.Select(e => e.GetProperty("trigger").GetString()));
        // The API booking carries askpro_appointment_id: AskPro made it, so its create is only linked (skipped).
        Assert.Equal([HistoryOutcome.Skipped, HistoryOutcome.Applied, HistoryOutcome.Applied], history.Select(e => e.GetProperty("outcome").GetString()));
        Assert.Equal(DateTimeOffset.Parse("2026-01-23T08:00:00Z", System.Globalization.CultureInfo.InvariantCulture), history[2].GetProperty("createdAt").GetDateTimeOffset());
    }

    [Fact]
    public async Task The_default_answer_has_no_personal_data_and_include_personal_adds_it()
    {
        await using var h = await StoreHarness.CreateAsync(azurite.ConnectionString);
        foreach (var body in ThreeUidChain())
        {
            await h.ApplyAsync(body);
        }

        var record = (await h.RecordByUidAsync(Last)).Record;
        string[] personal = [.. new[] { record.CustomerName, record.CustomerEmail, record.StaffName, record.StaffEmail, record.Title, First, Middle, Last }.OfType<string>()];
        Assert.True(personal.Length >= 6, "the example must carry personal data for this test to mean anything");

        var plain = await OperatorCall.LookupAsync(h.App, Middle);
        Assert.Equal(200, plain.StatusCode);
        Assert.All(personal, p => Assert.DoesNotContain(p, plain.Text, StringComparison.OrdinalIgnoreCase));
        Assert.False(plain.Json.GetProperty("appointments")[0].TryGetProperty("personal", out _));

        var full = await OperatorCall.LookupAsync(h.App, Middle, "include=personal");
        var p = full.Json.GetProperty("appointments")[0].GetProperty("personal");
        Assert.Equal(record.CustomerEmail, p.GetProperty("customerEmail").GetString());
        Assert.Equal(record.CustomerName, p.GetProperty("customerName").GetString());
        Assert.Equal([First, Middle, Last], p.GetProperty("calcomUids").EnumerateArray().Select(e => e.GetString()));
        Assert.DoesNotContain(h.App.Logs.Lines, l => personal.Any(x => l.Contains(x, StringComparison.OrdinalIgnoreCase)));
    }

    [Fact]
    public async Task A_seated_uid_finds_every_record_the_store_holds_for_it()
    {
        await using var h = await StoreHarness.CreateAsync(azurite.ConnectionString);
        var first = JsonNode.Parse(Examples.Calcom("booking_created_web.json"))!;
        var uid = (string)first["payload"]!["uid"]!;
        first["payload"]!["seatsPerTimeSlot"] = 6;
        var second = first.DeepClone();
        second["payload"]!["attendees"]![0]!["email"] = "zweiter.gast@example.de";
        second["payload"]!["attendees"]![0]!["name"] = "Zweiter Gast";
        second["createdAt"] = "2026-01-20T11:00:00.000Z";
        await h.ApplyAsync(Encoding.UTF8.GetBytes(first.ToJsonString()));
        await h.ApplyAsync(Encoding.UTF8.GetBytes(second.ToJsonString()));

        var response = await OperatorCall.LookupAsync(h.App, uid);

        // One record per seat: the endpoint lists each, with its own customer's history entry and its slot.
        var expected = await h.Store.LookupByUidAsync(uid, CancellationToken.None);
        Assert.Equal(2, expected.Count);
        Assert.All(response.Json.GetProperty("appointments").EnumerateArray(), a => Assert.Equal(AppointmentProjection.AppointmentIdOf(uid), a.GetProperty("slotId").GetString()));
        Assert.Equal(expected.Select(e => e.Appointment.Record.AppointmentId),
            response.Json.GetProperty("appointments").EnumerateArray().Select(a => a.GetProperty("appointmentId").GetString()));
        Assert.All(response.Json.GetProperty("appointments").EnumerateArray(),
            a => Assert.Contains(UidPseudonym.Of(uid), a.GetProperty("uidPseudonyms").EnumerateArray().Select(e => e.GetString())));
        Assert.All(response.Json.GetProperty("appointments").EnumerateArray(), a => Assert.Equal(1, a.GetProperty("history").GetArrayLength()));
    }

    [Fact]
    public async Task An_unknown_uid_is_404_and_a_malformed_one_400_in_the_error_format()
    {
        await using var h = await StoreHarness.CreateAsync(azurite.ConnectionString);

        var unknown = await OperatorCall.LookupAsync(h.App, "NoSuchUid123");
        Assert.Equal(404, unknown.StatusCode);
        Assert.Equal("error", unknown.Status);
        Assert.Equal("unknown_uid", unknown.ErrorCode);
        Assert.DoesNotContain("NoSuchUid123", unknown.Text, StringComparison.Ordinal);
        Assert.Contains(UidPseudonym.Of("NoSuchUid123"), unknown.Text, StringComparison.Ordinal);

        var malformed = await OperatorCall.LookupAsync(h.App, "bad%2Cuid");
        Assert.Equal(400, malformed.StatusCode);
        Assert.Equal("invalid_uid", malformed.ErrorCode);

        var badInclude = await OperatorCall.LookupAsync(h.App, "NoSuchUid123", "include=everything");
        Assert.Equal(400, badInclude.StatusCode);
        Assert.Equal("invalid_query", badInclude.ErrorCode);
        Assert.All([unknown, malformed, badInclude], r => Assert.Equal(JsonValueKind.String, r.Json.GetProperty("error").GetProperty("message").ValueKind));
    }
}
