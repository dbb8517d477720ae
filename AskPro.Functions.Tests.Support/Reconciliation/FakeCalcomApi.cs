using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace AskPro.Functions.Tests.Reconciliation;

/// <summary>
/// A fake Cal.com API v2 on a real loopback socket (Kestrel), implementing the documented behaviour of
/// <c>GET /v2/bookings</c> and <c>GET /v2/bookings/{uid}</c> for <c>cal-api-version: 2024-08-13</c>: inclusive
/// updatedAt/start filters, one sort key by precedence and no tie-breaker, take 1–250 (default 100) and skip,
/// pagination computed from the count of the set before the updatedAt filters (Cal.com's count bug), the legacy
/// shape when the version header is missing, bearer keys, the error envelope, and scripted faults (a 429 with
/// <c>X-RateLimit-Reset-Default</c>, a 500, a 401, a slow answer); seated bookings in their own output shape, a
/// cancelled seat's attendee deleted from the row. Each API key sees its own bookings (<see cref="AddKey"/>,
/// <see cref="UpsertFor"/>), as each practice's key sees its own account; <see cref="ApiKey"/> is the default one, and
/// <see cref="Refuse"/> makes a key answer 401 until told otherwise. <c>teamsIds</c> keeps the bookings whose event
/// type belongs to one of those teams (<see cref="SetTeam"/>).
/// </summary>
public sealed partial class FakeCalcomApi : IAsyncDisposable
{
    public const string ApiKey = "cal_test_0123456789abcdef0123456789abcdef";

    private readonly WebApplication _app;
    private readonly ConcurrentQueue<Fault> _faults = new();
    private readonly ConcurrentQueue<string> _requests = new();
    private readonly Lock _lock = new();
    private readonly List<JsonObject> _bookings = [];
    private readonly Dictionary<string, List<JsonObject>> _accounts = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, bool> _refused = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<long, long> _teams = new();
    private readonly ConcurrentQueue<(string Key, string Request)> _keyedRequests = new();

    private FakeCalcomApi(WebApplication app, Uri baseUrl)
    {
        _app = app;
        BaseUrl = baseUrl;
        _accounts[ApiKey] = _bookings;
    }

    /// <summary>Another account's key: it sees only the bookings given to it with <see cref="UpsertFor"/>.</summary>
    public void AddKey(string apiKey)
    {
        lock (_lock)
        {
            _accounts.TryAdd(apiKey, []);
        }
    }

    /// <summary>Adds or replaces (by uid) bookings of the account of <paramref name="apiKey"/> (added when new).</summary>
    public void UpsertFor(string apiKey, params JsonObject[] bookings)
    {
        lock (_lock)
        {
            if (!_accounts.TryGetValue(apiKey, out var list))
            {
                _accounts[apiKey] = list = [];
            }

            foreach (var b in bookings)
            {
                list.RemoveAll(x => (string?)x["uid"] == (string?)b["uid"]);
                list.Add((JsonObject)b.DeepClone());
            }
        }
    }

    /// <summary>From now on <paramref name="apiKey"/> is answered 401 (revoked), the other keys as before.</summary>
    public void Refuse(string apiKey) => _refused[apiKey] = true;

    /// <summary>Event type <paramref name="eventTypeId"/> belongs to team <paramref name="teamId"/> (for <c>teamsIds</c>).</summary>
    public void SetTeam(long eventTypeId, long teamId) => _teams[eventTypeId] = teamId;

    /// <summary>Path and query of every request made with <paramref name="apiKey"/>, in order.</summary>
    public IReadOnlyList<string> RequestsBy(string apiKey) => [.. _keyedRequests.Where(r => r.Key == apiKey).Select(r => r.Request)];

    public Uri BaseUrl { get; }

    /// <summary>Path and query of every request that reached the fake, in order (faults included).</summary>
    public IReadOnlyCollection<string> Requests => _requests;

    /// <summary>The <c>cal-api-version</c> and <c>Authorization</c> headers of the last request (copied: Kestrel reuses its header objects).</summary>
    public (string Version, string Authorization) LastHeaders { get; private set; }

    public sealed record Fault(int Status, TimeSpan Delay = default, int ResetSeconds = -1, string Code = "");

    public static Fault TooManyRequests(int resetSeconds) => new(429, ResetSeconds: resetSeconds, Code: "ThrottlerException");
    public static Fault ServerError() => new(500, Code: "INTERNAL_SERVER_ERROR");
    public static Fault Unauthorized() => new(401, Code: "UnauthorizedException");
    public static Fault Slow(TimeSpan delay) => new(200, Delay: delay);

    public static async Task<FakeCalcomApi> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        FakeCalcomApi? fake = null;
        app.MapGet("/v2/bookings", (HttpContext c) => fake!.ListAsync(c));
        app.MapGet("/v2/bookings/{uid}", (HttpContext c, string uid) => fake!.GetAsync(c, uid));
        MapWebhookRoutes(app, () => fake!);
        await app.StartAsync();
        var address = app.Urls.First();
        fake = new FakeCalcomApi(app, new Uri(address.EndsWith('/') ? address : address + "/"));
        return fake;
    }

    /// <summary>Faults answered, in order, to the next requests (then normal answers resume).</summary>
    public void Inject(params Fault[] faults)
    {
        foreach (var f in faults)
        {
            _faults.Enqueue(f);
        }
    }

    /// <summary>Adds or replaces (by uid) bookings in the 2024-08-13 output shape.</summary>
    public void Upsert(params JsonObject[] bookings)
    {
        lock (_lock)
        {
            foreach (var b in bookings)
            {
                _bookings.RemoveAll(x => (string?)x["uid"] == (string?)b["uid"]);
                _bookings.Add((JsonObject)b.DeepClone());
            }
        }
    }

    public void Clear()
    {
        lock (_lock)
        {
            _bookings.Clear();
            foreach (var key in _accounts.Keys.Where(k => k != ApiKey).ToList())
            {
                _accounts.Remove(key);
            }
        }

        _faults.Clear();
        _requests.Clear();
        _keyedRequests.Clear();
        _refused.Clear();
        _teams.Clear();
    }

    /// <summary>A booking in the documented output shape; every argument is optional in the real API too.</summary>
    public static JsonObject Booking(string uid, DateTimeOffset start, DateTimeOffset updatedAt, string status = "accepted", long hostId = 98765,
        string hostEmail = "anna.schmidt@praxis-example.de", string attendeeEmail = "max.mustermann@example.com", int minutes = 30,
        string location = "integrations:daily")
    {
        var end = start.AddMinutes(minutes);
        return new JsonObject
        {
            ["id"] = Math.Abs(uid.GetHashCode(StringComparison.Ordinal)) % 9_000_000 + 1_000_000,
            ["uid"] = uid,
            ["title"] = "Erstberatung",
            ["description"] = "",
            ["hosts"] = new JsonArray(new JsonObject { ["id"] = hostId, ["name"] = "Dr. Anna Schmidt", ["email"] = hostEmail, ["displayEmail"] = hostEmail, ["username"] = "anna-schmidt", ["timeZone"] = "Europe/Berlin" }),
            ["status"] = status,
            ["cancellationReason"] = "",
            ["cancelledByEmail"] = "",
            ["start"] = Iso(start),
            ["end"] = Iso(end),
            ["duration"] = minutes,
            ["eventTypeId"] = 1234567,
            ["eventType"] = new JsonObject { ["id"] = 1234567, ["slug"] = "erstberatung" },
            ["location"] = location,
            ["meetingUrl"] = location,
            ["absentHost"] = false,
            ["createdAt"] = Iso(updatedAt.AddDays(-1)),
            ["updatedAt"] = Iso(updatedAt),
            ["metadata"] = new JsonObject(),
            ["rating"] = null,
            ["icsUid"] = uid + "@Cal.com",
            ["attendees"] = new JsonArray(new JsonObject { ["name"] = "Max Mustermann", ["email"] = attendeeEmail, ["displayEmail"] = attendeeEmail, ["timeZone"] = "Europe/Berlin", ["language"] = "de", ["absent"] = false }),
            ["guests"] = new JsonArray(),
            ["bookingFieldsResponses"] = new JsonObject { ["name"] = "Max Mustermann", ["email"] = attendeeEmail, ["guests"] = new JsonArray() },
        };
    }

    /// <summary>One seat of a seated booking: its attendee and seat reference.</summary>
    public sealed record Seat(string Name, string Email, string SeatUid, string? Phone = null);

    /// <summary>
    /// A seated booking in the <c>GetSeatedBookingOutput</c> shape: one row per time slot, one attendee per seat, each
    /// with its <c>seatUid</c>, its own form answers (e-mail removed, as Cal.com does) and metadata; no top-level
    /// <c>bookingFieldsResponses</c>, <c>guests</c>, <c>cancelledByEmail</c> or <c>reschedulingReason</c>.
    /// </summary>
    public static JsonObject SeatedBooking(string uid, DateTimeOffset start, DateTimeOffset updatedAt, IEnumerable<Seat> seats, string status = "accepted",
        long hostId = 98765, string hostEmail = "anna.schmidt@praxis-example.de", int minutes = 90, string location = "Hauptstraße 12, 10115 Berlin")
    {
        var booking = Booking(uid, start, updatedAt, status, hostId, hostEmail, minutes: minutes, location: location);
        booking["title"] = "Rückenschule (Gruppe)";
        booking["eventTypeId"] = 7654321;
        booking["eventType"] = new JsonObject { ["id"] = 7654321, ["slug"] = "rueckenschule-gruppe" };
        booking.Remove("bookingFieldsResponses");
        booking.Remove("guests");
        booking.Remove("cancelledByEmail");
        booking.Remove("reschedulingReason");
        booking["attendees"] = new JsonArray([.. seats.Select(SeatAttendee)]);
        return booking;
    }

    private static JsonObject SeatAttendee(Seat seat)
    {
        var attendee = new JsonObject
        {
            ["name"] = seat.Name, ["email"] = seat.Email, ["displayEmail"] = seat.Email, ["timeZone"] = "Europe/Berlin", ["language"] = "de", ["absent"] = false,
            ["seatUid"] = seat.SeatUid,
            ["bookingFieldsResponses"] = new JsonObject { ["name"] = seat.Name, ["notes"] = "Erste Teilnahme", ["displayEmail"] = seat.Email },
            ["metadata"] = new JsonObject(),
        };
        if (seat.Phone is not null)
        {
            attendee["phoneNumber"] = seat.Phone;
        }

        return attendee;
    }

    /// <summary>
    /// One seat cancelled as Cal.com does it (<c>cancelAttendeeSeat</c>): the attendee row is deleted, so it just
    /// disappears from <c>attendees</c>, and the booking row, its <c>updatedAt</c> included, is not touched.
    /// </summary>
    public void CancelSeat(string uid, string email)
    {
        lock (_lock)
        {
            var booking = _bookings.Single(b => (string?)b["uid"] == uid);
            var attendees = booking["attendees"]!.AsArray();
            var seat = attendees.Single(a => string.Equals((string?)a!["email"], email, StringComparison.OrdinalIgnoreCase));
            attendees.Remove(seat);
        }
    }

    /// <summary>A seat booked into an existing slot: one more attendee (<c>createNewSeat</c>).</summary>
    public void AddSeat(string uid, Seat seat)
    {
        lock (_lock)
        {
            _bookings.Single(b => (string?)b["uid"] == uid)["attendees"]!.AsArray().Add(SeatAttendee(seat));
        }
    }

    public static string Iso(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private async Task<bool> ApplyFaultAsync(HttpContext c)
    {
        _requests.Enqueue(c.Request.Path + c.Request.QueryString);
        var bearer = c.Request.Headers.Authorization.ToString();
        _keyedRequests.Enqueue((bearer.StartsWith("Bearer ", StringComparison.Ordinal) ? bearer["Bearer ".Length..] : "", c.Request.Path + c.Request.QueryString));
        LastHeaders = (c.Request.Headers["cal-api-version"].ToString(), c.Request.Headers.Authorization.ToString());
        if (!_faults.TryDequeue(out var fault))
        {
            return false;
        }

        if (fault.Delay > TimeSpan.Zero)
        {
            await Task.Delay(fault.Delay, c.RequestAborted);
        }

        if (fault.Status == 200)
        {
            return false; // slow, then the normal answer
        }

        if (fault.ResetSeconds >= 0)
        {
            c.Response.Headers["X-RateLimit-Limit-Default"] = "120";
            c.Response.Headers["X-RateLimit-Remaining-Default"] = "0";
            c.Response.Headers["X-RateLimit-Reset-Default"] = fault.ResetSeconds.ToString(CultureInfo.InvariantCulture);
        }

        await WriteErrorAsync(c, fault.Status, fault.Code, fault.Status == 429 ? "CustomThrottlerGuard - Too many requests. Please try again later." : "There was an error.");
        return true;
    }

    private static Task WriteErrorAsync(HttpContext c, int status, string code, string message)
    {
        c.Response.StatusCode = status;
        c.Response.Headers["X-Request-Id"] = Guid.NewGuid().ToString();
        return c.Response.WriteAsJsonAsync(new JsonObject
        {
            ["status"] = "error",
            ["timestamp"] = Iso(DateTimeOffset.UtcNow),
            ["path"] = c.Request.Path + c.Request.QueryString,
            ["error"] = new JsonObject { ["code"] = code, ["message"] = message, ["details"] = message },
        });
    }

    /// <summary>The bookings the request's key sees (the default account's without a key, where that is allowed), or null once an error is written.</summary>
    private async Task<List<JsonObject>?> AuthorisedAsync(HttpContext c, bool optional)
    {
        var auth = c.Request.Headers.Authorization.ToString();
        if (auth.Length == 0 && optional)
        {
            return _bookings;
        }

        if (auth.Length == 0)
        {
            await WriteErrorAsync(c, 403, "ForbiddenException", "PermissionsGuard - no authentication provided");
            return null;
        }

        List<JsonObject>? account = null;
        lock (_lock)
        {
            if (auth.StartsWith("Bearer ", StringComparison.Ordinal) && !_refused.ContainsKey(auth["Bearer ".Length..]))
            {
                account = _accounts.GetValueOrDefault(auth["Bearer ".Length..]);
            }
        }

        if (account is null)
        {
            await WriteErrorAsync(c, 401, "UnauthorizedException", "ApiAuthStrategy - api key - Your api key is not valid");
            return null;
        }

        return account;
    }

    private async Task ListAsync(HttpContext c)
    {
        if (await ApplyFaultAsync(c) || await AuthorisedAsync(c, optional: false) is not { } account)
        {
            return;
        }

        var q = c.Request.Query;
        List<JsonObject> all;
        lock (_lock)
        {
            all = [.. account.Select(b => (JsonObject)b.DeepClone())];
        }

        if (c.Request.Headers["cal-api-version"] != "2024-08-13")
        {
            // Unknown or missing version: the legacy 2024-04-15 controller answers in its own shape.
            await c.Response.WriteAsJsonAsync(new JsonObject { ["status"] = "success", ["data"] = new JsonObject { ["bookings"] = new JsonArray(), ["totalCount"] = all.Count, ["nextCursor"] = null } });
            return;
        }

        var take = q.TryGetValue("take", out var t) ? int.Parse(t!, CultureInfo.InvariantCulture) : 100;
        var skip = q.TryGetValue("skip", out var s) ? int.Parse(s!, CultureInfo.InvariantCulture) : 0;
        if (take is < 1 or > 250 || skip < 0)
        {
            await WriteErrorAsync(c, 400, "BadRequestException", "take must not be greater than 250");
            return;
        }

        IEnumerable<JsonObject> set = all;
        if (q.TryGetValue("teamsIds", out var teamsIds))
        {
            // Event types of those teams only (children of managed types are not modelled here).
            var teams = teamsIds.ToString().Split(',').Select(t => long.Parse(t, CultureInfo.InvariantCulture)).ToHashSet();
            set = set.Where(b => b["eventType"]?["id"] is { } id && _teams.TryGetValue((long)id, out var team) && teams.Contains(team));
        }

        if (Time(q, "afterStart") is { } afterStart)
        {
            set = set.Where(b => At(b, "start") >= afterStart);
        }

        if (Time(q, "beforeEnd") is { } beforeEnd)
        {
            set = set.Where(b => At(b, "end") <= beforeEnd);
        }

        // Cal.com's count is taken here, before the updatedAt/createdAt filters.
        var totalCount = set.Count();
        if (Time(q, "afterUpdatedAt") is { } afterUpdated)
        {
            set = set.Where(b => b["updatedAt"] is not null && At(b, "updatedAt") >= afterUpdated);
        }

        if (Time(q, "beforeUpdatedAt") is { } beforeUpdated)
        {
            set = set.Where(b => b["updatedAt"] is not null && At(b, "updatedAt") <= beforeUpdated);
        }

        // One sort key, by precedence start > end > created > updated, and no tie-breaker: ties come in storage order.
        var key = q.ContainsKey("sortStart") ? "start" : q.ContainsKey("sortEnd") ? "end" : q.ContainsKey("sortCreated") ? "createdAt" : q.ContainsKey("sortUpdatedAt") ? "updatedAt" : "start";
        var desc = q.TryGetValue(key switch { "start" => "sortStart", "end" => "sortEnd", "createdAt" => "sortCreated", _ => "sortUpdatedAt" }, out var dir) && dir == "desc";
        var ordered = (desc ? set.OrderByDescending(b => At(b, key)) : set.OrderBy(b => At(b, key))).ToList();
        var page = ordered.Skip(skip).Take(take).ToList();
        var totalPages = (int)Math.Ceiling(totalCount / (double)take);
        var currentPage = (skip / take) + 1;
        await c.Response.WriteAsJsonAsync(new JsonObject
        {
            ["status"] = "success",
            ["data"] = new JsonArray([.. page]),
            ["pagination"] = new JsonObject
            {
                ["returnedItems"] = Math.Max(0, Math.Min(take, totalCount - skip)),
                ["totalItems"] = totalCount,
                ["itemsPerPage"] = take,
                ["remainingItems"] = Math.Max(0, totalCount - skip - take),
                ["currentPage"] = currentPage,
                ["totalPages"] = totalPages,
                ["hasNextPage"] = currentPage < totalPages,
                ["hasPreviousPage"] = skip > 0,
            },
        });
    }

    private async Task GetAsync(HttpContext c, string uid)
    {
        if (await ApplyFaultAsync(c) || await AuthorisedAsync(c, optional: true) is not { } account)
        {
            return;
        }

        List<JsonObject> matches;
        lock (_lock)
        {
            var recurring = account.Where(b => (string?)b["recurringBookingUid"] == uid).OrderBy(b => At(b, "start")).ToList();
            matches = recurring.Count > 0 ? recurring : account.Where(b => (string?)b["uid"] == uid).ToList();
            matches = [.. matches.Select(b => (JsonObject)b.DeepClone())];
        }

        if (matches.Count == 0)
        {
            await WriteErrorAsync(c, 404, "NotFoundException", $"Booking with uid={uid} was not found in the database");
            return;
        }

        JsonNode data = matches.Count == 1 && (string?)matches[0]["uid"] == uid ? matches[0] : new JsonArray([.. matches]);
        await c.Response.WriteAsJsonAsync(new JsonObject { ["status"] = "success", ["data"] = data });
    }

    private static DateTimeOffset? Time(IQueryCollection q, string name) =>
        q.TryGetValue(name, out var v) ? DateTimeOffset.Parse(v!, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal) : null;

    private static DateTimeOffset At(JsonObject b, string name) =>
        DateTimeOffset.Parse((string)b[name]!, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
