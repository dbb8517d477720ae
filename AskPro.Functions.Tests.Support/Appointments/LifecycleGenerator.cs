namespace AskPro.Functions.Tests.Appointments;

/// <summary>Which document a lifecycle's bodies follow: what Cal.com's code sends, or the AskPro seed page.</summary>
public enum LifecycleShape
{
    Calcom,
    Seed,
}

public sealed record StaffMember(long Id, string Name, string Email, string Username);

/// <summary>
/// One webhook body as Cal.com would send it, with what the generator knows about it: the booking uid it names, its
/// <c>createdAt</c> and when it is sent (the same, except for a flat MEETING_ENDED, whose createdAt is the booking's).
/// </summary>
public sealed record GeneratedEvent(string TriggerEvent, string Uid, DateTimeOffset CreatedAt, DateTimeOffset SentAt, byte[] Body)
{
    public override string ToString() => $"{TriggerEvent} {Uid} @{CreatedAt:O}";
}

/// <summary>
/// One booking's life: the bodies Cal.com sends, in the order it sends them, every uid its chain ever had, the uid
/// later events use (<see cref="FinalUid"/>) and the status the story ends in.
/// </summary>
public sealed record Lifecycle(
    string Story,
    LifecycleShape Shape,
    bool Internal,
    StaffMember Staff,
    IReadOnlyList<GeneratedEvent> Events,
    IReadOnlyList<string> Uids,
    string FinalUid,
    string ExpectedStatus,
    StaffMember? FinalStaff = null,
    IReadOnlyList<ExpectedSeat>? Seats = null)
{
    /// <summary>A seated event type's lifecycle: one appointment per seat (<see cref="Seats"/>), its uids the slots'.</summary>
    public bool IsSeated => Seats is not null;

    /// <summary>The host at the end (after reassignments), with the organizer address the events used for them.</summary>
    public StaffMember EndStaff => FinalStaff ?? Staff;

    public override string ToString() => $"[{Shape}{(Internal ? " internal" : "")} {Story}] uids {string.Join(">", Uids)}";
}

/// <summary>Lifecycles that run at the same time, possibly for the same staff member, and their bodies in send order.</summary>
public sealed record Scenario(IReadOnlyList<Lifecycle> Lifecycles)
{
    /// <summary>Every body of every lifecycle in the order Cal.com sends them (by send time; ties keep lifecycle order).</summary>
    public IReadOnlyList<GeneratedEvent> InOrder { get; } =
        Lifecycles.SelectMany((l, i) => l.Events.Select((e, j) => (e, i, j))).OrderBy(x => x.e.SentAt).ThenBy(x => x.i).ThenBy(x => x.j).Select(x => x.e).ToList();

    public override string ToString() => string.Join("; ", Lifecycles);
}

/// <summary>
/// Generates realistic Cal.com booking lifecycles from a seeded <see cref="Random"/> as the webhook bodies Cal.com would
/// emit (see docs/calcom-webhooks.md): envelope <c>{triggerEvent, createdAt, payload}</c> with <c>{label, value}</c>
/// responses, flat MEETING_ENDED rows, CANCELLED without metadata and with <c>+00:00</c> times; some lifecycles in the
/// seed page's shapes (flat responses, numeric <c>askpro_appointment_id</c>, <c>BOOKING_CONFIRMED</c>, reschedule with
/// <c>uid</c> = existing and <c>rescheduleUid</c> = new). The same seed always gives the same bodies, byte for byte
/// (the unit tests' LifecycleGeneratorPinTests pin them).
/// </summary>
/// <remarks>
/// The parts: this file draws lifecycles and owns the pools and the one <see cref="Random"/>; <see cref="LifecycleStory"/>
/// and <see cref="SeatedStory"/> tell one booking's story (which step comes next); <see cref="CalcomBodyWriter"/> writes
/// each step as the JSON Cal.com sends; <see cref="DeliveryShuffler"/> delivers the bodies out of order and twice.
/// </remarks>
public sealed partial class LifecycleGenerator
{
    private static readonly DateTimeOffset Epoch = new(2026, 2, 2, 7, 0, 0, TimeSpan.Zero);
    private const string UidAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    private static readonly StaffMember[] StaffPool =
    [
        new(98765, "Dr. Anna Schmidt", "anna.schmidt@praxis-example.de", "anna-schmidt"),
        new(98766, "Dr. Jan Berger", "jan.berger@praxis-seed.de", "jan-berger"),
        new(98767, "Dipl.-Psych. Jörg Weiß", "joerg.weiss@praxis-example.de", "joerg-weiss"),
        new(98768, "Sabine Öztürk", "sabine.oeztuerk@praxis-example.de", "sabine-oeztuerk"),
    ];

    private static readonly (string First, string Last)[] Names =
    [
        ("Max", "Mustermann"), ("Erika", "Musterfrau"), ("Jonas", "Beispiel"), ("Lena", "Vogel"), ("Tom", "Kraus"),
        ("Mia", "Roth"), ("Jürgen", "Müller"), ("Zoë", "Groß"), ("Ali", "Yılmaz"), ("Ana", "Šimić"),
    ];

    private static readonly EventType[] EventTypes =
    [
        new(1234567, "erstberatung", "Erstberatung", 30, RequiresConfirmation: false, Price: 0),
        new(1234568, "videoberatung", "Videoberatung", 20, RequiresConfirmation: false, Price: 0),
        new(1234569, "erstberatung-mit-bestaetigung", "Erstberatung (mit Bestätigung)", 30, RequiresConfirmation: true, Price: 0),
        new(1234570, "privatsprechstunde", "Privatsprechstunde", 45, RequiresConfirmation: false, Price: 8000),
        new(1234571, "privat-mit-bestaetigung", "Privatsprechstunde (mit Bestätigung)", 45, RequiresConfirmation: true, Price: 8000),
    ];

    private readonly Random _random;
    private readonly double _seatedRate;
    private long _nextBookingId;
    private int _lifecycles;

    /// <param name="random">The only source of randomness: the same state gives the same bodies.</param>
    /// <param name="seatedRate">Share of lifecycles that are seated event types (0: none, and no extra draws, so
    /// generators without seats give the bodies they always gave).</param>
    public LifecycleGenerator(Random random, double seatedRate = 0)
    {
        _random = random ?? throw new ArgumentNullException(nameof(random));
        _seatedRate = seatedRate;
        _nextBookingId = 4_500_000 + random.Next(0, 1_000_000);
    }

    public LifecycleGenerator(int seed, double seatedRate = 0) : this(new Random(seed), seatedRate)
    {
    }

    /// <summary>A scenario of 1 to <paramref name="maxLifecycles"/> lifecycles; often the same staff member at overlapping times.</summary>
    public Scenario NextScenario(int maxLifecycles = 3)
    {
        var count = _random.Next(1, maxLifecycles + 1);
        var day = Epoch.AddDays(_random.Next(10, 40)).Date;
        var sharedStaff = StaffPool[_random.Next(StaffPool.Length)];
        var sameStaff = _random.NextDouble() < 0.7;
        var lifecycles = new List<Lifecycle>(count);
        for (var i = 0; i < count; i++)
        {
            var staff = sameStaff || i == 0 ? sharedStaff : StaffPool[_random.Next(StaffPool.Length)];
            lifecycles.Add(NextLifecycle(staff, new DateTimeOffset(day, TimeSpan.Zero)));
        }

        return new Scenario(lifecycles);
    }

    /// <summary>
    /// Many lifecycles over a few staff members and days, so that some overlap (for end-to-end runs): their bodies in
    /// send order are <c>new Scenario(lifecycles).InOrder</c>.
    /// </summary>
    public IReadOnlyList<Lifecycle> NextLifecycles(int count, int staffMembers = 3, int days = 5)
    {
        var staff = StaffPool.Take(Math.Clamp(staffMembers, 1, StaffPool.Length)).ToArray();
        var first = Epoch.AddDays(14).Date;
        return Enumerable.Range(0, count)
            .Select(_ => NextLifecycle(staff[_random.Next(staff.Length)], new DateTimeOffset(first.AddDays(_random.Next(Math.Max(1, days))), TimeSpan.Zero)))
            .ToList();
    }

    /// <summary>One lifecycle with <paramref name="staff"/> on <paramref name="day"/> (appointment slots 08:00 to 12:00 UTC).</summary>
    public Lifecycle NextLifecycle(StaffMember? staff = null, DateTimeOffset? day = null)
    {
        _lifecycles++;
        if (_seatedRate > 0 && _random.NextDouble() < _seatedRate)
        {
            return new SeatedStory(this, staff ?? StaffPool[_random.Next(StaffPool.Length)], day ?? new DateTimeOffset(Epoch.AddDays(_random.Next(10, 40)).Date, TimeSpan.Zero)).Build();
        }

        var b = new LifecycleStory(this, staff ?? StaffPool[_random.Next(StaffPool.Length)], day ?? new DateTimeOffset(Epoch.AddDays(_random.Next(10, 40)).Date, TimeSpan.Zero));
        return b.Build();
    }

    private string NewUid()
    {
        Span<char> chars = stackalloc char[22];
        for (var i = 0; i < chars.Length; i++)
        {
            chars[i] = UidAlphabet[_random.Next(UidAlphabet.Length)];
        }

        return new string(chars);
    }

    private sealed record EventType(long Id, string Slug, string Name, int Length, bool RequiresConfirmation, int Price);

    private sealed record Customer(string First, string Last, string? Email, string Phone, string TimeZone, bool SplitName)
    {
        public string Name => $"{First} {Last}";
        /// <summary>Phone-only bookings get Cal.com's placeholder attendee address.</summary>
        public string AttendeeEmail => Email ?? $"{Phone.TrimStart('+')}@sms.cal.com";
    }
}
