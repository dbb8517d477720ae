using System.Security.Cryptography;
using System.Text;
using AskPro.Functions.Calcom;
using T = AskPro.Functions.Calcom.CalcomTriggers;

namespace AskPro.Functions.Appointments;

/// <summary>
/// Derives the appointment record from a fact set. A pure function of the set (never of arrival order): the uid
/// chain comes from reschedule links, the current uid is the chain's newest, and every visible field is taken from
/// the current uid's events first, then its predecessors'.
/// </summary>
public static class AppointmentProjection
{
    public const string DirectSource = "calcom_direct";

    public static Appointment Project(BookingFacts facts)
    {
        ArgumentNullException.ThrowIfNull(facts);
        if (facts.Count == 0)
        {
            throw new ArgumentException("an appointment needs at least one event", nameof(facts));
        }

        var events = facts.Events.ToList();
        var links = Links(events);
        var chain = Chain(facts.Uids.ToList(), links);
        var current = chain[^1];
        var aboutOf = new Dictionary<BookingEvent, string>(ReferenceEqualityComparer.Instance);
        foreach (var e in events)
        {
            aboutOf[e] = About(e, links);
        }

        // Events about the current uid first, then each predecessor's; within a uid, the most telling first.
        var position = new Dictionary<string, int>(chain.Count, StringComparer.Ordinal);
        for (var i = 0; i < chain.Count; i++)
        {
            position[chain[i]] = i;
        }

        var ordered = events.Where(e => position.ContainsKey(aboutOf[e])).ToList();
        ordered.Sort((a, b) =>
        {
            var c = position[aboutOf[b]].CompareTo(position[aboutOf[a]]);
            c = c != 0 ? c : Weight(b).CompareTo(Weight(a));
            c = c != 0 ? c : Nullable.Compare(b.CreatedAt, a.CreatedAt);
            return c != 0 ? c : string.CompareOrdinal(BookingFacts.Fingerprint(a), BookingFacts.Fingerprint(b));
        });
        var currentEvents = ordered.Where(e => aboutOf[e] == current).ToList();

        var status = StatusOf(currentEvents);
        var cancel = status == AppointmentStatus.Cancelled ? Latest(currentEvents, T.BookingCancelled) : null;
        var reject = status == AppointmentStatus.Rejected ? Latest(currentEvents, T.BookingRejected) : null;
        var link = chain.Count > 1 ? links.Where(l => l.To == current).OrderBy(l => l.From, StringComparer.Ordinal).Select(l => l.Event).FirstOrDefault() : null;
        var previous = chain.Count > 1 ? chain[^2] : null;
        var (start, end) = TimesOf(current, events, aboutOf);
        var (previousStart, previousEnd) = previous is null ? (null, null) : TimesOf(previous, events, aboutOf);
        var noShows = NoShows(events);
        // Host and location can change in place (reassignment, location update, an owner's move): the newest event
        // about the current uid that states them wins, so an older BOOKING_CREATED cannot undo a later change.
        var staffEvent = Newest(currentEvents, e => e.Organizer?.Email is not null || e.OrganizerId is not null, StatesStaff)
            ?? ordered.Find(e => e.Organizer?.Email is not null || e.OrganizerId is not null);
        var staffEmail = staffEvent?.Organizer?.Email ?? First(ordered, e => e.Organizer?.Email);
        var staffId = staffEvent?.OrganizerId ?? StaffIdOf(staffEmail, events);
        var locationEvent = Newest(currentEvents, e => e.Location is not null, StatesLocation);

        return new Appointment
        {
            AppointmentId = AppointmentIdOf(chain[0]),
            RootUid = chain[0],
            CalcomUid = current,
            CalcomUids = chain,
            CalcomBookingId = First(ordered, e => e.BookingId),
            EventTypeId = First(ordered, e => e.EventTypeId),
            Title = First(ordered, e => e.Title),
            StartTime = start,
            EndTime = end,
            TimeZone = First(ordered, e => e.TimeZone),
            PreviousStartTime = previousStart,
            PreviousEndTime = previousEnd,
            Status = status,
            RescheduleRequested = cancel?.RequestReschedule ?? false,
            CustomerName = First(ordered, e => e.Customer?.Name),
            CustomerEmail = First(ordered, e => e.Customer?.Email),
            CustomerPhone = First(ordered, e => e.Customer?.Phone),
            StaffName = staffEvent?.Organizer?.Name ?? First(ordered, e => e.Organizer?.Name),
            StaffEmail = staffEmail,
            StaffUserId = staffId,
            StaffKey = StaffKeyOf(staffId, staffEmail),
            Location = locationEvent?.Location ?? First(ordered, e => e.Location),
            Notes = First(ordered, e => e.Notes),
            Source = First(ordered, e => e.Source) ?? DirectSource,
            AskProAppointmentId = First(ordered, e => e.AskProAppointmentId),
            CompanyId = First(ordered, e => e.CompanyId),
            AskProMetadataUnproven = events.Exists(e => e.AskProMetadataUnproven == true),
            CancellationReason = cancel?.CancellationReason,
            CancelledBy = cancel?.CancelledBy,
            RejectionReason = reject?.RejectionReason,
            RescheduleReason = link?.RescheduleReason,
            RescheduledBy = link?.RescheduledBy,
            ConfirmedAt = First(currentEvents, e => e.ConfirmedAt),
            CustomerNoShow = noShows,
            // Only Cal Video's host no-show signal and a no-show update that names the host say anything about the host.
            HostNoShow = events.Where(e => e.NoShowHost is not null && e.Trigger.Has(TriggerFlags.HostNoShowMark))
                .OrderByDescending(e => e.CreatedAt).ThenByDescending(e => e.NoShowHost).Select(e => e.NoShowHost).FirstOrDefault(),
            MeetingStarted = currentEvents.Exists(e => e.TriggerEvent is T.MeetingStarted or T.MeetingEnded),
            MeetingEnded = currentEvents.Exists(e => e.TriggerEvent == T.MeetingEnded),
            PaymentStatus = events.Exists(e => e.TriggerEvent == T.BookingPaid || e.Paid == true) ? "paid"
                : events.Exists(e => e.TriggerEvent == T.BookingPaymentInitiated) ? "initiated" : null,
            LastEventAt = events.Max(e => e.CreatedAt),
            LastTriggerEvent = LastTrigger(events),
        };
    }

    private static string LastTrigger(List<BookingEvent> events)
    {
        var last = events[0];
        foreach (var e in events)
        {
            var c = Nullable.Compare(e.CreatedAt, last.CreatedAt);
            if (c > 0 || (c == 0 && string.CompareOrdinal(e.TriggerEvent, last.TriggerEvent) < 0))
            {
                last = e;
            }
        }

        return last.TriggerEvent;
    }

    public static string AppointmentIdOf(string rootUid) => AppointmentIds.Get(rootUid, static uid =>
        "apt_" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(uid)).AsSpan(0, 10)));

    public static string StaffKeyOf(string email) => StaffKeys.Get(email, static e =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(e.Trim().ToUpperInvariant())).AsSpan(0, 8)));

    /// <summary>Prefix of a staff key made from a Cal.com user id (the e-mail-made ones are 16 hex digits).</summary>
    public const string UserKeyPrefix = "u";

    /// <summary>
    /// The staff member's key: the Cal.com user id when known (one person, whatever address an event type sends),
    /// else the hash of the e-mail; null when neither is known. Cal.com's literal "Email-less" is no address.
    /// </summary>
    public static string? StaffKeyOf(long? userId, string? email) =>
        userId is { } id ? UserKeyPrefix + id.ToString(System.Globalization.CultureInfo.InvariantCulture)
        : IsAddress(email) ? StaffKeyOf(email!) : null;

    private static bool IsAddress(string? email) => !string.IsNullOrWhiteSpace(email) && !email.Trim().Equals("Email-less", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// The user id an event of the set states for this organizer e-mail (an id-less event, e.g. a seed body, learns it
    /// from an id-bearing one of the same booking); the smallest when several do, so the answer is order-free.
    /// </summary>
    private static long? StaffIdOf(string? email, List<BookingEvent> events)
    {
        if (!IsAddress(email))
        {
            return events.Where(e => e.OrganizerId is not null).Min(e => e.OrganizerId);
        }

        long? best = null;
        foreach (var e in events)
        {
            if (e.OrganizerId is { } id && string.Equals(e.Organizer?.Email?.Trim(), email!.Trim(), StringComparison.OrdinalIgnoreCase) && (best is null || id < best))
            {
                best = id;
            }
        }

        return best;
    }

    private static bool StatesStaff(BookingEvent e) => e.Trigger.StatesStaff;

    private static bool StatesLocation(BookingEvent e) => e.Trigger.StatesLocation;

    /// <summary>The newest event (by createdAt, ties by fingerprint) of the given kinds that has the value.</summary>
    private static BookingEvent? Newest(List<BookingEvent> events, Func<BookingEvent, bool> has, Func<BookingEvent, bool> kind)
    {
        BookingEvent? best = null;
        foreach (var e in events)
        {
            if (!kind(e) || !has(e))
            {
                continue;
            }

            var c = best is null ? 1 : Nullable.Compare(e.CreatedAt, best.CreatedAt);
            if (c > 0 || (c == 0 && string.CompareOrdinal(BookingFacts.Fingerprint(e), BookingFacts.Fingerprint(best!)) > 0))
            {
                best = e;
            }
        }

        return best;
    }

    /// <summary>
    /// Every projection hashes the chain's original uid and the organizer e-mail; the same few values recur from event
    /// to event, so their hashes are kept (bounded: the cache starts over at 10,000 entries).
    /// </summary>
    private static readonly HashCache AppointmentIds = new();
    private static readonly HashCache StaffKeys = new();

    private sealed class HashCache
    {
        private System.Collections.Concurrent.ConcurrentDictionary<string, string> _entries = new(StringComparer.Ordinal);

        public string Get(string key, Func<string, string> hash)
        {
            var entries = _entries;
            if (entries.TryGetValue(key, out var value))
            {
                return value;
            }

            if (entries.Count >= 10_000)
            {
                _entries = entries = new(StringComparer.Ordinal);
            }

            return entries.GetOrAdd(key, hash);
        }
    }

    /// <summary>A reschedule link: <see cref="From"/> was replaced by <see cref="To"/>.</summary>
    internal sealed record Link(string From, string To, BookingEvent Event);

    /// <summary>
    /// Cal.com's reschedule names the NEW booking <c>uid</c> and the original <c>rescheduleUid</c>; the seed reads the
    /// other way round. Cal.com's form carries <c>rescheduleStartTime</c>; otherwise the side that already has its own
    /// booking event (created, requested, confirmed) is the original. Without either hint Cal.com's reading wins.
    /// </summary>
    internal static List<Link> Links(List<BookingEvent> events)
    {
        var origins = events.Where(e => e.TriggerEvent is T.BookingCreated or T.BookingRequested or T.BookingConfirmed)
            .Select(e => e.Uid).ToHashSet(StringComparer.Ordinal);
        // A body that carries the replaced booking's times is Cal.com's, so its direction is certain (new uid, original
        // as rescheduleUid). An event without that hint about the same two uids reads the same way round: a seed-style
        // body whose origin event is lost (or a reconciliation link next to it) must not make the link point back.
        var certain = events.Where(e => e.RescheduleUid is { } r && r != e.Uid && (e.RescheduleStartTime is not null || e.RescheduleEndTime is not null))
            .Select(e => (From: e.RescheduleUid!, To: e.Uid)).ToHashSet();

        // A seed reading makes its new uid a known booking, so the next seed-style step from it reads the same way
        // (A→B, then B→C): repeat until nothing changes. Events are visited in the set's fixed order.
        var seedRead = new HashSet<BookingEvent>(ReferenceEqualityComparer.Instance);
        for (var changed = true; changed;)
        {
            changed = false;
            foreach (var e in events)
            {
                // The seed never sends seats: a seated event is always read Cal.com's way round.
                if (!seedRead.Contains(e) && !e.IsSeated && e.RescheduleUid is { } r && r != e.Uid && e.TriggerEvent == T.BookingRescheduled
                    && e.RescheduleStartTime is null && e.RescheduleEndTime is null
                    && (certain.Contains((e.Uid, r)) || (!certain.Contains((r, e.Uid)) && origins.Contains(e.Uid) && !origins.Contains(r))))
                {
                    seedRead.Add(e);
                    origins.Add(r);
                    changed = true;
                }
            }
        }

        var links = new List<Link>();
        foreach (var e in events)
        {
            if (e.RescheduleUid is not { } r || r == e.Uid)
            {
                continue;
            }

            links.Add(seedRead.Contains(e) ? new Link(e.Uid, r, e) : new Link(r, e.Uid, e));
        }

        return links;
    }

    /// <summary>The uid whose booking an event's payload describes (the new booking for a seed-style reschedule).</summary>
    private static string About(BookingEvent e, List<Link> links) =>
        e.TriggerEvent == T.BookingRescheduled && e.RescheduleUid is { } r && links.Exists(l => ReferenceEquals(l.Event, e) && l.To == r) ? r : e.Uid;

    /// <summary>The chain from the original uid to the current one: the deepest uid is current (ties: ordinal).</summary>
    private static List<string> Chain(List<string> uids, List<Link> links)
    {
        if (links.Count == 0)
        {
            return [uids.Count == 1 ? uids[0] : uids.Max(StringComparer.Ordinal)!];
        }

        var successors = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        var hasPredecessor = new HashSet<string>(StringComparer.Ordinal);
        foreach (var l in links)
        {
            if (!successors.TryGetValue(l.From, out var next))
            {
                successors[l.From] = next = [];
            }

            next.Add(l.To);
            hasPredecessor.Add(l.To);
        }

        foreach (var next in successors.Values)
        {
            next.Sort(StringComparer.Ordinal);
        }

        var roots = uids.Where(u => !hasPredecessor.Contains(u)).ToList();
        roots.Sort(StringComparer.Ordinal);
        if (roots.Count == 0)
        {
            roots.Add(uids.Min(StringComparer.Ordinal)!); // a cycle from contradictory links: break it deterministically
        }

        List<string>? best = null;
        foreach (var root in roots)
        {
            // Breadth-first, remembering the path; visited guards against cycles.
            var queue = new Queue<List<string>>();
            queue.Enqueue([root]);
            var visited = new HashSet<string>(StringComparer.Ordinal) { root };
            while (queue.Count > 0)
            {
                var path = queue.Dequeue();
                if (best is null || path.Count > best.Count || (path.Count == best.Count && string.CompareOrdinal(path[^1], best[^1]) > 0))
                {
                    best = path;
                }

                if (successors.TryGetValue(path[^1], out var next))
                {
                    foreach (var uid in next)
                    {
                        if (visited.Add(uid))
                        {
                            queue.Enqueue([.. path, uid]);
                        }
                    }
                }
            }
        }

        return best!;
    }

    private static string StatusOf(List<BookingEvent> currentEvents)
    {
        var rank = 0;
        var status = AppointmentStatus.Pending;
        foreach (var e in currentEvents)
        {
            var (r, s) = (e.Trigger.StatusRank, e.Trigger.Status ?? AppointmentStatus.Pending);
            if (r > rank)
            {
                (rank, status) = (r, s);
            }
        }

        return status;
    }

    /// <summary>How much an event says about its booking's own data: booking events over cancellations over the rest.</summary>
    private static int Weight(BookingEvent e) => e.Trigger.Weight;

    private static (DateTimeOffset? Start, DateTimeOffset? End) TimesOf(string uid, List<BookingEvent> events, Dictionary<BookingEvent, string> aboutOf)
    {
        var candidates = new List<(int Weight, DateTimeOffset? CreatedAt, DateTimeOffset Start, DateTimeOffset? End)>();
        foreach (var e in events)
        {
            if (aboutOf[e] == uid && e.StartTime is { } s)
            {
                candidates.Add((Weight(e) + 1, e.CreatedAt, s, e.EndTime));
            }
            else if (e.RescheduleUid == uid && e.Uid != uid && e.RescheduleStartTime is { } rs)
            {
                candidates.Add((0, e.CreatedAt, rs, e.RescheduleEndTime));
            }
        }

        if (candidates.Count == 0)
        {
            return (null, null);
        }

        // The most telling, then the newest, then the earliest times: one order whatever the arrival order.
        var best = candidates[0];
        foreach (var c in candidates)
        {
            var cmp = c.Weight.CompareTo(best.Weight);
            cmp = cmp != 0 ? cmp : Nullable.Compare(c.CreatedAt, best.CreatedAt);
            cmp = cmp != 0 ? cmp : best.Start.CompareTo(c.Start);
            cmp = cmp != 0 ? cmp : Nullable.Compare(best.End, c.End);
            if (cmp > 0)
            {
                best = c;
            }
        }

        return (best.Start, best.End);
    }

    private static bool? NoShows(List<BookingEvent> events)
    {
        var latest = new Dictionary<string, (DateTimeOffset? At, bool NoShow)>(StringComparer.OrdinalIgnoreCase);
        foreach (var e in events.Where(e => e.Trigger.Has(TriggerFlags.GuestNoShowMarks)))
        {
            foreach (var mark in e.NoShowAttendees)
            {
                var key = mark.Email ?? "";
                if (!latest.TryGetValue(key, out var seen) || Later(e.CreatedAt, mark.NoShow, seen.At, seen.NoShow))
                {
                    latest[key] = (e.CreatedAt, mark.NoShow);
                }
            }
        }

        return latest.Count == 0 ? null : latest.Values.Any(v => v.NoShow);
    }

    /// <summary>Later wins; at the same instant "no-show" wins, so the outcome never depends on arrival order.</summary>
    private static bool Later(DateTimeOffset? at, bool noShow, DateTimeOffset? seenAt, bool seenNoShow) =>
        Nullable.Compare(at, seenAt) is var c && (c > 0 || (c == 0 && noShow && !seenNoShow));

    /// <summary>The newest event of a trigger: the events come ordered by weight, then newest first, then fingerprint.</summary>
    private static BookingEvent? Latest(List<BookingEvent> ordered, string trigger) => ordered.Find(e => e.TriggerEvent == trigger);

    private static TValue? First<TValue>(List<BookingEvent> ordered, Func<BookingEvent, TValue?> pick) where TValue : class
    {
        foreach (var e in ordered)
        {
            if (pick(e) is { } v)
            {
                return v;
            }
        }

        return null;
    }

    private static TValue? First<TValue>(List<BookingEvent> ordered, Func<BookingEvent, TValue?> pick) where TValue : struct
    {
        foreach (var e in ordered)
        {
            if (pick(e) is { } v)
            {
                return v;
            }
        }

        return null;
    }
}
