namespace AskPro.Functions.Calcom;

/// <summary>
/// Which body field becomes which <see cref="BookingEvent"/> property, for every applied trigger: the trigger's
/// <see cref="TriggerCatalogue"/> row says where its uid is and how its no-show marks read; every other field is
/// optional (Cal.com omits undefined ones) and a wrongly typed one is reported by its JSON path.
/// </summary>
internal static class BookingEventMapping
{
    /// <summary>The event <paramref name="b"/> (the <c>payload</c>, or a flat row) describes; null when it names no usable uid.</summary>
    public static BookingEvent? Map(TriggerInfo trigger, DateTimeOffset? createdAt, JsonFields b)
    {
        var errors = b.Errors;
        var p = b.Path;
        var flat = trigger.Has(TriggerFlags.MayBeFlat);

        // Triggers that name their booking bookingUid are read by uid only when that is absent, and when both are
        // missing the error names the field Cal.com sends.
        var uidField = trigger.UidField != "uid" && (b.Has(trigger.UidField) || !b.Has("uid")) ? trigger.UidField : "uid";
        var uid = b.Uid(uidField);
        if (uid is null && !errors.Exists(e => e.StartsWith(p + uidField, StringComparison.Ordinal)))
        {
            errors.Add($"{p}{uidField} is required for {trigger.Name}");
        }

        var rescheduleUid = b.Uid("rescheduleUid");
        var start = b.Time("startTime");
        var end = b.Time("endTime");
        if (start is { } s && end is { } e && e < s)
        {
            errors.Add($"{p}endTime must not be before {p}startTime");
        }

        var rescheduleStart = b.Time("rescheduleStartTime");
        var rescheduleEnd = b.Time("rescheduleEndTime");
        var confirmedAt = b.Time("confirmedAt");
        var status = b.String("status");
        var title = b.String("title");
        // A flat booking row's own id is the booking id.
        var bookingId = b.Id(flat ? "id" : "bookingId") ?? b.Id("bookingId");
        var eventTypeId = b.Id("eventTypeId");
        var attendeeArray = b.Array("attendees");
        var organizerFields = b.Object("organizer", p + "organizer.") ?? b.Object("user", p + "organizer.");
        var responses = b.Object("responses")?.Element;
        var metadata = b.Object("metadata");

        var (attendees, firstAttendee, noShow) = Attendees(trigger, b, attendeeArray);
        var answers = new FormAnswers(responses);
        var customer = Customer(answers, firstAttendee);
        Person? organizer = null;
        long? organizerId = null;
        if (organizerFields is { } o)
        {
            organizer = new Person(o.String("name"), o.String("email"), null);
            organizerId = o.Id("id");
        }
        else if (b.String("userPrimaryEmail") is { } primaryEmail)
        {
            organizer = new Person(null, primaryEmail, null);
        }

        // Flat booking rows name the host userId (the user id) next to user.email (the account address).
        organizerId ??= b.Id("userId");
        string? askProId = null, companyId = null, source = null;
        if (metadata is { } m)
        {
            askProId = m.Scalar("askpro_appointment_id");
            companyId = m.Scalar("askpro_company_id") ?? m.Scalar("company_id");
            source = m.Scalar("source");
        }

        var location = b.String("location") ?? answers.Text("location")
            ?? (trigger.Name == CalcomTriggers.BookingLocationUpdated ? b.OptionalText("updatedLocation") : null);
        var notes = answers.Text("notes") ?? b.String("additionalNotes");
        var timeZone = firstAttendee?.String("timeZone");

        var result = new BookingEvent
        {
            TriggerEvent = trigger.Name,
            Uid = uid ?? "",
            RescheduleUid = rescheduleUid,
            CreatedAt = createdAt,
            Status = status,
            BookingId = bookingId,
            EventTypeId = eventTypeId,
            Title = title,
            StartTime = start,
            EndTime = end,
            RescheduleStartTime = rescheduleStart,
            RescheduleEndTime = rescheduleEnd,
            ConfirmedAt = confirmedAt,
            TimeZone = timeZone,
            Customer = customer,
            Organizer = organizer,
            Location = JsonFields.NullIfEmpty(location),
            Notes = JsonFields.NullIfEmpty(notes),
            Source = JsonFields.NullIfEmpty(source),
            AskProAppointmentId = JsonFields.NullIfEmpty(askProId),
            CompanyId = JsonFields.NullIfEmpty(companyId),
            HasMetadata = metadata is not null,
            CancellationReason = b.Text("cancellationReason"),
            CancelledBy = b.Text("cancelledBy"),
            RequestReschedule = b.Bool("requestReschedule") ?? false,
            RejectionReason = b.Text("rejectionReason"),
            RescheduleReason = JsonFields.NullIfEmpty(answers.Text("rescheduleReason") ?? b.String("reschedulingReason")),
            RescheduledBy = b.Text("rescheduledBy"),
            NoShowAttendees = noShow,
            // Flat MEETING_* rows carry noShowHost as it was when the job was scheduled: it says nothing, so it is not read.
            NoShowHost = flat ? null
                : b.Bool("noShowHost") ?? (trigger.Has(TriggerFlags.HostNoShowMark | TriggerFlags.NoShowByDefault) ? true : null),
            OrganizerId = organizerId,
            Attendees = attendees is { Count: > 0 } ? attendees : null,
            SeatsPerTimeSlot = b.Int("seatsPerTimeSlot"),
            AttendeeSeatId = b.Text("attendeeSeatId"),
            // Only the presence matters: "cancel all remaining" of a series carries it, and then more occurrences changed.
            IsRecurring = b.Object("recurringEvent") is null ? null : true,
            AddedHostUserIds = b.Ids("addedHostUserIds"),
            RemovedHostUserIds = b.Ids("removedHostUserIds"),
            // Cal.com's docs name previousLocation, one code copy updatedLocation: both accepted, neither relied on,
            // and a shape other than text is ignored rather than refused (a 4xx is final for Cal.com).
            PreviousLocation = JsonFields.NullIfEmpty(b.OptionalText("previousLocation")),
            HostEmail = b.Text("hostEmail"),
            Paid = b.Bool("paid"),
        };
        return uid is null ? null : result;
    }

    /// <summary>
    /// Every listed attendee (for a seated event type only the seat's own), the first one (whose fields stand for the
    /// customer, read under <c>attendees[0]</c>), and the no-show marks the trigger's row says the list carries.
    /// </summary>
    private static (List<Attendee>? All, JsonFields? First, List<NoShowMark> NoShow) Attendees(TriggerInfo trigger, JsonFields b, System.Text.Json.JsonElement? array)
    {
        var noShow = new List<NoShowMark>();
        if (array is not { } list)
        {
            return (null, null, noShow);
        }

        var all = new List<Attendee>();
        JsonFields? first = null;
        foreach (var a in b.Objects(list, "attendees"))
        {
            first ??= a with { Path = b.Path + "attendees[0]." };
            var email = a.Text("email");
            var flag = a.Bool("noShow");
            var seat = a.Object("bookingSeat")?.String("referenceUid");
            all.Add(new Attendee(a.Text("name"), email, a.Text("phoneNumber"), flag, JsonFields.NullIfEmpty(seat)));
            if (trigger.Has(TriggerFlags.GuestNoShowMarks))
            {
                // Cal Video names the guests who did not join: each of them is a no-show unless it says otherwise.
                if (trigger.Has(TriggerFlags.NoShowByDefault))
                {
                    noShow.Add(new NoShowMark(email, flag ?? true));
                }
                else if (flag is { } f)
                {
                    noShow.Add(new NoShowMark(email, f));
                }
            }
        }

        return (all, first, noShow);
    }

    /// <summary>The customer: the form's answers first, then the first attendee.</summary>
    private static Person? Customer(FormAnswers answers, JsonFields? attendee)
    {
        var name = answers.Text("name");
        var email = answers.Text("email");
        var phone = answers.Text("attendeePhoneNumber") ?? answers.Text("phone") ?? answers.Text("phoneNumber");
        if (attendee is { } a)
        {
            name ??= a.Text("name");
            email ??= a.Text("email");
            phone ??= a.Text("phoneNumber");
        }

        // Phone-only bookings carry a placeholder address (<digits>@sms.cal.com): not a way to reach anyone.
        if (email is not null && email.EndsWith("@sms.cal.com", StringComparison.OrdinalIgnoreCase))
        {
            phone ??= "+" + email[..email.IndexOf('@', StringComparison.Ordinal)];
            email = null;
        }

        return name is null && email is null && phone is null ? null : new Person(name, email, phone);
    }
}
