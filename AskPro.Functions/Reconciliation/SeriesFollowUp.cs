using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using AskPro.Functions.Calcom;
using AskPro.Functions.Logging;
using AskPro.Functions.Queueing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AskPro.Functions.Reconciliation;

/// <summary>
/// "Cancel all remaining", "confirm all" and "reject all" of a recurring series change every occurrence and send one
/// webhook, for the clicked one. A delivery that cancels, rejects or confirms an occurrence carrying
/// <c>recurringEvent</c> therefore queues a lookup of its series (a message on the webhook queue, so it is durable and
/// retried like any delivery); the lookup reads the occurrence (<c>GET /v2/bookings/{uid}</c> →
/// <c>recurringBookingUid</c>), then every occurrence (<c>GET /v2/bookings/{recurringBookingUid}</c>), and repairs
/// those that differ through synthetic events, within a minute instead of at the next sweep.
/// </summary>
public sealed partial class SeriesFollowUp(
    CalcomApiClient api,
    Reconciler reconciler,
    WebhookQueue queue,
    IOptions<CalcomApiOptions> options,
    TimeProvider time,
    ILogger<SeriesFollowUp> logger)
{
    /// <summary>The trigger of a lookup message: not a Cal.com trigger, so the webhook endpoint would only ever ignore it.</summary>
    public const string Trigger = "ASKPRO_SERIES_LOOKUP";

    public static bool Wants(BookingEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return e.IsRecurring == true && e.TriggerEvent is CalcomTriggers.BookingCancelled or CalcomTriggers.BookingRejected
            or CalcomTriggers.BookingCreated or CalcomTriggers.BookingConfirmed;
    }

    /// <summary>Queues the lookup of <paramref name="e"/>'s series (nothing when reconciliation is off: there is no key to read with).</summary>
    public async Task ScheduleAsync(BookingEvent e, string deliveryId, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(e);
        if (!options.Value.IsEnabled)
        {
            Log.Off(logger, deliveryId);
            return;
        }

        var now = time.GetUtcNow();
        var body = new JsonObject
        {
            ["triggerEvent"] = Trigger,
            ["createdAt"] = SyntheticWebhook.Iso(now),
            ["askpro"] = new JsonObject { ["origin"] = SyntheticWebhook.Origin, ["after"] = deliveryId },
            ["payload"] = new JsonObject { ["uid"] = e.Uid, ["trigger"] = e.TriggerEvent },
        };
        await queue.EnqueueAsync(JsonSerializer.SerializeToUtf8Bytes(body, SyntheticJsonContext.Default.JsonObject), Trigger, e.Uid, null, now, ct);
        Log.Scheduled(logger, deliveryId, UidPseudonym.Of(e.Uid), e.TriggerEvent);
    }

    /// <summary>Runs a queued lookup: every occurrence of the uid's series, compared and repaired.</summary>
    public async Task<PassSummary?> RunAsync(string uid, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrEmpty(uid);
        if (!options.Value.IsEnabled)
        {
            return null;
        }

        var passId = "series-" + time.GetUtcNow().UtcDateTime.ToString("yyyyMMdd'T'HHmmss", CultureInfo.InvariantCulture) + "-" + Guid.NewGuid().ToString("N")[..6];
        try
        {
            var occurrence = (await api.GetAsync(uid, ct)).FirstOrDefault(b => b.Uid == uid);
            var occurrences = occurrence?.RecurringBookingUid is { } series ? await api.GetAsync(series, ct) : occurrence is null ? [] : [occurrence];
            return await reconciler.RepairAsync(occurrences, passId, occurrence?.RecurringBookingUid is null ? 1 : 2, ct);
        }
        catch (CalcomApiException ex) when (ex.IsAuthFailure)
        {
            // Retrying cannot help; the next pass with a valid key (and its sweep) finds the occurrences.
            Log.Unauthorized(logger, passId, UidPseudonym.Of(uid), ex.Status);
            return null;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 5010, Level = LogLevel.Information, Message = "Delivery {DeliveryId} {TriggerEvent} of a series occurrence ({UidPseudonym}): queued a lookup of the whole series")]
        public static partial void Scheduled(ILogger logger, string deliveryId, string uidPseudonym, string triggerEvent);

        [LoggerMessage(EventId = 5012, Level = LogLevel.Error, Message = "Series lookup {PassId} for {UidPseudonym} refused by the Cal.com API ({Status}): set Calcom__ApiKey to a valid key; the sweep will find the occurrences")]
        public static partial void Unauthorized(ILogger logger, string passId, string uidPseudonym, int status);

        [LoggerMessage(EventId = 5011, Level = LogLevel.Warning, Message = "Delivery {DeliveryId} changed a series occurrence, but Calcom__ApiKey is not set: the other occurrences wait for a pass with a key")]
        public static partial void Off(ILogger logger, string deliveryId);
    }
}
