using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using AskPro.Functions.Tests.Infrastructure;

namespace AskPro.Functions.Tests.Appointments;

/// <summary>
/// Many distinct bookings from the three Cal.com example stories: uids made unique, the organizer chosen from a few
/// staff members, and every time shifted, so bookings of one staff member partly overlap.
/// </summary>
public static partial class StoryVariants
{
    public static readonly string[][] Stories =
    [
        ["booking_created_api_metadata.json", "booking_rescheduled.json", "booking_cancelled.json"],
        ["booking_created_web.json", "meeting_ended.json", "booking_no_show_updated.json"],
        ["booking_requested.json", "booking_rejected.json"],
        ["booking_created_web.json", "booking_cancelled_web.json"],
    ];

    private static readonly string[] Uids = ["Qm7ZtXo4Lp2WcN9vR1sK6e", "Tz8cYw3RbN6kLq1PmV5xHd", "k3VbP9qWm2xYc7RtL5nD8a", "Hb2NwQ8kZr5TyL1mXc4Vp9"];

    /// <summary>The bodies of booking <paramref name="index"/>: story index % 4, staff index % staffCount, shifted by 5 min per earlier booking of the same staff member.</summary>
    public static List<byte[]> Booking(int index, int staffCount)
    {
        var story = Stories[index % Stories.Length];
        return story.Select(name => Variant(Load(name), index, staffCount)).ToList();
    }

    private static byte[] Load(string name) => name == "booking_cancelled_web.json"
        ? BodyRewrite.Rewrite(Examples.Calcom("booking_cancelled.json"), ("Tz8cYw3RbN6kLq1PmV5xHd", "k3VbP9qWm2xYc7RtL5nD8a"))
        : Examples.Calcom(name);

    private static byte[] Variant(byte[] body, int index, int staffCount)
    {
        var text = Encoding.UTF8.GetString(body);
        foreach (var uid in Uids)
        {
            text = text.Replace(uid, $"{uid[..10]}v{index:D5}", StringComparison.Ordinal);
        }

        text = text.Replace("anna.schmidt@praxis-example.de", $"staff{index % staffCount}@praxis-example.de", StringComparison.Ordinal);
        // Staff are keyed by their Cal.com user id: each variant's host gets its own.
        text = StaffId().Replace(text, m => $"{m.Groups[1].Value}{98765 + (index % staffCount)}");
        var shift = TimeSpan.FromMinutes(5 * (index / staffCount));
        text = IsoTime().Replace(text, m =>
        {
            var t = DateTimeOffset.Parse(m.Value, CultureInfo.InvariantCulture) + shift;
            var format = m.Groups[1].Success ? "yyyy-MM-ddTHH:mm:ss.fff" : "yyyy-MM-ddTHH:mm:ss";
            return t.ToString(format, CultureInfo.InvariantCulture) + (m.Groups[2].Value == "Z" ? "Z" : t.ToString("zzz", CultureInfo.InvariantCulture));
        });
        return Encoding.UTF8.GetBytes(text);
    }

    [GeneratedRegex(@"(""(?:id|userId)"":\s*)98765\b")]
    private static partial Regex StaffId();

    [GeneratedRegex(@"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?(Z|[+-]\d{2}:\d{2})")]
    private static partial Regex IsoTime();
}
