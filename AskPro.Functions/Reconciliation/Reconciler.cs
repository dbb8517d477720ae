using System.Globalization;
using AskPro.Functions.Appointments;
using AskPro.Functions.Calcom;
using AskPro.Functions.Logging;
using AskPro.Functions.Queueing;
using AskPro.Functions.Tenants;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AskPro.Functions.Reconciliation;

/// <summary>What one pass did (logged as one line, returned by the admin endpoint). Ids and counts only.</summary>
public sealed record PassSummary
{
    public required string PassId { get; init; }
    /// <summary><c>completed</c>, <c>cut</c> (its time budget ran out; the next pass resumes), <c>off</c> (no API key), <c>busy</c> (another pass holds the lease), <c>unauthorized</c>, <c>failed</c>.</summary>
    public required string Outcome { get; init; }
    public DateTimeOffset? WindowFrom { get; init; }
    public DateTimeOffset? WindowTo { get; init; }
    public bool Swept { get; init; }
    public int Seen { get; init; }
    public int Unchanged { get; init; }
    public int Missing { get; init; }
    public int Different { get; init; }
    public int Enqueued { get; init; }
    /// <summary>Drift the event path cannot repair (the snapshot's event is already in the record's facts).</summary>
    public int Unrepairable { get; init; }
    public int ApiCalls { get; init; }
    public double DurationMs { get; init; }
    /// <summary>How far the changed-since walk got (a <c>cut</c> on-demand pass continues from here).</summary>
    public DateTimeOffset? CoveredUpTo { get; init; }
    /// <summary>The tenant whose pass it was (docs/reconciliation.md#per-tenant).</summary>
    public string TenantId { get; init; } = TenantIds.Default;
    /// <summary>Bookings the key can see that are outside the tenant's scope: never applied, only counted.</summary>
    public int OutOfScope { get; init; }
    public int Drift => Missing + Different;
}

/// <summary>
/// One reconciliation pass: the bookings Cal.com changed since the checkpoint (and, once a day, every booking of the
/// sweep range, for what <c>updatedAt</c> misses), each compared with its record by point reads, and for every one
/// that is missing or differs a synthetic webhook queued on the webhook queue, through the same envelope and apply
/// path as a delivery. It never writes appointments. The checkpoint advances only past bookings whose events are
/// queued, one pass runs at a time (the lease), and overlapping windows are harmless because applying is idempotent.
/// Each tenant's pass is its own (docs/reconciliation.md#per-tenant): its key and base URL, its checkpoint and lease,
/// its partition, its scope; the default tenant's is the pass as it was before tenants.
/// </summary>
public sealed partial class Reconciler(
    CalcomApiClient api,
    ReconciliationState state,
    AppointmentTableStore store,
    WebhookQueue queue,
    ITenantDirectory tenants,
    IOptions<CalcomApiOptions> apiOptions,
    IOptions<ReconciliationOptions> options,
    TimeProvider time,
    AskPro.Functions.Telemetry.AskProMetrics metrics,
    ReconciliationMetrics scopeMetrics,
    ILogger<Reconciler> logger)
{
    /// <summary>The default tenant's pass over the changes since the checkpoint (plus the sweep when it is due).</summary>
    public Task<PassSummary> RunScheduledAsync(CancellationToken ct) => RunAsync(tenants.Default, null, null, ct);

    /// <summary><paramref name="tenant"/>'s pass over the changes since its checkpoint (plus its sweep when it is due).</summary>
    public Task<PassSummary> RunScheduledAsync(Tenant tenant, CancellationToken ct) => RunAsync(tenant, null, null, ct);

    /// <summary>The default tenant's pass over a window (see <see cref="RunAsync(Tenant, DateTimeOffset?, DateTimeOffset?, CancellationToken)"/>).</summary>
    public Task<PassSummary> RunAsync(DateTimeOffset? from, DateTimeOffset? to, CancellationToken ct) => RunAsync(tenants.Default, from, to, ct);

    /// <summary>
    /// A pass of <paramref name="tenant"/>. With <paramref name="from"/>/<paramref name="to"/> (the admin endpoint,
    /// e.g. after an outage) it covers the bookings changed in that window and leaves the checkpoint and the sweep alone.
    /// </summary>
    public async Task<PassSummary> RunAsync(Tenant tenant, DateTimeOffset? from, DateTimeOffset? to, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(tenant);
        using var scope = logger.BeginScope(new[] { new KeyValuePair<string, object?>("TenantId", tenant.Id) });
        var started = time.GetTimestamp();
        var now = time.GetUtcNow();
        var passId = "rec-" + now.UtcDateTime.ToString("yyyyMMdd'T'HHmmss", CultureInfo.InvariantCulture) + "-" + Guid.NewGuid().ToString("N")[..6];
        if (CalcomAccount.Of(tenant, apiOptions.Value) is not { } account)
        {
            if (tenant.IsDefault)
            {
                Log.Off(logger);
            }
            else
            {
                Log.TenantOff(logger, tenant.Id);
            }

            return new PassSummary { PassId = passId, Outcome = "off", TenantId = tenant.Id };
        }

        var o = options.Value;
        var tenantState = state.For(tenant.Rows);
        await using var lease = await tenantState.TryAcquireLeaseAsync(passId, o.LeaseDuration, ct);
        if (lease is null)
        {
            Log.Busy(logger, passId);
            return new PassSummary { PassId = passId, Outcome = "busy", TenantId = tenant.Id };
        }

        var client = api.For(account);
        var pass = new Pass(client, store, queue, tenant, scopeMetrics, logger, passId, now, o.Overlap);
        var manual = from is not null || to is not null;
        var checkpoint = await tenantState.ReadCheckpointAsync(ct);
        var windowFrom = from ?? (checkpoint.DeltaUpTo is { } d ? d - o.Overlap : now - o.InitialLookback);
        var windowTo = to ?? now;
        var sweep = !manual && (checkpoint.Sweep is not null || checkpoint.LastSweepAt is not { } s || now - s >= o.SweepEvery);
        var outcome = "completed";
        DateTimeOffset? coveredUpTo = null;
        // The budget decides when no new page starts; the grace cancels a page that hangs (a long 429 wait) after it.
        using var cut = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cut.CancelAfter(o.PassBudget + ReconciliationOptions.PageGrace);
        bool OverBudget() => time.GetElapsedTime(started) >= o.PassBudget;
        try
        {
            var feed = new CalcomBookingFeed(client, tenant.TeamId);
            await foreach (var chunk in feed.ChangedAsync(windowFrom, windowTo, cut.Token))
            {
                pass.ApiCalls++;
                await pass.HandleAsync(chunk.Bookings, cut.Token);
                await lease.RenewAsync(ct);
                coveredUpTo = chunk.CoveredUpTo ?? coveredUpTo;
                if (!manual && chunk.CoveredUpTo is { } covered)
                {
                    await tenantState.AdvanceDeltaAsync(covered, ct);
                }

                if (OverBudget() && chunk.CoveredUpTo < windowTo)
                {
                    outcome = "cut"; // the delta checkpoint stands where this chunk left it
                    break;
                }
            }

            if (sweep)
            {
                outcome = await SweepAsync(client, tenant, tenantState, pass, checkpoint.Sweep, now, lease, OverBudget, cut.Token, ct) ? outcome : "cut";
            }
        }
        catch (OperationCanceledException) when (cut.IsCancellationRequested && !ct.IsCancellationRequested)
        {
            outcome = "cut";
        }
        catch (CalcomApiException ex) when (ex.IsAuthFailure)
        {
            // Only this tenant's pass stops: the fan-out ran every other tenant's pass from its own message.
            outcome = "unauthorized";
            Log.Unauthorized(logger, passId, ex.Status, ex.ErrorCode ?? "none", tenant.Id, account.KeySetting);
        }
        catch (Exception ex) when (ex is CalcomApiException or ReconciliationLeaseLostException)
        {
            // The checkpoint stands where the last fully queued chunk left it: the next pass resumes there.
            outcome = "failed";
            Log.Failed(logger, passId, ex.GetType().Name, (ex as CalcomApiException)?.Status ?? 0);
        }

        if (outcome == "cut")
        {
            Log.Cut(logger, passId, o.PassBudget.TotalSeconds);
        }

        var summary = pass.Summary(outcome, windowFrom, windowTo, sweep && outcome == "completed", time.GetElapsedTime(started).TotalMilliseconds);
        return Report(summary with { CoveredUpTo = coveredUpTo }, manual ? "on_demand" : "scheduled");
    }

    /// <summary>Runs <paramref name="tenantId"/>'s pass: unknown or disabled tenants (gone since the fan-out) are skipped, null.</summary>
    public async Task<PassSummary?> RunScheduledAsync(string tenantId, CancellationToken ct)
    {
        if (await tenants.FindAsync(tenantId, ct) is not { } tenant)
        {
            Log.TenantGone(logger, tenantId);
            return null;
        }

        return await RunScheduledAsync(tenant, ct);
    }

    /// <summary>
    /// The sweep by start time, resumed from <paramref name="progress"/> when a pass cut it: its range stays the one of
    /// the pass that began it, its position is saved after every page, and it is marked done only when it reached the
    /// end. Reads at least one page; returns false when the budget cut it.
    /// </summary>
    private async Task<bool> SweepAsync(CalcomApiClient client, Tenant tenant, ReconciliationState tenantState, Pass pass, SweepProgress? progress, DateTimeOffset now,
        ReconciliationLease lease, Func<bool> overBudget, CancellationToken cut, CancellationToken ct)
    {
        var o = options.Value;
        var startedAt = progress?.StartedAt ?? now;
        var feed = new CalcomBookingFeed(client, tenant.TeamId);
        await foreach (var chunk in feed.ByStartAsync(startedAt - o.SweepPast, startedAt + o.SweepFuture, progress?.Position, cut))
        {
            pass.ApiCalls++;
            await pass.HandleAsync(chunk.Bookings, cut);
            await lease.RenewAsync(ct);
            if (chunk.Next is not { } next)
            {
                break;
            }

            await tenantState.SaveSweepAsync(startedAt, next, ct);
            if (overBudget())
            {
                return false;
            }
        }

        await tenantState.MarkSweepAsync(startedAt, ct);
        return true;
    }

    /// <summary>
    /// Repairs exactly these bookings (the series follow-up: every occurrence of a series one webhook changed): the same
    /// comparison and synthetic events as a pass, without the lease or the checkpoint.
    /// </summary>
    public Task<PassSummary> RepairAsync(IReadOnlyList<CalcomApiBooking> bookings, string passId, int apiCalls, CancellationToken ct) =>
        RepairAsync(tenants.Default, api, bookings, passId, apiCalls, ct);

    /// <summary>As <see cref="RepairAsync(IReadOnlyList{CalcomApiBooking}, string, int, CancellationToken)"/>, for <paramref name="tenant"/>: its partition and scope, reading with <paramref name="client"/>.</summary>
    public async Task<PassSummary> RepairAsync(Tenant tenant, CalcomApiClient client, IReadOnlyList<CalcomApiBooking> bookings, string passId, int apiCalls, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(tenant);
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(bookings);
        using var scope = logger.BeginScope(new[] { new KeyValuePair<string, object?>("TenantId", tenant.Id) });
        var started = time.GetTimestamp();
        var pass = new Pass(client, store, queue, tenant, scopeMetrics, logger, passId, time.GetUtcNow(), options.Value.Overlap) { ApiCalls = apiCalls };
        await pass.HandleAsync(bookings, ct);
        return Report(pass.Summary("completed", null, null, false, time.GetElapsedTime(started).TotalMilliseconds), "series");
    }

    /// <summary>The one summary line and drift metric (with the tenant's dimension) every pass ends with.</summary>
    private PassSummary Report(PassSummary summary, string passKind)
    {
        metrics.Drift(summary.Drift, passKind, summary.TenantId);
        Log.Summary(logger, summary.PassId, summary.Outcome, summary.WindowFrom, summary.WindowTo, summary.Swept, summary.Seen, summary.Unchanged,
            summary.Missing, summary.Different, summary.Enqueued, summary.Unrepairable, summary.ApiCalls, summary.DurationMs);
        return summary;
    }

    /// <summary>
    /// The counting and the per-booking work of one pass. <paramref name="margin"/> is how stale the API's answer may be
    /// (replica lag, clocks): a seat change the record learnt less than that before the pass is not second-guessed.
    /// </summary>
    private sealed class Pass(CalcomApiClient api, AppointmentTableStore store, WebhookQueue queue, Tenant tenant, ReconciliationMetrics scopeMetrics, ILogger logger,
        string passId, DateTimeOffset now, TimeSpan margin)
    {
        private readonly HashSet<(string Uid, DateTimeOffset? UpdatedAt)> _seen = [];
        private readonly Dictionary<string, CalcomApiBooking> _known = new(StringComparer.Ordinal);
        private readonly TenantRows _rows = tenant.Rows;
        private int _unchanged, _missing, _different, _enqueued, _unrepairable, _outOfScope;

        public int ApiCalls { get; set; }

        public async Task HandleAsync(IReadOnlyList<CalcomApiBooking> bookings, CancellationToken ct)
        {
            foreach (var b in bookings)
            {
                if (b.Uid is { Length: > 0 } uid)
                {
                    _known[uid] = b;
                }
            }

            foreach (var b in bookings)
            {
                // Windows overlap by an instant and sweeps repeat the delta: each state of a booking is handled once.
                if (b.Uid is { Length: > 0 } uid && _seen.Add((uid, b.UpdatedAt)) && InScope(b))
                {
                    await HandleAsync(b, ct);
                }
            }
        }

        /// <summary>
        /// True when the booking is the tenant's; otherwise counted (metric, with the reason) and logged by pseudonym,
        /// never applied (docs/reconciliation.md#per-tenant). A tenant without a scope owns all its key sees.
        /// </summary>
        private bool InScope(CalcomApiBooking booking)
        {
            var miss = tenant.HasScope ? TenantScope.Check(tenant, booking) : ScopeMiss.None;
            if (miss == ScopeMiss.None)
            {
                return true;
            }

            _outOfScope++;
            scopeMetrics.OutOfScope(tenant.Id, TenantScope.Reason(miss));
            Log.OutOfScope(logger, passId, tenant.Id, UidPseudonym.Of(booking.Uid!), TenantScope.Reason(miss));
            return false;
        }

        /// <summary>Queues a synthetic event as the tenant's delivery, so it is applied to the tenant's partition (the default tenant's envelope names none, as before).</summary>
        private Task EnqueueAsync(byte[] body, BookingEvent e, CancellationToken ct) =>
            queue.EnqueueAsync(body, e.TriggerEvent, e.Uid, e.RescheduleUid, now,
                tenant.IsDefault ? null : new ReceivedDelivery(WebhookQueue.DeliveryIdOf(body), null) { Tenant = tenant.Id }, ct);

        private async Task HandleAsync(CalcomApiBooking booking, CancellationToken ct)
        {
            var uid = booking.Uid!;
            var stored = await store.FindByUidAsync(_rows, uid, ct);
            // Erasure hook: a booking erased here stays erased, whatever Cal.com still lists (one read, only when no record).
            if (stored is null && await store.ErasedAtAsync(_rows, uid, ct) is not null)
            {
                Operating.ErasureLog.SkippedByReconciliation(logger, passId, UidPseudonym.Of(uid));
                return;
            }

            if (booking.IsSeated || stored?.IsSeated == true)
            {
                await HandleSeatedAsync(booking, stored, ct);
                return;
            }

            var drift = BookingDrift.Compare(booking, stored?.Record);
            if (drift.Kind == DriftKind.Unchanged)
            {
                _unchanged++;
                return;
            }

            Count(drift);
            var bodies = new List<byte[]>();
            var trigger = SyntheticWebhook.TriggerFor(booking);
            // The link this row carries to the booking it replaced, when the record lacks it. A cancelled or rejected
            // row (and a superseded one, itself replaced again) states its status with an event that carries no link,
            // so the link travels as its own reschedule event (its status rank is below a cancel's: it revives nothing).
            if (booking.RescheduledFromUid is { } from && (stored is null || !BookingDrift.HasLink(stored.Record, from, uid))
                && (trigger is null || !TriggerCatalogue.Of(trigger).Has(TriggerFlags.MayLink)))
            {
                bodies.Add(SyntheticWebhook.Body(booking, CalcomTriggers.BookingRescheduled, passId, now, await FindAsync(from, ct)));
            }

            if (trigger is not null)
            {
                var replaced = booking.RescheduledFromUid is { } previous ? await FindAsync(previous, ct) : null;
                bodies.Add(SyntheticWebhook.Body(booking, trigger, passId, now, replaced));
            }
            else if (booking.RescheduledToUid is { } next && await FindAsync(next, ct) is { } replacement && _seen.Add((next, replacement.UpdatedAt)) && InScope(replacement))
            {
                // Superseded by a reschedule outside this window: the booking that replaced it carries the repair.
                await HandleAsync(replacement, ct);
            }

            var queued = 0;
            foreach (var body in bodies)
            {
                var e = CalcomWebhookReader.Read(body).Event;
                if (e is null || (stored is not null && stored.Facts.Contains(e)))
                {
                    continue; // already in the record's facts: queuing it again would change nothing, pass after pass
                }

                await EnqueueAsync(body, e, ct);
                queued++;
                Log.Enqueued(logger, passId, UidPseudonym.Of(e.Uid), stored?.Record.AppointmentId, drift.Kind, string.Join(',', drift.Fields), e.TriggerEvent);
            }

            _enqueued += queued;
            if (queued == 0 && bodies.Count > 0)
            {
                // The record holds these very snapshots and still differs (e.g. Cal.com shows accepted a booking a webhook
                // cancelled, which no event can revive): counted and logged, not queued again.
                _unrepairable++;
                Log.Unrepairable(logger, passId, UidPseudonym.Of(uid), string.Join(',', drift.Fields));
            }
        }

        /// <summary>A seated booking: compared seat by seat (<see cref="SeatDrift"/>), each repair one seated event.</summary>
        private async Task HandleSeatedAsync(CalcomApiBooking booking, StoredAppointment? stored, CancellationToken ct)
        {
            var uid = booking.Uid!;
            var seats = (stored?.Seats ?? []).Select(s => s.Record).ToList();
            var facts = stored?.Facts ?? BookingFacts.Empty;
            if (booking.RescheduledFromUid is { } from && from != uid && stored?.Uids.Contains(from) != true
                && await store.FindByUidAsync(_rows, from, ct) is { } earlier)
            {
                // The slot a seat moved from, when the record does not link it yet: a seat still there moves, not doubles.
                seats.AddRange(earlier.Seats.Select(s => s.Record).Where(s => seats.TrueForAll(k => k.AppointmentId != s.AppointmentId)));
            }

            var comparison = SeatDrift.Compare(booking, seats, facts, now, margin);
            if (comparison.Drift.Kind == DriftKind.Unchanged)
            {
                _unchanged++;
                return;
            }

            Count(comparison.Drift);
            if (comparison.Deferred > 0)
            {
                Log.SeatDeferred(logger, passId, UidPseudonym.Of(uid), comparison.Deferred);
            }

            var queued = 0;
            foreach (var repair in comparison.Repairs)
            {
                var body = SyntheticWebhook.SeatBody(booking, repair.Trigger, repair.Attendees, comparison.SeatsPerTimeSlot, repair.CreatedAt, passId, repair.RescheduleUid);
                var e = CalcomWebhookReader.Read(body).Event;
                if (e is null || facts.Contains(e))
                {
                    continue;
                }

                await EnqueueAsync(body, e, ct);
                queued++;
                Log.Enqueued(logger, passId, UidPseudonym.Of(e.Uid), repair.AppointmentId ?? AppointmentProjection.AppointmentIdOf(uid), comparison.Drift.Kind, repair.Field, e.TriggerEvent);
            }

            _enqueued += queued;
            if (queued == 0 && comparison.Repairs.Count > 0)
            {
                _unrepairable++;
                Log.Unrepairable(logger, passId, UidPseudonym.Of(uid), string.Join(',', comparison.Drift.Fields));
            }
        }

        private void Count(Drift drift)
        {
            if (drift.Kind == DriftKind.Missing)
            {
                _missing++;
            }
            else
            {
                _different++;
            }
        }

        private async Task<CalcomApiBooking?> FindAsync(string uid, CancellationToken ct)
        {
            if (_known.TryGetValue(uid, out var known))
            {
                return known;
            }

            ApiCalls++;
            var found = (await api.GetAsync(uid, ct)).FirstOrDefault(b => b.Uid == uid);
            if (found is not null)
            {
                _known[uid] = found;
            }

            return found;
        }

        public PassSummary Summary(string outcome, DateTimeOffset? from, DateTimeOffset? to, bool swept, double durationMs) => new()
        {
            PassId = passId,
            Outcome = outcome,
            WindowFrom = from,
            WindowTo = to,
            Swept = swept,
            Seen = _seen.Count,
            Unchanged = _unchanged,
            Missing = _missing,
            Different = _different,
            Enqueued = _enqueued,
            Unrepairable = _unrepairable,
            ApiCalls = ApiCalls,
            DurationMs = durationMs,
            TenantId = tenant.Id,
            OutOfScope = _outOfScope,
        };
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 5000, Level = LogLevel.Information,
            Message = "Reconciliation pass {PassId}: {Outcome}, window {WindowFrom:o}..{WindowTo:o}, sweep {Swept}; seen {Seen}, unchanged {Unchanged}, missing {Missing}, different {Different}, enqueued {Enqueued}, unrepairable {Unrepairable}; {ApiCalls} API calls in {DurationMs:F0} ms")]
        public static partial void Summary(ILogger logger, string passId, string outcome, DateTimeOffset? windowFrom, DateTimeOffset? windowTo, bool swept,
            int seen, int unchanged, int missing, int different, int enqueued, int unrepairable, int apiCalls, double durationMs);

        [LoggerMessage(EventId = 5001, Level = LogLevel.Information,
            Message = "Reconciliation pass {PassId}: {UidPseudonym} (appointment {AppointmentId}) {DriftKind} in {DriftFields}: queued a synthetic {TriggerEvent}")]
        public static partial void Enqueued(ILogger logger, string passId, string uidPseudonym, string? appointmentId, DriftKind driftKind, string driftFields, string triggerEvent);

        [LoggerMessage(EventId = 5002, Level = LogLevel.Warning,
            Message = "Reconciliation pass {PassId}: {UidPseudonym} differs in {DriftFields} and an event cannot repair it (its snapshot is already applied)")]
        public static partial void Unrepairable(ILogger logger, string passId, string uidPseudonym, string driftFields);

        [LoggerMessage(EventId = 5003, Level = LogLevel.Error,
            Message = "Reconciliation pass {PassId} of tenant {TenantId} stopped: the Cal.com API refused the key ({Status}, {ErrorCode}). Set {Setting} to a valid API key; the checkpoint is unchanged, the other tenants' passes go on")]
        public static partial void Unauthorized(ILogger logger, string passId, int status, string errorCode, string tenantId, string setting);

        [LoggerMessage(EventId = 5004, Level = LogLevel.Error,
            Message = "Reconciliation pass {PassId} stopped early ({ExceptionType}, status {Status}); the next pass resumes from the checkpoint")]
        public static partial void Failed(ILogger logger, string passId, string exceptionType, int status);

        [LoggerMessage(EventId = 5005, Level = LogLevel.Information, Message = "Reconciliation pass {PassId} skipped: another pass holds the lease")]
        public static partial void Busy(ILogger logger, string passId);

        [LoggerMessage(EventId = 5007, Level = LogLevel.Information,
            Message = "Reconciliation pass {PassId}: {UidPseudonym} has {Deferred} seat change(s) the record learnt too recently to compare with this read; a later pass repairs them")]
        public static partial void SeatDeferred(ILogger logger, string passId, string uidPseudonym, int deferred);

        [LoggerMessage(EventId = 5100, Level = LogLevel.Information,
            Message = "Reconciliation pass {PassId} used its {BudgetSeconds:F0} s budget: it stopped after a page whose progress is saved; the next pass resumes there")]
        public static partial void Cut(ILogger logger, string passId, double budgetSeconds);

        [LoggerMessage(EventId = 5006, Level = LogLevel.Information, Message = "Reconciliation is off: Calcom__ApiKey is not set")]
        public static partial void Off(ILogger logger);

        [LoggerMessage(EventId = 8100, Level = LogLevel.Information, Message = "Reconciliation of tenant {TenantId} is off: it has no usable Cal.com API key")]
        public static partial void TenantOff(ILogger logger, string tenantId);

        [LoggerMessage(EventId = 8101, Level = LogLevel.Information,
            Message = "Reconciliation pass {PassId} of tenant {TenantId}: {UidPseudonym} is outside the tenant's scope ({Reason}) and is not applied")]
        public static partial void OutOfScope(ILogger logger, string passId, string tenantId, string uidPseudonym, string reason);

        [LoggerMessage(EventId = 8102, Level = LogLevel.Warning, Message = "Reconciliation of tenant {TenantId} skipped: the tenant is unknown or disabled now")]
        public static partial void TenantGone(ILogger logger, string tenantId);
    }
}
