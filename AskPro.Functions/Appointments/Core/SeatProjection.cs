using System.Security.Cryptography;
using System.Text;
using AskPro.Functions.Calcom;

namespace AskPro.Functions.Appointments;

/// <summary>A seated booking's time slot: one Cal.com uid shared by every seat booked into it.</summary>
public sealed record SeatSlot(string Uid, string SlotId, DateTimeOffset? Start, DateTimeOffset? End, string? StaffKey, IReadOnlyList<string> ActiveSeatIds)
{
    /// <summary>The slot holds its staff member's time while any seat is active (once, however many seats).</summary>
    public bool IsActive => ActiveSeatIds.Count > 0 && Start is { } s && End is { } e && e > s && StaffKey is not null;
}

/// <summary>
/// One appointment per seat of a seated event type (docs/records.md#seated-events, docs/calcom-booking-kinds.md). Cal.com
/// books every seat of a slot under one uid and lists only the seat's own attendee, so a seat is (uid, attendee e-mail
/// exactly as Cal.com sends it): Cal.com's own "already signed up" check compares e-mails with <c>===</c>, so two
/// addresses that differ only in letter case are two seats, and folding them would let one booker overwrite and cancel
/// another's seat (docs/records-limits-and-seats.md). A pure function of the fact set, like <see cref="AppointmentProjection"/>: any delivery order
/// and any duplication give the same seats.
/// </summary>
public static class SeatProjection
{
    public static bool IsSeated(BookingFacts facts)
    {
        ArgumentNullException.ThrowIfNull(facts);
        foreach (var e in facts.Events)
        {
            if (e.IsSeated)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>A seat's appointment id: from the uid its seat was first booked in and the attendee's e-mail.</summary>
    public static string SeatIdOf(string rootUid, string? email)
    {
        ArgumentNullException.ThrowIfNull(rootUid);
        return "apt_" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(rootUid + "\n" + Normal(email))).AsSpan(0, 10));
    }

    /// <summary>
    /// The id a seat had before seats followed Cal.com's exact e-mail comparison (its address folded to lower case):
    /// rows written then under this id are retired to the seat's id when the seat next changes.
    /// </summary>
    internal static string LegacySeatIdOf(string rootUid, string? email) => SeatIdOf(rootUid, Normal(email).ToLowerInvariant());

    public static IReadOnlyList<Appointment> Project(BookingFacts facts) => Analyse(facts).Seats;

    public static IReadOnlyList<SeatSlot> Slots(BookingFacts facts) => Analyse(facts).Slots;

    /// <summary>Seats and slots of a set, worked out once per set (the store and the book ask for both).</summary>
    internal static (IReadOnlyList<Appointment> Seats, IReadOnlyList<SeatSlot> Slots) Analyse(BookingFacts facts)
    {
        ArgumentNullException.ThrowIfNull(facts);
        var analysed = Cache.GetValue(facts, static f => Compute(f));
        return (analysed.Item1, analysed.Item2);
    }

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<BookingFacts, Tuple<IReadOnlyList<Appointment>, IReadOnlyList<SeatSlot>>> Cache = new();

    private static Tuple<IReadOnlyList<Appointment>, IReadOnlyList<SeatSlot>> Compute(BookingFacts facts)
    {
        var events = facts.Events.ToList();
        var uids = facts.Uids.Order(StringComparer.Ordinal).ToList();
        var slotRecords = new Dictionary<string, Appointment>(StringComparer.Ordinal);
        foreach (var uid in uids)
        {
            if (SlotRecord(uid, events) is { } slot)
            {
                slotRecords[uid] = slot;
            }
        }

        // Who is where: every e-mail a seat event lists, and the moves (a link O → N that an attendee took along).
        var moves = events.Where(IsMove).ToList();
        var moversOf = new Dictionary<BookingEvent, HashSet<string>>(ReferenceEqualityComparer.Instance);
        foreach (var move in moves)
        {
            moversOf[move] = Movers(move, events);
        }

        var emails = events.Where(e => !IsSlotLevel(e)).SelectMany(Listed).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var seats = new List<Appointment>();
        var active = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var email in emails)
        {
            foreach (var chain in ChainsOf(email, events, moves, moversOf))
            {
                var seat = SeatRecord(email, chain, events, moversOf, slotRecords);
                if (seat is null)
                {
                    continue;
                }

                seats.Add(seat);
                if (AppointmentStatus.IsActive(seat.Status))
                {
                    if (!active.TryGetValue(seat.CalcomUid, out var list))
                    {
                        active[seat.CalcomUid] = list = [];
                    }

                    list.Add(seat.AppointmentId);
                }
            }
        }

        seats.Sort((a, b) => string.CompareOrdinal(a.AppointmentId, b.AppointmentId));
        var slots = uids.Where(slotRecords.ContainsKey).Select(uid =>
        {
            var r = slotRecords[uid];
            var ids = active.TryGetValue(uid, out var list) ? list.Order(StringComparer.Ordinal).ToList() : [];
            return new SeatSlot(uid, AppointmentProjection.AppointmentIdOf(uid), r.StartTime, r.EndTime, r.StaffKey, ids);
        }).ToList();
        return Tuple.Create<IReadOnlyList<Appointment>, IReadOnlyList<SeatSlot>>(seats, slots);
    }

    /// <summary>
    /// How a seat's e-mail is compared: exactly, only trimmed (null is ""). Seat ids hash this value; before issue 15
    /// they hashed the lower-cased address, which is the same value for every lower-case address, so their ids stay.
    /// </summary>
    internal static string Normal(string? email) => (email ?? "").Trim();

    /// <summary>The e-mails an event lists (as compared: <see cref="Normal"/>).</summary>
    private static IEnumerable<string> Listed(BookingEvent e) =>
        e.Attendees is { } list ? list.Select(a => Normal(a.Email)).Distinct(StringComparer.Ordinal) : [];

    private static bool Lists(BookingEvent e, string email) => e.Attendees?.Any(a => Normal(a.Email) == email) ?? false;

    /// <summary>A seat holder's move: a new booking (uid) replacing a seat in the original (rescheduleUid).</summary>
    private static bool IsMove(BookingEvent e) => e.Trigger.Has(TriggerFlags.MayLink)
        && e.RescheduleUid is { } r && r != e.Uid && e.Attendees is { Count: > 0 };

    /// <summary>
    /// Events that are about the whole slot, not the seats they list: an owner's move (uid = rescheduleUid), host and
    /// location changes, meetings, payments, no-show signals (they name their attendees by mark), and any event that
    /// lists nobody (a cancel or reject listing nobody stands for every seat).
    /// </summary>
    private static bool IsSlotLevel(BookingEvent e) => e.Attendees is not { Count: > 0 }
        || e.RescheduleUid == e.Uid
        || e.Trigger.Level == TriggerLevel.Slot;

    /// <summary>
    /// Who of a move's listed attendees moved. Moving into an existing booking lists its earlier attendees too, and a
    /// move's original may list people who arrive there only later (another seat moving in): so the movers are those
    /// not yet listed in the new booking before the move (<c>createdAt</c>) who were listed in the original before it;
    /// when one side is unknown (lost events), the other decides; when both are, everyone listed.
    /// </summary>
    private static HashSet<string> Movers(BookingEvent move, List<BookingEvent> events)
    {
        var listed = Listed(move).ToHashSet(StringComparer.Ordinal);
        if (ByReference(move, events) is { } mover && listed.Contains(mover))
        {
            return new HashSet<string>(StringComparer.Ordinal) { mover };
        }

        bool Before(BookingEvent e) => !ReferenceEquals(e, move) && !IsSlotLevel(e) && (e.CreatedAt is not { } at || move.CreatedAt is not { } t || at < t);
        var inNew = events.Where(e => e.Uid == move.Uid && Before(e)).SelectMany(Listed).ToHashSet(StringComparer.Ordinal);
        var inOriginal = events.Where(e => e.Uid == move.RescheduleUid && Before(e)).SelectMany(Listed).ToHashSet(StringComparer.Ordinal);
        var fresh = listed.Where(m => !inNew.Contains(m)).ToHashSet(StringComparer.Ordinal);
        var from = listed.Where(inOriginal.Contains).ToHashSet(StringComparer.Ordinal);
        var both = fresh.Where(from.Contains).ToHashSet(StringComparer.Ordinal);
        return both.Count > 0 ? both : fresh.Count > 0 ? fresh : from.Count > 0 ? from : listed;
    }

    /// <summary>
    /// Cal.com's own word on who moved: a move into another booking carries the mover's seat reference
    /// (<c>attendeeSeatId</c>, the same reference their seat was booked with), either on the attendee
    /// (<c>bookingSeat.referenceUid</c>) or on the seat's BOOKING_CREATED. Null when the payload has none or it is unknown.
    /// </summary>
    private static string? ByReference(BookingEvent move, List<BookingEvent> events)
    {
        if (move.AttendeeSeatId is not { Length: > 0 } reference)
        {
            return null;
        }

        if (move.Attendees?.FirstOrDefault(a => a.SeatId == reference) is { } own)
        {
            return Normal(own.Email);
        }

        var booked = events.Where(e => !ReferenceEquals(e, move) && e.AttendeeSeatId == reference && e.Attendees is { Count: 1 })
            .Select(e => Normal(e.Attendees![0].Email)).Distinct(StringComparer.Ordinal).ToList();
        return booked.Count == 1 ? booked[0] : null;
    }

    /// <summary>
    /// The seat chains of one attendee: the uids they hold or held a seat in, joined by the moves they made. Each chain
    /// starts at a uid they did not move into and follows their newest move from each uid.
    /// </summary>
    private static List<List<string>> ChainsOf(string email, List<BookingEvent> events, List<BookingEvent> moves, Dictionary<BookingEvent, HashSet<string>> moversOf)
    {
        var held = events.Where(e => !IsSlotLevel(e) && Lists(e, email)).Select(e => e.Uid).ToHashSet(StringComparer.Ordinal);
        var mine = moves.Where(m => moversOf[m].Contains(email)).ToList();
        foreach (var m in mine)
        {
            held.Add(m.RescheduleUid!);
            held.Add(m.Uid);
        }

        // Components of the uids by this attendee's moves.
        var parent = held.ToDictionary(u => u, u => u, StringComparer.Ordinal);
        string Find(string u) => parent[u] == u ? u : parent[u] = Find(parent[u]);
        foreach (var m in mine)
        {
            var (a, b) = (Find(m.RescheduleUid!), Find(m.Uid));
            if (a != b)
            {
                parent[string.CompareOrdinal(a, b) < 0 ? b : a] = string.CompareOrdinal(a, b) < 0 ? a : b;
            }
        }

        var chains = new List<List<string>>();
        foreach (var component in held.GroupBy(Find, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var members = component.ToHashSet(StringComparer.Ordinal);
            var movedInto = mine.Where(m => members.Contains(m.Uid) && m.RescheduleUid != m.Uid).Select(m => m.Uid).ToHashSet(StringComparer.Ordinal);
            var root = members.Where(u => !movedInto.Contains(u)).Order(StringComparer.Ordinal).FirstOrDefault() ?? members.Min(StringComparer.Ordinal)!;
            var chain = new List<string> { root };
            var visited = new HashSet<string>(StringComparer.Ordinal) { root };
            while (true)
            {
                var from = chain[^1];
                var next = mine.Where(m => m.RescheduleUid == from && !visited.Contains(m.Uid))
                    .OrderByDescending(m => m.CreatedAt).ThenBy(m => m.Uid, StringComparer.Ordinal).FirstOrDefault();
                if (next is null)
                {
                    break;
                }

                chain.Add(next.Uid);
                visited.Add(next.Uid);
            }

            chains.Add(chain);
        }

        return chains;
    }

    /// <summary>A slot's own view: the events of its uid, without the links of seats moving in or out, and no customer.</summary>
    private static Appointment? SlotRecord(string uid, List<BookingEvent> events)
    {
        var own = BookingFacts.Empty;
        foreach (var e in events)
        {
            if (e.Uid == uid)
            {
                own = own.With(e.RescheduleUid is { } r && r != uid
                    ? e with { RescheduleUid = null, RescheduleStartTime = null, RescheduleEndTime = null, Customer = null, Attendees = null }
                    : e with { Customer = null, Attendees = null });
            }
        }

        return own.Count == 0 ? null : AppointmentProjection.Project(own);
    }

    private static Appointment? SeatRecord(string email, List<string> chain, List<BookingEvent> events, Dictionary<BookingEvent, HashSet<string>> moversOf,
        Dictionary<string, Appointment> slots)
    {
        var current = chain[^1];
        if (!slots.TryGetValue(current, out var slot))
        {
            return null;
        }

        var onChain = chain.ToHashSet(StringComparer.Ordinal);
        var view = BookingFacts.Empty;
        BookingEvent? statusEvent = null;
        var statusRank = 0;
        BookingEvent? myMove = null;
        foreach (var e in events)
        {
            if (!onChain.Contains(e.Uid))
            {
                continue;
            }

            var slotLevel = IsSlotLevel(e);
            var listsMe = Lists(e, email);
            var moved = moversOf.TryGetValue(e, out var movers) && movers.Contains(email);
            if (!slotLevel && !listsMe)
            {
                continue; // another seat's event
            }

            // Listed but not moving (an earlier attendee of the booking someone moved into): the event confirms this
            // seat and links nothing, so its reschedule fields are dropped from this seat's view.
            var me = e.Attendees?.FirstOrDefault(a => Normal(a.Email) == email);
            var seen = e with
            {
                RescheduleUid = moved || e.RescheduleUid == e.Uid ? e.RescheduleUid : null,
                RescheduleStartTime = moved || e.RescheduleUid == e.Uid ? e.RescheduleStartTime : null,
                RescheduleEndTime = moved || e.RescheduleUid == e.Uid ? e.RescheduleEndTime : null,
                Customer = me is null ? null : new Person(me.Name, me.Email, me.Phone),
                Attendees = me is null ? null : [me],
                NoShowAttendees = [.. e.NoShowAttendees.Where(n => Normal(n.Email) == email)],
            };
            view = view.With(seen);
            if (moved && e.Uid == current)
            {
                myMove = e;
            }

            // The seat's status: its newest status event in the slot it is in now (Cal.com's createdAt), ties by rank.
            if (e.Uid == current && StatusRank(e, slotLevel) is { } rank and > 0
                && (statusEvent is null || Nullable.Compare(e.CreatedAt, statusEvent.CreatedAt) is var c && (c > 0 || (c == 0 && rank > statusRank))))
            {
                (statusEvent, statusRank) = (e, rank);
            }
        }

        if (view.Count == 0)
        {
            return null;
        }

        var seatView = AppointmentProjection.Project(view);
        var status = statusEvent?.Trigger.Status ?? AppointmentStatus.Pending;
        var previous = chain.Count > 1 && slots.TryGetValue(chain[^2], out var p) ? p : null;
        var seatsPer = events.Where(e => onChain.Contains(e.Uid)).Max(e => e.SeatsPerTimeSlot);
        var attendee = events.Where(e => onChain.Contains(e.Uid) && Lists(e, email))
            .OrderByDescending(e => e.CreatedAt).ThenBy(BookingFacts.Fingerprint, StringComparer.Ordinal)
            .Select(e => e.Attendees!.First(a => Normal(a.Email) == email)).First();
        return slot with
        {
            AppointmentId = SeatIdOf(chain[0], email),
            RootUid = chain[0],
            CalcomUid = current,
            CalcomUids = chain,
            Status = status,
            PreviousStartTime = previous?.StartTime,
            PreviousEndTime = previous?.EndTime,
            RescheduleRequested = status == AppointmentStatus.Cancelled && statusEvent!.RequestReschedule,
            CustomerName = attendee.Name ?? seatView.CustomerName,
            CustomerEmail = attendee.Email ?? seatView.CustomerEmail,
            CustomerPhone = attendee.Phone ?? seatView.CustomerPhone,
            TimeZone = seatView.TimeZone ?? slot.TimeZone,
            Notes = seatView.Notes,
            Source = seatView.Source,
            AskProAppointmentId = seatView.AskProAppointmentId,
            CompanyId = seatView.CompanyId,
            AskProMetadataUnproven = seatView.AskProMetadataUnproven,
            CancellationReason = status == AppointmentStatus.Cancelled ? statusEvent!.CancellationReason : null,
            CancelledBy = status == AppointmentStatus.Cancelled ? statusEvent!.CancelledBy : null,
            RejectionReason = status == AppointmentStatus.Rejected ? statusEvent!.RejectionReason : null,
            RescheduleReason = myMove?.RescheduleReason,
            RescheduledBy = myMove?.RescheduledBy,
            ConfirmedAt = seatView.ConfirmedAt,
            CustomerNoShow = seatView.CustomerNoShow,
            PaymentStatus = seatView.PaymentStatus ?? slot.PaymentStatus,
            LastEventAt = seatView.LastEventAt,
            LastTriggerEvent = seatView.LastTriggerEvent,
            SlotId = AppointmentProjection.AppointmentIdOf(current),
            SeatsPerTimeSlot = seatsPer,
        };
    }

    /// <summary>
    /// What an event says about the status of a seat it concerns (0: nothing): the catalogue's rank for an event about
    /// seats; of an event about the whole slot, only an ending one that lists nobody (the slot cancelled or rejected).
    /// </summary>
    private static int? StatusRank(BookingEvent e, bool slotLevel) =>
        !slotLevel || (e.Trigger.Ends && e.Attendees is not { Count: > 0 }) ? e.Trigger.StatusRank : 0;
}
