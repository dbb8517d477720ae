using AskPro.Functions.Appointments;

namespace AskPro.Functions.Tests.Appointments;

/// <summary>Two sets of stored records are the same: ids, records, uid chains and conflicts.</summary>
public static class RecordAssert
{
    public static void AssertSameRecords(Dictionary<string, StoredAppointment> expected, Dictionary<string, StoredAppointment> actual, string context)
    {
        Assert.True(expected.Keys.Order().SequenceEqual(actual.Keys.Order()),
            $"{context}: appointment ids differ: [{string.Join(',', expected.Keys.Order())}] vs [{string.Join(',', actual.Keys.Order())}]");
        foreach (var (id, e) in expected)
        {
            var a = actual[id];
            Assert.True(e.Record with { CalcomUids = [] } == a.Record with { CalcomUids = [] }, $"{context}: record {id} differs:\n{e.Record}\nvs\n{a.Record}");
            Assert.True(e.Record.CalcomUids.SequenceEqual(a.Record.CalcomUids), $"{context}: uids of {id} differ");
            Assert.True(e.ConflictsWith.SequenceEqual(a.ConflictsWith), $"{context}: conflicts of {id} differ");
        }
    }
}
