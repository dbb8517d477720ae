using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using AskPro.Functions.Tests.Infrastructure;
using AskPro.Functions.Webhooks;
using AskPro.LocalHost;
using AskPro.Send;
using Microsoft.Extensions.Time.Testing;
using SendExamples = AskPro.Send.WebhookExamples;

namespace AskPro.Functions.Tests.Tools;

/// <summary>The sender's parts (tools/send.sh) and the local host's settings reader, without a server.</summary>
public sealed class SenderTests
{
    private static readonly SendExamples Bodies = new(Examples.CalcomDirectory, Examples.SeedDirectory);

    [Fact]
    public void The_signature_is_the_Cal_com_test_vector_and_the_product_accepts_it()
    {
        var body = Examples.Calcom("ping.compact.txt");

        var signature = CalcomSignature.Sign(body, "askpro-test-secret");

        Assert.Equal("79666176e71d3392f59f139a5138ea4fa872bcca41371202ffd6874e458778ae", signature);
        Assert.Equal(SignatureResult.Valid, WebhookSignature.Verify(body, signature, [Encoding.UTF8.GetBytes("askpro-test-secret")]));
    }

    [Fact]
    public void Fresh_bodies_share_new_uids_booking_ids_and_one_time_shift_across_a_story()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2027, 3, 1, 12, 0, 0, TimeSpan.Zero));
        var story = Bodies.Story("reschedule");
        var fresh = new FreshBooking(new Random(1), time);

        var rewritten = fresh.Rewrite(story);

        var texts = rewritten.Select(w => Encoding.UTF8.GetString(w.Body)).ToList();
        Assert.Equal(2, fresh.Uids.Count);
        foreach (var (old, uid) in fresh.Uids)
        {
            Assert.All(texts, t => Assert.DoesNotContain(old, t, StringComparison.Ordinal));
            Assert.Matches("^[1-9A-HJ-NP-Za-km-z]{22}$", uid);
        }

        var (created, rescheduled, cancelled) = (Payload(rewritten[0]), Payload(rewritten[1]), Payload(rewritten[2]));
        var (oldCreated, oldRescheduled) = (Payload(story[0]), Payload(story[1]));
        Assert.Equal(fresh.Uids[(string)oldRescheduled["rescheduleUid"]!], (string?)rescheduled["rescheduleUid"]);
        Assert.Equal((string?)created["uid"], (string?)rescheduled["rescheduleUid"]);
        Assert.Equal((string?)rescheduled["uid"], (string?)cancelled["uid"]);
        Assert.Equal((string?)created["uid"] + "@Cal.com", (string?)created["iCalUID"]);
        Assert.Equal((long)rescheduled["bookingId"]!, (long)cancelled["bookingId"]!);
        Assert.NotEqual((long)oldRescheduled["bookingId"]!, (long)rescheduled["bookingId"]!);
        Assert.Equal((long)oldCreated["eventTypeId"]!, (long)created["eventTypeId"]!); // only booking ids change

        // One shift for every time of the story: durations and the reschedule's "old time" still agree.
        var shift = Time(created, "startTime") - Time(oldCreated, "startTime");
        Assert.True(shift > TimeSpan.Zero);
        Assert.Equal(Time(oldRescheduled, "endTime") + shift, Time(rescheduled, "endTime"));
        Assert.Equal(Time(created, "startTime"), Time(rescheduled, "rescheduleStartTime"));
        // The earliest createdAt lands today, plus at most 60 days of half hours: a booking of now, not of the example's date.
        var today = time.GetUtcNow().UtcDateTime.Date;
        Assert.InRange(DateTimeOffset.Parse((string)JsonNode.Parse(rewritten[0].Body)!["createdAt"]!, CultureInfo.InvariantCulture).UtcDateTime, today, today.AddDays(60));
        Assert.EndsWith("+00:00", (string?)cancelled["startTime"], StringComparison.Ordinal); // each time keeps its notation
        Assert.EndsWith("Z", (string?)created["startTime"], StringComparison.Ordinal);
    }

    [Fact]
    public void Flat_meeting_bodies_get_the_same_fresh_booking_id_as_the_booking()
    {
        var fresh = new FreshBooking(new Random(2), TimeProvider.System);

        var rewritten = fresh.Rewrite(Bodies.Story("web"));

        var created = Payload(rewritten[0]);
        var ended = JsonNode.Parse(rewritten[1].Body)!;
        var noShow = Payload(rewritten[2]);
        Assert.Equal((long)created["bookingId"]!, (long)ended["id"]!);
        Assert.Equal((string?)created["uid"], (string?)ended["uid"]);
        Assert.Equal((string?)created["uid"], (string?)noShow["bookingUid"]);
        Assert.Equal((long)created["organizer"]!["id"]!, (long)JsonNode.Parse(Bodies.Load("booking_created_web").Body)!["payload"]!["organizer"]!["id"]!);
    }

    [Fact]
    public void A_shuffled_story_holds_every_body_at_least_once_one_twice_and_repeats_for_the_same_seed()
    {
        var story = Bodies.Story("seed-reschedule");

        var plan = WebhookSender.ShuffledWithDuplicates(story, new Random(5));

        Assert.All(story, w => Assert.Contains(w, plan));
        Assert.True(plan.Count > story.Count);
        Assert.Equal(plan.Select(w => w.Name), WebhookSender.ShuffledWithDuplicates(story, new Random(5)).Select(w => w.Name));
    }

    [Fact]
    public void Examples_are_found_by_name_with_or_without_json_and_every_story_step_exists()
    {
        Assert.Equal(Examples.Calcom("booking_cancelled.json"), Bodies.Load("booking_cancelled").Body);
        Assert.Equal(Examples.Seed("seed_booking_confirmed.json"), Bodies.Load("seed_booking_confirmed.json").Body);
        Assert.All(SendExamples.Stories, s => Assert.NotEmpty(Bodies.Story(s.Key)));
        Assert.Throws<FileNotFoundException>(() => Bodies.Load("no_such_example"));
    }

    [Fact]
    public void Local_settings_values_become_configuration_with_double_underscore_as_separator()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("askpro-settings-").FullName, "local.settings.json");
        File.WriteAllText(path, """
            { "IsEncrypted": false, "Host": { "LocalHttpPort": 7199 },
              "Values": { "CalcomWebhook__Secrets__0": "s", "CalcomWebhook__MaxBodyBytes": 2048, "AzureWebJobsStorage": "UseDevelopmentStorage=true" } }
            """);

        var (values, port) = LocalSettings.Read(path);

        Assert.Equal("s", values["CalcomWebhook:Secrets:0"]);
        Assert.Equal("2048", values["CalcomWebhook:MaxBodyBytes"]);
        Assert.Equal("UseDevelopmentStorage=true", values["AzureWebJobsStorage"]);
        Assert.Equal(7199, port);
        File.WriteAllText(path, """{ "IsEncrypted": true, "Values": {} }""");
        Assert.Throws<InvalidOperationException>(() => LocalSettings.Read(path));
    }

    private static JsonNode Payload(Webhook webhook) => JsonNode.Parse(webhook.Body)!["payload"]!;

    private static DateTimeOffset Time(JsonNode node, string name) => DateTimeOffset.Parse((string)node[name]!, CultureInfo.InvariantCulture);
}
