using AskPro.Functions.Tenants;

namespace AskPro.Functions.Reconciliation;

/// <summary>Why a booking the tenant's key can see is not the tenant's (a metric dimension; never an id).</summary>
public enum ScopeMiss
{
    None = 0,
    /// <summary>Its event type is not one of the tenant's <see cref="Tenant.EventTypeIds"/>.</summary>
    EventType,
    /// <summary>It names no event type (Cal.com nulls both fields when the event type is gone), and the tenant is scoped by event type.</summary>
    NoEventType,
    /// <summary>It names a team other than the tenant's <see cref="Tenant.TeamId"/>.</summary>
    Team,
}

/// <summary>
/// Pure: does a booking read from the API belong to the tenant (docs/reconciliation.md#per-tenant)? A key sees more
/// than its practice's bookings (bookings its user attends elsewhere, a stranger's invitation, every team it
/// administers), so a scoped tenant applies only what its scope proves. A tenant without a scope owns everything its
/// key sees, as the default tenant did before tenants.
/// </summary>
public static class TenantScope
{
    /// <summary>The event type id in either shape the API sends: <c>eventType.id</c>, or the deprecated <c>eventTypeId</c>.</summary>
    public static long? EventTypeOf(CalcomApiBooking booking)
    {
        ArgumentNullException.ThrowIfNull(booking);
        return booking.EventType?.Id ?? booking.EventTypeId;
    }

    /// <summary>The team, when the booking names one (<c>teamId</c> or <c>eventType.teamId</c>); 2024-08-13 names none.</summary>
    public static long? TeamOf(CalcomApiBooking booking)
    {
        ArgumentNullException.ThrowIfNull(booking);
        return booking.TeamId ?? booking.EventType?.TeamId;
    }

    /// <summary>
    /// <see cref="ScopeMiss.None"/> when the booking is the tenant's. With event type ids, its event type must be one
    /// of them. With a team, a booking that names another team is not; one that names none is taken on the word of the
    /// list query, which a team-scoped pass narrows to that team's event types (<c>teamsIds</c>,
    /// <see cref="BookingQuery.TeamId"/>).
    /// </summary>
    public static ScopeMiss Check(Tenant tenant, CalcomApiBooking booking)
    {
        ArgumentNullException.ThrowIfNull(tenant);
        ArgumentNullException.ThrowIfNull(booking);
        if (tenant.EventTypeIds.Count > 0)
        {
            if (EventTypeOf(booking) is not { } eventType)
            {
                return ScopeMiss.NoEventType;
            }

            if (!tenant.EventTypeIds.Contains(eventType))
            {
                return ScopeMiss.EventType;
            }
        }

        if (tenant.TeamId is { } team && TeamOf(booking) is { } named && named != team)
        {
            return ScopeMiss.Team;
        }

        return ScopeMiss.None;
    }

    /// <summary>The metric's reason dimension.</summary>
    public static string Reason(ScopeMiss miss) => miss switch
    {
        ScopeMiss.EventType => "event_type",
        ScopeMiss.NoEventType => "no_event_type",
        ScopeMiss.Team => "team",
        _ => "none",
    };
}
