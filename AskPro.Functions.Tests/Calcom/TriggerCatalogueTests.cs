using System.Text.Json;
using AskPro.Functions.Appointments;
using AskPro.Functions.Calcom;

namespace AskPro.Functions.Tests.Calcom;

/// <summary>
/// The trigger catalogue is the one table of triggers: every applied row has an example body in TestData/triggers
/// that reads as that trigger, and both projections state exactly the status and rank its rows give.
/// </summary>
public sealed class TriggerCatalogueTests
{
    private static string Directory => Path.Combine(AppContext.BaseDirectory, "TestData", "triggers");

    private static string ExampleOf(string trigger) => Path.Combine(Directory, trigger.ToLowerInvariant() + ".json");

    public static TheoryData<string> AppliedTriggers => [.. TriggerCatalogue.All.Where(t => t.IsApplied).Select(t => t.Name)];

    public static TheoryData<string> RankedPairs =>
    [
        .. from a in TriggerCatalogue.All.Where(t => t.StatusRank > 0)
           from b in TriggerCatalogue.All.Where(t => t.StatusRank > 0)
           select a.Name + " " + b.Name,
    ];

    public static TheoryData<string> SeatRankedPairs =>
    [
        .. from a in TriggerCatalogue.All.Where(t => t.StatusRank > 0 && t.Level == TriggerLevel.Seat)
           from b in TriggerCatalogue.All.Where(t => t.StatusRank > 0 && t.Level == TriggerLevel.Seat)
           select a.Name + " " + b.Name,
    ];

    [Theory]
    [MemberData(nameof(AppliedTriggers))]
    public void Every_applied_trigger_has_an_example_body_that_reads_as_that_trigger_with_the_uid_its_row_names(string trigger)
    {
        var path = ExampleOf(trigger);
        Assert.True(File.Exists(path), $"no example body {Path.GetFileName(path)} in TestData/triggers for {trigger}");
        var body = File.ReadAllBytes(path);

        var result = CalcomWebhookReader.Read(body);

        Assert.Empty(result.Errors);
        Assert.Equal(WebhookKind.Booking, result.Kind);
        Assert.Equal(trigger, result.Event!.TriggerEvent);
        var row = TriggerCatalogue.Of(trigger);
        using var json = JsonDocument.Parse(body);
        var booking = json.RootElement.TryGetProperty("payload", out var payload) ? payload : json.RootElement;
        Assert.True(row.Has(TriggerFlags.MayBeFlat) || json.RootElement.TryGetProperty("payload", out _), $"{trigger} is not flat and needs a payload");
        Assert.Equal(booking.GetProperty(row.UidField).GetString(), result.Event.Uid);
    }

    [Fact]
    public void Every_example_body_is_named_after_a_catalogue_row_the_service_answers()
    {
        var names = System.IO.Directory.EnumerateFiles(Directory, "*.json").Select(f => Path.GetFileNameWithoutExtension(f).ToUpperInvariant()).ToList();

        Assert.NotEmpty(names);
        Assert.All(names, name => Assert.NotEqual(TriggerHandling.Ignored, TriggerCatalogue.Of(name).Handling));
        Assert.All(TriggerCatalogue.All.Where(t => t.Handling == TriggerHandling.Acknowledged),
            t => Assert.Equal(WebhookKind.Ping, CalcomWebhookReader.Read(File.ReadAllBytes(ExampleOf(t.Name))).Kind));
    }

    [Fact]
    public void Every_name_is_listed_once_and_a_name_not_listed_is_ignored()
    {
        Assert.Equal(TriggerCatalogue.All.Count, TriggerCatalogue.All.Select(t => t.Name).Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(TriggerHandling.Ignored, TriggerCatalogue.Of("SOMETHING_CAL_COM_ADDS_IN_2027").Handling);
        Assert.Equal(TriggerCatalogue.All.Count(t => t.IsApplied), CalcomTriggers.Applied.Count);
        // A row that states a status names it, and only ranked rows do.
        Assert.All(TriggerCatalogue.All, t => Assert.Equal(t.StatusRank > 0, t.Status is not null));
        Assert.All(TriggerCatalogue.All.Where(t => !t.IsApplied), t => Assert.Equal(TriggerLevel.None, t.Level));
        Assert.All(TriggerCatalogue.All.Where(t => t.IsApplied), t => Assert.NotEqual(TriggerLevel.None, t.Level));
    }

    [Theory]
    [MemberData(nameof(AppliedTriggers))]
    public void The_record_of_one_event_has_the_status_its_row_states(string trigger)
    {
        var record = AppointmentProjection.Project(BookingFacts.Empty.With(Slot(trigger, 0)));

        Assert.Equal(TriggerCatalogue.Of(trigger).Status ?? AppointmentStatus.Pending, record.Status);
    }

    /// <summary>Of a uid's events the highest rank states the status, whichever is newer: a late create never revives a cancel.</summary>
    [Theory]
    [MemberData(nameof(RankedPairs))]
    public void The_record_takes_the_status_of_the_higher_rank_whichever_event_is_newer(string pair)
    {
        var (a, b) = Split(pair);

        var record = AppointmentProjection.Project(BookingFacts.Empty.With(Slot(a.Name, 0)).With(Slot(b.Name, 10)));

        Assert.Equal((a.StatusRank > b.StatusRank ? a : b).Status, record.Status);
    }

    /// <summary>A seat's newest event about it states its status; at the same instant the catalogue's rank decides.</summary>
    [Theory]
    [MemberData(nameof(SeatRankedPairs))]
    public void A_seat_takes_the_status_of_the_higher_rank_at_the_same_instant_and_of_the_newer_event_otherwise(string pair)
    {
        var (a, b) = Split(pair);
        // The seat's booking, told apart by its title from a later BOOKING_CREATED of the pair (one content is one event).
        var booked = SeatEvent(CalcomTriggers.BookingCreated, 0) with { Title = "booked" };

        var tie = Assert.Single(SeatProjection.Project(BookingFacts.Empty.With(booked).With(SeatEvent(a.Name, 10)).With(SeatEvent(b.Name, 10))));
        var newer = Assert.Single(SeatProjection.Project(BookingFacts.Empty.With(booked).With(SeatEvent(a.Name, 10)).With(SeatEvent(b.Name, 20))));

        Assert.Equal((a.StatusRank > b.StatusRank ? a : b).Status, tie.Status);
        Assert.Equal(b.Status, newer.Status);
    }

    private static (TriggerInfo A, TriggerInfo B) Split(string pair) =>
        pair.Split(' ') is [var a, var b] ? (TriggerCatalogue.Of(a), TriggerCatalogue.Of(b)) : throw new ArgumentException(pair);

    private static readonly DateTimeOffset Day = new(2026, 12, 1, 8, 0, 0, TimeSpan.Zero);

    private static BookingEvent Slot(string trigger, int minute) => new()
    {
        TriggerEvent = trigger,
        Uid = "CatalogueSlot000000001",
        CreatedAt = Day.AddMinutes(minute),
        StartTime = Day.AddDays(7),
        EndTime = Day.AddDays(7).AddMinutes(30),
        Organizer = new Person("Host", "host@example.de", null),
        OrganizerId = 4711,
    };

    private static BookingEvent SeatEvent(string trigger, int minute) => Slot(trigger, minute) with
    {
        Uid = "CatalogueSeated00000001",
        SeatsPerTimeSlot = 6,
        Attendees = [new Attendee("Seat", "seat@example.de", null, null, null)],
    };
}
