using AskPro.Functions.Appointments;
using Azure;
using Azure.Data.Tables;
using static AskPro.Functions.Tests.Appointments.ExampleBodies;
using E = AskPro.Functions.Appointments.AppointmentEntities;

namespace AskPro.Functions.Tests.Appointments;

/// <summary>The writer's plan, pure: which rows an applied event writes, under which ETag, in which transaction.</summary>
public sealed class AppointmentWriterTests
{
    private static readonly DateTimeOffset Now = new(2026, 1, 27, 8, 0, 0, TimeSpan.Zero);
    private const string WebUid = "k3VbP9qWm2xYc7RtL5nD8a";

    private static Dictionary<string, TableTransactionAction> ByRow(IEnumerable<TableTransactionAction> actions) =>
        actions.ToDictionary(a => a.Entity.RowKey, StringComparer.Ordinal);

    [Fact]
    public void A_new_record_adds_its_uid_row_and_calendar_and_upserts_its_record_row_in_one_transaction()
    {
        var result = new AppointmentBook().Apply(Read(CalcomExample("booking_created_web")));

        var plan = AppointmentWriter.Plan(result, null, new RowsRead(), Now);

        var only = ByRow(Assert.Single(plan.Transactions));
        var staffKey = result.Record!.Record.StaffKey!;
        Assert.Contains(E.AppointmentKey(result.AppointmentId), only.Keys);
        Assert.Contains(E.UidKey(WebUid), only.Keys);
        Assert.Contains(E.StaffRowKey(staffKey), only.Keys);
        Assert.Equal(TableTransactionActionType.Add, only[E.UidKey(WebUid)].ActionType); // a uid row read as absent is added: a racing create fails
        Assert.Equal(TableTransactionActionType.Add, only[E.StaffRowKey(staffKey)].ActionType);
        Assert.Equal(TableTransactionActionType.UpsertReplace, only[E.AppointmentKey(result.AppointmentId)].ActionType); // follows the uid row's guard
        Assert.Empty(plan.Degraded);
    }

    [Fact]
    public void Rows_read_are_replaced_under_their_ETag_and_rows_of_a_record_read_through_another_follow_it()
    {
        var created = new AppointmentBook().Apply(Read(CalcomExample("booking_created_web")));
        var stored = created.Record!;
        var uidRow = E.ToEntity(E.UidKey(WebUid), stored, stored.Facts.ToBytes(), Now, Now);
        uidRow.ETag = new ETag("W/\"uid\"");
        var read = new RowsRead();
        read.Read(uidRow);
        read.Loaded(uidRow, stored, Now);
        var book = new AppointmentBook();
        book.Load(stored);
        var cancel = Read(Edit(CalcomExample("booking_cancelled"), p =>
        {
            p["uid"] = WebUid;
            p["startTime"] = "2026-01-27T09:00:00Z";
            p["endTime"] = "2026-01-27T09:30:00Z";
        }));
        var asked = new HashSet<StaffCalendarKey>();
        for (var keys = book.CalendarsNeeded(cancel).Where(asked.Add).ToList(); keys.Count > 0; keys = book.CalendarsNeeded(cancel).Where(asked.Add).ToList())
        {
            keys.ForEach(key => book.LoadCalendar(key, null));
        }

        var plan = AppointmentWriter.Plan(book.Apply(cancel), null, read, Now);

        var rows = ByRow(Assert.Single(plan.Transactions));
        Assert.Equal(new ETag("W/\"uid\""), rows[E.UidKey(WebUid)].ETag);
        Assert.Equal(TableTransactionActionType.UpdateReplace, rows[E.UidKey(WebUid)].ActionType);
        Assert.Equal(ETag.All, rows[E.AppointmentKey(stored.Record.AppointmentId)].ETag);
        Assert.Equal(TableTransactionActionType.UpdateReplace, rows[E.AppointmentKey(stored.Record.AppointmentId)].ActionType);
        Assert.Equal(AppointmentStatus.Cancelled, ((TableEntity)rows[E.UidKey(WebUid)].Entity).GetString("Status"));
    }

    [Fact]
    public void A_partner_that_was_not_read_gets_merge_patches_on_every_row_and_each_names_it()
    {
        var update = new ConflictUpdate(["other"], ["u1", "u2"], null) { MovedToStaffKey = "u42" };
        var result = new ApplyResult(ApplyOutcome.Updated, "mine", AppointmentStatus.Confirmed, ["partner"], [])
        {
            Changes = new BookChanges { Partners = new Dictionary<string, ConflictUpdate> { ["partner"] = update } },
        };

        var plan = AppointmentWriter.Plan(result, null, new RowsRead(), Now);

        var patches = Assert.Single(plan.Transactions);
        Assert.Equal([E.AppointmentKey("partner"), E.UidKey("u1"), E.UidKey("u2")], patches.Select(a => a.Entity.RowKey));
        Assert.All(patches, a =>
        {
            Assert.Equal(TableTransactionActionType.UpdateMerge, a.ActionType);
            Assert.Equal("other", ((TableEntity)a.Entity).GetString("ConflictsWith"));
            Assert.Equal("u42", ((TableEntity)a.Entity).GetString("StaffKey"));
            Assert.Equal("partner", plan.PatchOf[a.Entity.RowKey]);
        });
    }

    [Fact]
    public void Derived_rows_fill_the_first_transaction_to_one_hundred_actions_and_the_rest_follow()
    {
        static TableTransactionAction Row(string key) => new(TableTransactionActionType.UpsertReplace, new TableEntity(E.PartitionKey, key));

        var transactions = AppointmentWriter.Transactions([.. Enumerable.Range(0, 90).Select(i => Row($"first{i}"))], [.. Enumerable.Range(0, 120).Select(i => Row($"derived{i}"))]);

        Assert.Equal([100, 100, 10], transactions.Select(t => t.Count));
        Assert.Equal("first0", transactions[0][0].Entity.RowKey);
    }

    [Fact]
    public void A_first_transaction_of_more_than_one_hundred_actions_is_unstorable()
    {
        var calendars = Enumerable.Range(0, AppointmentWriter.MaxBatch + 1).ToDictionary(i => $"u{i}", _ => StaffCalendar.Empty);
        var result = new ApplyResult(ApplyOutcome.Updated, "mine", AppointmentStatus.Confirmed, [], []) { Changes = new BookChanges { Calendars = calendars } };

        Assert.Throws<UnstorableEventException>(() => AppointmentWriter.Plan(result, null, new RowsRead(), Now));
    }
}
