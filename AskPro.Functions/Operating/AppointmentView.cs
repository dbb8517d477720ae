using System.Text.Json.Serialization;
using AskPro.Functions.Appointments;
using AskPro.Functions.Logging;
using AskPro.Functions.Tenants;

namespace AskPro.Functions.Operating;

/// <summary>
/// What <c>GET /api/appointments/{uid}</c> answers for one record. By default it holds no personal data (no names,
/// e-mails, phones, titles, notes, locations, reasons, and no booking uids, which are bearer tokens — only their
/// pseudonyms), so it can be pasted into a ticket; <c>?include=personal</c> adds them.
/// </summary>
public sealed record AppointmentView
{
    [JsonPropertyName("appointmentId")] public required string AppointmentId { get; init; }
    [JsonPropertyName("status")] public required string Status { get; init; }
    [JsonPropertyName("uidPseudonyms")] public required IReadOnlyList<string> UidPseudonyms { get; init; }
    [JsonPropertyName("currentUidPseudonym")] public required string CurrentUidPseudonym { get; init; }
    [JsonPropertyName("calcomBookingId")] public long? CalcomBookingId { get; init; }
    [JsonPropertyName("eventTypeId")] public long? EventTypeId { get; init; }
    [JsonPropertyName("startTime")] public DateTimeOffset? StartTime { get; init; }
    [JsonPropertyName("endTime")] public DateTimeOffset? EndTime { get; init; }
    [JsonPropertyName("timeZone")] public string? TimeZone { get; init; }
    [JsonPropertyName("previousStartTime")] public DateTimeOffset? PreviousStartTime { get; init; }
    [JsonPropertyName("rescheduleRequested")] public bool RescheduleRequested { get; init; }
    [JsonPropertyName("staffKey")] public string? StaffKey { get; init; }
    [JsonPropertyName("source")] public required string Source { get; init; }
    [JsonPropertyName("askProAppointmentId")] public string? AskProAppointmentId { get; init; }
    /// <summary>The tenant whose partition holds the record (docs/tenants.md#what-a-tenant-is).</summary>
    [JsonPropertyName("tenantId")] public string TenantId { get; init; } = TenantIds.Default;
    /// <summary>The record's company: the tenant's when it has one, else the company proven booking metadata names (as before tenants).</summary>
    [JsonPropertyName("companyId")] public string? CompanyId { get; init; }
    /// <summary>For a tenant with a company: the company the booking's metadata claimed (kept as a claim only), when it claimed one.</summary>
    [JsonPropertyName("claimedCompanyId"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? ClaimedCompanyId { get; init; }
    [JsonPropertyName("isInternal")] public bool IsInternal { get; init; }
    [JsonPropertyName("paymentStatus")] public string? PaymentStatus { get; init; }
    [JsonPropertyName("customerNoShow")] public bool? CustomerNoShow { get; init; }
    [JsonPropertyName("hostNoShow")] public bool? HostNoShow { get; init; }
    [JsonPropertyName("meetingEnded")] public bool MeetingEnded { get; init; }
    [JsonPropertyName("slotId"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? SlotId { get; init; }
    [JsonPropertyName("seatsPerTimeSlot"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public int? SeatsPerTimeSlot { get; init; }
    [JsonPropertyName("hasConflict")] public bool HasConflict { get; init; }
    [JsonPropertyName("conflictsWith")] public required IReadOnlyList<string> ConflictsWith { get; init; }
    [JsonPropertyName("lastEventAt")] public DateTimeOffset? LastEventAt { get; init; }
    [JsonPropertyName("lastTriggerEvent")] public string? LastTriggerEvent { get; init; }
    [JsonPropertyName("eventCount")] public int EventCount { get; init; }
    [JsonPropertyName("history")] public required IReadOnlyList<HistoryEntry> History { get; init; }
    [JsonPropertyName("personal"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public PersonalView? Personal { get; init; }

    /// <summary>The default tenant's view of a record, as before tenants.</summary>
    public static AppointmentView Of(StoredAppointment stored, IReadOnlyList<HistoryEntry> history, bool includePersonal) =>
        Of(stored, history, includePersonal, TenantRows.Default);

    /// <summary>
    /// The view of a record of <paramref name="tenant"/>: its company is named the way the store stamps record rows
    /// (<see cref="AppointmentWriter.Place"/>): the tenant's, with the metadata's company beside it as the claim.
    /// </summary>
    public static AppointmentView Of(StoredAppointment stored, IReadOnlyList<HistoryEntry> history, bool includePersonal, TenantRows tenant)
    {
        ArgumentNullException.ThrowIfNull(stored);
        ArgumentNullException.ThrowIfNull(tenant);
        var a = stored.Record;
        return new AppointmentView
        {
            AppointmentId = a.AppointmentId,
            Status = a.Status,
            UidPseudonyms = [.. a.CalcomUids.Select(UidPseudonym.Of)],
            CurrentUidPseudonym = UidPseudonym.Of(a.CalcomUid),
            CalcomBookingId = a.CalcomBookingId,
            EventTypeId = a.EventTypeId,
            StartTime = a.StartTime,
            EndTime = a.EndTime,
            TimeZone = a.TimeZone,
            PreviousStartTime = a.PreviousStartTime,
            RescheduleRequested = a.RescheduleRequested,
            StaffKey = a.StaffKey,
            Source = a.Source,
            AskProAppointmentId = a.AskProAppointmentId,
            TenantId = tenant.TenantId,
            CompanyId = tenant.CompanyId ?? a.CompanyId,
            ClaimedCompanyId = tenant.CompanyId is null ? null : a.CompanyId,
            IsInternal = a.IsInternal,
            PaymentStatus = a.PaymentStatus,
            CustomerNoShow = a.CustomerNoShow,
            HostNoShow = a.HostNoShow,
            MeetingEnded = a.MeetingEnded,
            SlotId = a.SlotId,
            SeatsPerTimeSlot = a.SeatsPerTimeSlot,
            HasConflict = stored.HasConflict,
            ConflictsWith = stored.ConflictsWith,
            LastEventAt = a.LastEventAt,
            LastTriggerEvent = a.LastTriggerEvent,
            EventCount = stored.Facts.Count,
            History = history,
            Personal = includePersonal ? new PersonalView
            {
                CalcomUid = a.CalcomUid,
                CalcomUids = a.CalcomUids,
                Title = a.Title,
                CustomerName = a.CustomerName,
                CustomerEmail = a.CustomerEmail,
                CustomerPhone = a.CustomerPhone,
                StaffName = a.StaffName,
                StaffEmail = a.StaffEmail,
                Location = a.Location,
                Notes = a.Notes,
                CancellationReason = a.CancellationReason,
                CancelledBy = a.CancelledBy,
                RejectionReason = a.RejectionReason,
                RescheduleReason = a.RescheduleReason,
                RescheduledBy = a.RescheduledBy,
            } : null,
        };
    }
}

/// <summary>The personal fields, only with <c>?include=personal</c>.</summary>
public sealed record PersonalView
{
    [JsonPropertyName("calcomUid")] public required string CalcomUid { get; init; }
    [JsonPropertyName("calcomUids")] public required IReadOnlyList<string> CalcomUids { get; init; }
    [JsonPropertyName("title")] public string? Title { get; init; }
    [JsonPropertyName("customerName")] public string? CustomerName { get; init; }
    [JsonPropertyName("customerEmail")] public string? CustomerEmail { get; init; }
    [JsonPropertyName("customerPhone")] public string? CustomerPhone { get; init; }
    [JsonPropertyName("staffName")] public string? StaffName { get; init; }
    [JsonPropertyName("staffEmail")] public string? StaffEmail { get; init; }
    [JsonPropertyName("location")] public string? Location { get; init; }
    [JsonPropertyName("notes")] public string? Notes { get; init; }
    [JsonPropertyName("cancellationReason")] public string? CancellationReason { get; init; }
    [JsonPropertyName("cancelledBy")] public string? CancelledBy { get; init; }
    [JsonPropertyName("rejectionReason")] public string? RejectionReason { get; init; }
    [JsonPropertyName("rescheduleReason")] public string? RescheduleReason { get; init; }
    [JsonPropertyName("rescheduledBy")] public string? RescheduledBy { get; init; }
}

public sealed record AppointmentLookupBody(
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("uidPseudonym")] string UidPseudonym,
    [property: JsonPropertyName("appointments")] IReadOnlyList<AppointmentView> Appointments)
{
    /// <summary>The tenant whose partition was read.</summary>
    [JsonPropertyName("tenant")]
    public string Tenant { get; init; } = TenantIds.Default;
}
