using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

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
/// <c>uid</c> = existing and <c>rescheduleUid</c> = new). The same seed always gives the same bodies, byte for byte.
/// </summary>
public sealed partial class LifecycleGenerator
{
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
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
            return new SeatedBuilder(this, staff ?? StaffPool[_random.Next(StaffPool.Length)], day ?? new DateTimeOffset(Epoch.AddDays(_random.Next(10, 40)).Date, TimeSpan.Zero)).Build();
        }

        var b = new Builder(this, staff ?? StaffPool[_random.Next(StaffPool.Length)], day ?? new DateTimeOffset(Epoch.AddDays(_random.Next(10, 40)).Date, TimeSpan.Zero));
        return b.Build();
    }

    /// <summary>
    /// A delivery of <paramref name="inOrder"/>: the bodies in a random order (sometimes exactly reversed), some of them
    /// twice with the same bytes, some delivered again with a later <c>createdAt</c> and otherwise the same content.
    /// </summary>
    public static List<byte[]> Delivery(Random random, IReadOnlyList<GeneratedEvent> inOrder, double duplicateRate = 0.25, double redeliveryRate = 0.2)
    {
        ArgumentNullException.ThrowIfNull(random);
        ArgumentNullException.ThrowIfNull(inOrder);
        var bodies = new List<byte[]>(inOrder.Count * 2);
        foreach (var e in inOrder)
        {
            bodies.Add(e.Body);
            if (random.NextDouble() < duplicateRate)
            {
                bodies.Add(e.Body);
            }

            if (random.NextDouble() < redeliveryRate)
            {
                bodies.Add(WithCreatedAt(e.Body, e.CreatedAt.AddMilliseconds(random.Next(1, 3 * 24 * 3600 * 1000))));
            }
        }

        if (random.NextDouble() < 0.1)
        {
            bodies.Reverse();
        }
        else
        {
            random.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(bodies));
        }

        return bodies;
    }

    /// <summary>The same body with another top-level <c>createdAt</c>; every other byte stays as it was.</summary>
    public static byte[] WithCreatedAt(byte[] body, DateTimeOffset createdAt)
    {
        ArgumentNullException.ThrowIfNull(body);
        var reader = new Utf8JsonReader(body);
        while (reader.Read())
        {
            if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == 1 && reader.ValueTextEquals("createdAt"u8))
            {
                reader.Read();
                var start = (int)reader.TokenStartIndex;
                var end = (int)reader.BytesConsumed;
                var value = Encoding.UTF8.GetBytes($"\"{Iso(createdAt)}\"");
                return [.. body.AsSpan(0, start), .. value, .. body.AsSpan(end)];
            }

            if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray && reader.CurrentDepth >= 1)
            {
                reader.Skip();
            }
        }

        throw new ArgumentException("the body has no top-level createdAt", nameof(body));
    }

    private static string Iso(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

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

    private enum TimeStyle
    {
        /// <summary>New bookings: <c>2026-01-27T09:00:00Z</c>.</summary>
        Plain,
        /// <summary>Cancellations: server-local with offset, <c>2026-01-30T10:00:00+00:00</c>.</summary>
        Offset,
        /// <summary>Rejections, confirmations, stored rows, the seed: <c>2026-02-03T08:30:00.000Z</c>.</summary>
        Millis,
    }

    private enum Meta
    {
        None,
        Full,
        VideoOnly,
    }

    /// <summary>One lifecycle under construction: the booking's current state and the bodies sent so far.</summary>
    private sealed class Builder
    {
        private readonly LifecycleGenerator _g;
        private readonly Random _r;
        /// <summary>The host the booking was made with, and the current one (a reassignment changes it).</summary>
        private readonly StaffMember _staff0;
        private StaffMember _staff;
        /// <summary>The organizer address Cal.com sends: for some event types the destination calendar's, not the account's.</summary>
        private string _organizerEmail;
        private readonly DateTimeOffset _day;
        private readonly LifecycleShape _shape;
        private readonly EventType _type;
        private readonly Customer _customer;
        private readonly object? _askProId;
        private readonly string? _source;
        private readonly string? _companyId;
        private string _location;
        private readonly string? _notes;
        private readonly string _iCalUid;
        private readonly List<GeneratedEvent> _events = [];
        private readonly List<string> _uids = [];
        private readonly List<string> _story = [];
        private DateTimeOffset _clock;
        private DateTimeOffset _bookingCreatedAt;
        private string _uid;
        private long _bookingId;
        private DateTimeOffset _start;
        private DateTimeOffset _end;
        private string _status = "";

        public Builder(LifecycleGenerator g, StaffMember staff, DateTimeOffset day)
        {
            _g = g;
            _r = g._random;
            _staff = staff;
            _staff0 = staff;
            _day = day;
            _shape = _r.NextDouble() < 0.2 ? LifecycleShape.Seed : LifecycleShape.Calcom;
            _type = EventTypes[_r.Next(EventTypes.Length)];
            var (first, last) = Names[_r.Next(Names.Length)];
            var phone = "+49" + _r.NextInt64(1_500_000_000, 1_799_999_999).ToString(CultureInfo.InvariantCulture);
            var phoneOnly = _shape == LifecycleShape.Calcom && _r.NextDouble() < 0.1;
            var email = phoneOnly ? null : $"{first.ToLowerInvariant()}.{last.ToLowerInvariant()}{_r.Next(100)}@example.org";
            _customer = new Customer(first, last, email, phone, _r.NextDouble() < 0.8 ? "Europe/Berlin" : "Europe/Vienna", _shape == LifecycleShape.Calcom && _r.NextDouble() < 0.15);
            if (_r.NextDouble() < 0.35)
            {
                // AskPro made this booking through the API: its id in metadata, as Cal.com (string) or the seed (number) has it.
                _askProId = _shape == LifecycleShape.Seed ? _r.Next(100, 100_000)
                    : _r.NextDouble() < 0.5 ? $"apt_{_r.Next():x8}" : _r.Next(100, 100_000).ToString(CultureInfo.InvariantCulture);
                _source = _r.NextDouble() < 0.6 ? (_r.NextDouble() < 0.5 ? "askpro_phone" : "askpro_api") : null;
                _companyId = _r.NextDouble() < 0.5 ? "cmp_" + _r.Next(1, 50).ToString(CultureInfo.InvariantCulture) : null;
            }
            else if (_r.NextDouble() < 0.1)
            {
                _source = "website"; // ?metadata[source]=website on the public booking page
            }

            _location = _r.NextDouble() < 0.5 ? "Hauptstraße 12, 10115 Berlin" : "integrations:daily";
            _organizerEmail = _shape == LifecycleShape.Calcom && _r.NextDouble() < 0.3 ? $"{staff.Username}@kalender.praxis-example.de" : staff.Email;
            _notes = _r.NextDouble() < 0.3 ? "Bitte Rückruf vorab, falls sich etwas ändert." : null;
            _uid = g.NewUid();
            _iCalUid = _uid + "@Cal.com";
            _clock = Epoch.AddMinutes(_r.Next(0, 7 * 24 * 60)).AddMilliseconds(_r.Next(1000));
            PickSlot();
        }

        public Lifecycle Build()
        {
            _uids.Add(_uid);
            _bookingId = _g._nextBookingId++;
            _bookingCreatedAt = _clock.AddMilliseconds(-_r.Next(500, 3000));
            if (_type.Price > 0 && _shape == LifecycleShape.Calcom)
            {
                _story.Add("paid");
                Send("BOOKING_PAYMENT_INITIATED", Payload(_uid, "ACCEPTED", Meta.Full, TimeStyle.Plain, null));
                Tick();
                Send("BOOKING_PAID", Payload(_uid, "ACCEPTED", Meta.Full, TimeStyle.Plain, w => w.WriteBoolean("paid", true)));
            }

            if (_type.RequiresConfirmation)
            {
                // After a payment Cal.com leaves the status out of BOOKING_REQUESTED.
                Send("BOOKING_REQUESTED", Payload(_uid, _type.Price > 0 && _shape == LifecycleShape.Calcom ? null : "PENDING", Meta.Full, TimeStyle.Plain, null));
                _status = "requested";
                _story.Add("requested");
                if (!Decide())
                {
                    return Finish();
                }
            }
            else
            {
                Send("BOOKING_CREATED", Payload(_uid, "ACCEPTED", Meta.Full, TimeStyle.Plain, null));
                _status = "confirmed";
                _story.Add("created");
            }

            for (var step = 0; step < 3 && _status == "confirmed"; step++)
            {
                var roll = _r.NextDouble();
                if (roll < 0.3)
                {
                    Reschedule();
                }
                else if (roll < 0.4 && _type.RequiresConfirmation && _shape == LifecycleShape.Calcom)
                {
                    AttendeeRescheduleRequest();
                }
                else if (roll < 0.5)
                {
                    HostRequestsReschedule();
                }
                else if (roll < 0.65)
                {
                    Cancel(requestReschedule: false);
                }
                else if (roll < 0.72 && _shape == LifecycleShape.Calcom)
                {
                    Reassign();
                }
                else if (roll < 0.78 && _shape == LifecycleShape.Calcom)
                {
                    UpdateLocation();
                }
                else
                {
                    break;
                }
            }

            if (_status == "confirmed" && _r.NextDouble() < 0.5)
            {
                AfterTheMeeting();
            }

            return Finish();
        }

        private Lifecycle Finish() => new(
            string.Join(">", _story), _shape, _askProId is not null, _staff0, _events, _uids, _uid, _status, _staff with { Email = _organizerEmail });

        /// <summary>The host confirms (true), rejects, or has not decided yet.</summary>
        private bool Decide()
        {
            var roll = _r.NextDouble();
            if (roll < 0.6)
            {
                Tick();
                if (_shape == LifecycleShape.Seed)
                {
                    Send("BOOKING_CONFIRMED", _uid, Envelope("BOOKING_CONFIRMED", w =>
                    {
                        w.WriteString("uid", _uid);
                        w.WriteString("status", "ACCEPTED");
                        w.WriteString("confirmedAt", Iso(_clock.AddMilliseconds(-_r.Next(100, 3000))));
                    }));
                }
                else
                {
                    // Cal.com's confirmation is BOOKING_CREATED for the same uid, metadata missing or only the video link.
                    Send("BOOKING_CREATED", Payload(_uid, "ACCEPTED", _r.NextDouble() < 0.5 ? Meta.None : Meta.VideoOnly, TimeStyle.Millis, null));
                }

                _status = "confirmed";
                _story.Add("confirmed");
                return true;
            }

            if (roll < 0.85)
            {
                Tick();
                Send("BOOKING_REJECTED", Payload(_uid, "REJECTED", Meta.None, TimeStyle.Millis, w =>
                {
                    if (_r.NextDouble() < 0.7)
                    {
                        w.WriteString("rejectionReason", "Zu diesem Termin leider keine Kapazität.");
                    }
                }));
                _status = "rejected";
                _story.Add("rejected");
                return false;
            }

            _story.Add("undecided");
            return false;
        }

        /// <summary>A direct reschedule: Cal.com's new uid with the original as <c>rescheduleUid</c>, or the seed's reading.</summary>
        private void Reschedule(bool afterRequest = false)
        {
            Tick();
            var (oldUid, oldStart, oldEnd, oldBookingId) = (_uid, _start, _end, _bookingId);
            var newUid = _g.NewUid();
            PickSlot(avoid: oldStart);
            _bookingId = _g._nextBookingId++;
            _bookingCreatedAt = _clock.AddMilliseconds(-_r.Next(500, 3000));
            var reason = _r.NextDouble() < 0.4 ? "Terminkollision" : null;
            if (_shape == LifecycleShape.Seed)
            {
                Send("BOOKING_RESCHEDULED", Payload(oldUid, "ACCEPTED", Meta.None, TimeStyle.Millis, w => w.WriteString("rescheduleUid", newUid)));
            }
            else
            {
                // Metadata only comes along when the reschedule went through API v2.
                Send("BOOKING_RESCHEDULED", Payload(newUid, "ACCEPTED", _r.NextDouble() < 0.3 ? Meta.Full : Meta.None, TimeStyle.Plain, w =>
                {
                    w.WriteString("rescheduledBy", _r.NextDouble() < 0.5 ? _customer.AttendeeEmail : _staff.Email);
                    w.WriteNumber("rescheduleId", oldBookingId);
                    w.WriteString("rescheduleUid", oldUid);
                    w.WriteString("rescheduleStartTime", Time(oldStart, TimeStyle.Plain));
                    w.WriteString("rescheduleEndTime", Time(oldEnd, TimeStyle.Plain));
                }, rescheduleReason: reason));
            }

            _uid = newUid;
            _uids.Add(newUid);
            _status = "confirmed";
            _story.Add(afterRequest ? "rescheduled-after-request" : "rescheduled");
        }

        /// <summary>Round robin hands the booking to another host in place: same uid, the new organizer.</summary>
        private void Reassign()
        {
            Tick();
            var old = _staff;
            var candidates = StaffPool.Where(m => m.Id != old.Id).ToArray();
            _staff = candidates[_r.Next(candidates.Length)];
            _organizerEmail = _staff.Email;
            Send("BOOKING_REASSIGNED", Payload(_uid, "ACCEPTED", Meta.None, TimeStyle.Millis, w =>
            {
                w.WriteStartArray("addedHostUserIds");
                w.WriteNumberValue(_staff.Id);
                w.WriteEndArray();
                w.WriteStartArray("removedHostUserIds");
                w.WriteNumberValue(old.Id);
                w.WriteEndArray();
            }));
            _story.Add("reassigned");
        }

        /// <summary>The host changes the location in place: same uid, <c>previousLocation</c>.</summary>
        private void UpdateLocation()
        {
            Tick();
            var previous = _location;
            _location = previous == "integrations:daily" ? "Hauptstraße 12, 10115 Berlin" : "integrations:daily";
            Send("BOOKING_LOCATION_UPDATED", Payload(_uid, "ACCEPTED", Meta.None, TimeStyle.Millis, w => w.WriteString("previousLocation", previous)));
            _story.Add("location-updated");
        }

        /// <summary>The attendee reschedules a type that needs confirmation: REQUESTED for the new uid, then CREATED or REJECTED.</summary>
        private void AttendeeRescheduleRequest()
        {
            Tick();
            var (oldUid, oldBookingId) = (_uid, _bookingId);
            var newUid = _g.NewUid();
            PickSlot(avoid: _start);
            _bookingId = _g._nextBookingId++;
            _bookingCreatedAt = _clock.AddMilliseconds(-_r.Next(500, 3000));
            Send("BOOKING_REQUESTED", Payload(newUid, "PENDING", Meta.Full, TimeStyle.Plain, w =>
            {
                w.WriteNumber("rescheduleId", oldBookingId);
                w.WriteString("rescheduleUid", oldUid);
            }, rescheduleReason: _r.NextDouble() < 0.5 ? "Kann leider nicht" : null));
            _uid = newUid;
            _uids.Add(newUid);
            _status = "requested";
            _story.Add("reschedule-requested");
            Decide();
        }

        /// <summary>The host clicks "Request reschedule": CANCELLED with requestReschedule, usually followed by the attendee's new booking.</summary>
        private void HostRequestsReschedule()
        {
            Cancel(requestReschedule: true);
            if (_r.NextDouble() < 0.8)
            {
                Reschedule(afterRequest: true);
            }
        }

        private void Cancel(bool requestReschedule)
        {
            Tick();
            Send("BOOKING_CANCELLED", Payload(_uid, "CANCELLED", Meta.None, _shape == LifecycleShape.Seed ? TimeStyle.Millis : TimeStyle.Offset, w =>
            {
                if (requestReschedule || _r.NextDouble() < 0.7)
                {
                    w.WriteString("cancellationReason", requestReschedule ? "Bitte einen anderen Termin wählen." : "Termin passt leider nicht mehr.");
                }

                w.WriteString("cancelledBy", requestReschedule || _r.NextDouble() < 0.3 ? _staff.Email : _customer.AttendeeEmail);
                if (requestReschedule || (_shape == LifecycleShape.Calcom && _r.NextDouble() < 0.7))
                {
                    w.WriteBoolean("requestReschedule", requestReschedule); // a missing flag means false
                }
            }));
            _status = "cancelled";
            _story.Add(requestReschedule ? "host-requested-reschedule" : "cancelled");
        }

        /// <summary>MEETING_ENDED (flat from the scheduled path, or wrapped) and no-show updates after the meeting.</summary>
        private void AfterTheMeeting()
        {
            // Sent 0-60 s after the end by a cron (the booking may have been made long before).
            var ended = _end.AddSeconds(_r.Next(0, 60)).AddMilliseconds(_r.Next(1000));
            _clock = ended > _clock ? ended : _clock.AddSeconds(1);
            if (_r.NextDouble() < 0.7)
            {
                if (_r.NextDouble() < 0.75)
                {
                    Send("MEETING_ENDED", _uid, FlatMeetingRow(), _bookingCreatedAt);
                }
                else
                {
                    Send("MEETING_ENDED", Payload(_uid, "ACCEPTED", Meta.Full, TimeStyle.Millis, null));
                }

                _story.Add("meeting-ended");
            }

            if (_shape == LifecycleShape.Calcom && _location == "integrations:daily" && _r.NextDouble() < 0.3)
            {
                // Cal Video saw no host join: one webhook per missing host, named bookingUid.
                _clock = _clock.AddMinutes(_r.Next(5, 30));
                Send("AFTER_HOSTS_CAL_VIDEO_NO_SHOW", _uid, Envelope("AFTER_HOSTS_CAL_VIDEO_NO_SHOW", w =>
                {
                    w.WriteString("bookingUid", _uid);
                    w.WriteNumber("bookingId", _bookingId);
                    w.WriteString("hostEmail", _staff.Email);
                    w.WriteBoolean("noShowHost", true);
                }));
                _story.Add("host-no-show");
            }

            var updates = _r.Next(0, 3);
            for (var i = 0; i < updates; i++)
            {
                _clock = _clock.AddMinutes(_r.Next(1, 180));
                var noShow = i == 0 || _r.NextDouble() < 0.5;
                Send("BOOKING_NO_SHOW_UPDATED", _uid, Envelope("BOOKING_NO_SHOW_UPDATED", w =>
                {
                    w.WriteString("message", $"{_customer.AttendeeEmail} wurde als No-Show markiert");
                    w.WriteStartArray("attendees");
                    w.WriteStartObject();
                    w.WriteString("email", _customer.AttendeeEmail);
                    w.WriteBoolean("noShow", noShow);
                    w.WriteEndObject();
                    w.WriteEndArray();
                    w.WriteString("bookingUid", _uid);
                    w.WriteNumber("bookingId", _bookingId);
                }));
                _story.Add(noShow ? "no-show" : "showed-up");
            }
        }

        private void PickSlot(DateTimeOffset? avoid = null)
        {
            // Quarter-hour slots in one morning, so appointments of one staff member often overlap.
            DateTimeOffset start;
            do
            {
                start = _day.AddHours(8).AddMinutes(15 * _r.Next(0, 16));
            }
            while (start == avoid);

            _start = start;
            _end = start.AddMinutes(_type.Length);
        }

        private void Tick() => _clock = _clock.AddSeconds(_r.Next(1, 3 * 24 * 3600)).AddMilliseconds(_r.Next(1000));

        private void Send(string trigger, string uid, byte[] body, DateTimeOffset? createdAt = null)
        {
            _events.Add(new GeneratedEvent(trigger, uid, createdAt ?? _clock, _clock, body));
            _clock = _clock.AddMilliseconds(_r.Next(1, 5000));
        }

        private byte[] Envelope(string trigger, Action<Utf8JsonWriter> payload)
        {
            var buffer = new ArrayBufferWriter<byte>(2048);
            using (var w = new Utf8JsonWriter(buffer, WriterOptions))
            {
                w.WriteStartObject();
                w.WriteString("triggerEvent", trigger);
                w.WriteString("createdAt", Iso(_clock));
                w.WriteStartObject("payload");
                payload(w);
                w.WriteEndObject();
                w.WriteEndObject();
            }

            return buffer.WrittenSpan.ToArray();
        }

        private (string, Func<string, byte[]>) Payload(string uid, string? status, Meta meta, TimeStyle times, Action<Utf8JsonWriter>? extra, string? rescheduleReason = null) =>
            (uid, trigger => Envelope(trigger, w =>
            {
                if (_shape == LifecycleShape.Seed)
                {
                    SeedBooking(w, uid, status, meta, extra);
                }
                else
                {
                    CalcomBooking(w, uid, status, meta, times, extra, rescheduleReason);
                }
            }));

        private void Send(string trigger, (string Uid, Func<string, byte[]> Body) payload) => Send(trigger, payload.Uid, payload.Body(trigger));

        private void CalcomBooking(Utf8JsonWriter w, string uid, string? status, Meta meta, TimeStyle times, Action<Utf8JsonWriter>? extra, string? rescheduleReason)
        {
            w.WriteString("bookerUrl", "https://cal.com");
            w.WriteString("title", $"{_type.Name} zwischen {_staff.Name} und {_customer.Name}");
            w.WriteString("startTime", Time(_start, times));
            w.WriteString("endTime", Time(_end, times));
            if (_notes is null)
            {
                w.WriteNull("additionalNotes");
            }
            else
            {
                w.WriteString("additionalNotes", _notes);
            }

            w.WriteString("type", _type.Slug);
            w.WriteNumber("eventTypeId", _type.Id);
            w.WriteStartObject("organizer");
            w.WriteNumber("id", _staff.Id);
            w.WriteString("name", _staff.Name);
            w.WriteString("email", _organizerEmail);
            w.WriteString("username", _staff.Username);
            w.WriteString("timeZone", "Europe/Berlin");
            w.WriteString("timeFormat", "HH:mm");
            w.WriteNumber("utcOffset", 60);
            w.WriteEndObject();
            w.WriteStartArray("attendees");
            w.WriteStartObject();
            w.WriteString("email", _customer.AttendeeEmail);
            w.WriteString("name", _customer.Name);
            w.WriteString("phoneNumber", _customer.Phone);
            w.WriteString("firstName", _customer.SplitName ? _customer.First : "");
            w.WriteString("lastName", _customer.SplitName ? _customer.Last : "");
            w.WriteString("timeZone", _customer.TimeZone);
            w.WriteNumber("utcOffset", 60);
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteStartObject("responses");
            w.WriteStartObject("name");
            w.WriteString("label", "your_name");
            if (_customer.SplitName)
            {
                w.WriteStartObject("value");
                w.WriteString("firstName", _customer.First);
                w.WriteString("lastName", _customer.Last);
                w.WriteEndObject();
            }
            else
            {
                w.WriteString("value", _customer.Name);
            }

            w.WriteBoolean("isHidden", false);
            w.WriteEndObject();
            w.WriteStartObject("email");
            w.WriteString("label", "email_address");
            if (_customer.Email is not null)
            {
                w.WriteString("value", _customer.Email);
            }

            w.WriteBoolean("isHidden", _customer.Email is null);
            w.WriteEndObject();
            w.WriteStartObject("attendeePhoneNumber");
            w.WriteString("label", "phone_number");
            w.WriteString("value", _customer.Phone);
            w.WriteBoolean("isHidden", false);
            w.WriteEndObject();
            w.WriteStartObject("location");
            w.WriteString("label", "location");
            w.WriteStartObject("value");
            w.WriteString("value", _location);
            w.WriteString("optionValue", "");
            w.WriteEndObject();
            w.WriteBoolean("isHidden", false);
            w.WriteEndObject();
            w.WriteStartObject("notes");
            w.WriteString("label", "additional_notes");
            if (_notes is not null)
            {
                w.WriteString("value", _notes);
            }

            w.WriteBoolean("isHidden", false);
            w.WriteEndObject();
            w.WriteStartObject("guests");
            w.WriteString("label", "additional_guests");
            w.WriteStartArray("value");
            w.WriteEndArray();
            w.WriteBoolean("isHidden", false);
            w.WriteEndObject();
            w.WriteStartObject("rescheduleReason");
            w.WriteString("label", "reason_for_reschedule");
            if (rescheduleReason is not null)
            {
                w.WriteString("value", rescheduleReason);
            }

            w.WriteBoolean("isHidden", false);
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteString("location", _location);
            w.WriteString("iCalUID", _iCalUid);
            w.WriteString("uid", uid);
            w.WriteString("eventTitle", _type.Name);
            w.WriteBoolean("requiresConfirmation", _type.RequiresConfirmation);
            w.WriteNumber("price", _type.Price);
            w.WriteString("currency", "eur");
            w.WriteNumber("length", _type.Length);
            w.WriteNumber("bookingId", _bookingId);
            extra?.Invoke(w);
            WriteMetadata(w, uid, meta);
            if (status is not null)
            {
                w.WriteString("status", status);
            }
        }

        private void SeedBooking(Utf8JsonWriter w, string uid, string? status, Meta meta, Action<Utf8JsonWriter>? extra)
        {
            w.WriteString("uid", uid);
            extra?.Invoke(w);
            w.WriteNumber("bookingId", _bookingId);
            w.WriteNumber("eventTypeId", _type.Id);
            w.WriteString("title", _type.Name);
            w.WriteString("startTime", Time(_start, TimeStyle.Millis));
            w.WriteString("endTime", Time(_end, TimeStyle.Millis));
            if (status is not null)
            {
                w.WriteString("status", status);
            }

            w.WriteStartObject("organizer");
            w.WriteString("name", _staff.Name);
            w.WriteString("email", _staff.Email);
            w.WriteString("timeZone", "Europe/Berlin");
            w.WriteEndObject();
            w.WriteStartArray("attendees");
            w.WriteStartObject();
            w.WriteString("name", _customer.Name);
            w.WriteString("email", _customer.AttendeeEmail);
            w.WriteString("timeZone", _customer.TimeZone);
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteStartObject("responses");
            w.WriteString("name", _customer.Name);
            if (_customer.Email is not null)
            {
                w.WriteString("email", _customer.Email);
            }

            w.WriteString("phone", _customer.Phone);
            if (_notes is not null)
            {
                w.WriteString("notes", _notes);
            }

            w.WriteEndObject();
            w.WriteString("location", _location);
            if (meta == Meta.Full && _askProId is not null)
            {
                w.WriteStartObject("metadata");
                WriteAskProId(w);
                if (_source is not null)
                {
                    w.WriteString("source", _source);
                }

                w.WriteEndObject();
            }
        }

        private void WriteMetadata(Utf8JsonWriter w, string uid, Meta meta)
        {
            if (meta == Meta.None)
            {
                return;
            }

            w.WriteStartObject("metadata");
            if (_location == "integrations:daily")
            {
                w.WriteString("videoCallUrl", $"https://app.cal.com/video/{uid}");
            }

            if (meta == Meta.Full)
            {
                if (_askProId is not null)
                {
                    WriteAskProId(w);
                }

                if (_companyId is not null)
                {
                    w.WriteString("askpro_company_id", _companyId);
                }

                if (_source is not null)
                {
                    w.WriteString("source", _source);
                }
            }

            w.WriteEndObject();
        }

        private void WriteAskProId(Utf8JsonWriter w)
        {
            if (_askProId is int number)
            {
                w.WriteNumber("askpro_appointment_id", number);
            }
            else
            {
                w.WriteString("askpro_appointment_id", (string)_askProId!);
            }
        }

        /// <summary>MEETING_ENDED from the scheduled path: the booking row itself, its createdAt the booking's creation time.</summary>
        private byte[] FlatMeetingRow()
        {
            var buffer = new ArrayBufferWriter<byte>(2048);
            using (var w = new Utf8JsonWriter(buffer, WriterOptions))
            {
                w.WriteStartObject();
                w.WriteString("triggerEvent", "MEETING_ENDED");
                w.WriteNumber("id", _bookingId);
                w.WriteString("uid", _uid);
                w.WriteNumber("userId", _staff.Id);
                w.WriteString("userPrimaryEmail", _staff.Email);
                w.WriteNumber("eventTypeId", _type.Id);
                w.WriteString("title", $"{_type.Name} zwischen {_staff.Name} und {_customer.Name}");
                w.WriteString("startTime", Time(_start, TimeStyle.Millis));
                w.WriteString("endTime", Time(_end, TimeStyle.Millis));
                w.WriteString("location", _location);
                w.WriteString("createdAt", Iso(_bookingCreatedAt));
                w.WriteString("updatedAt", Iso(_bookingCreatedAt));
                w.WriteString("status", "ACCEPTED");
                w.WriteBoolean("paid", _type.Price > 0);
                w.WriteNull("cancellationReason");
                w.WriteNull("rejectionReason");
                w.WriteStartObject("metadata");
                w.WriteEndObject();
                w.WriteBoolean("noShowHost", false);
                w.WriteStartObject("user");
                w.WriteString("email", _staff.Email);
                w.WriteString("name", _staff.Name);
                w.WriteString("timeZone", "Europe/Berlin");
                w.WriteString("username", _staff.Username);
                w.WriteEndObject();
                w.WriteStartArray("attendees");
                w.WriteStartObject();
                w.WriteString("email", _customer.AttendeeEmail);
                w.WriteString("name", _customer.Name);
                w.WriteString("timeZone", _customer.TimeZone);
                w.WriteString("phoneNumber", _customer.Phone);
                w.WriteNumber("bookingId", _bookingId);
                w.WriteBoolean("noShow", false);
                w.WriteEndObject();
                w.WriteEndArray();
                w.WriteEndObject();
            }

            return buffer.WrittenSpan.ToArray();
        }

        private static string Time(DateTimeOffset t, TimeStyle style) => style switch
        {
            TimeStyle.Plain => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
            TimeStyle.Offset => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'+00:00'", CultureInfo.InvariantCulture),
            _ => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture),
        };
    }
}
