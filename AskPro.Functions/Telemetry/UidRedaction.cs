using System.Text.RegularExpressions;
using AskPro.Functions.Logging;

namespace AskPro.Functions.Telemetry;

/// <summary>
/// Replaces booking uids in free text (a URL, a dependency's command, a log message) by their
/// <see cref="UidPseudonym"/>. Our own log templates never carry a uid; this is for the text other code builds from
/// what it sends: the table row keys <c>uid_{uid}</c> in a Table Storage URL, Cal.com's <c>/v2/bookings/{uid}</c>,
/// an operator route with a uid segment, a <c>uid=</c> in a message or query, a <c>"uid":"…"</c> in a JSON fragment.
/// Cal.com uids are 1–64 letters, digits, <c>-</c> and <c>_</c> (the reader refuses others), so none of them needs
/// percent-encoding in a URL and the patterns can match them as they are.
/// </summary>
public static partial class UidRedaction
{
    private const string Uid = "[A-Za-z0-9_-]{1,64}";

    // Each pattern's group "uid" is replaced by its pseudonym; a pseudonym (uid~…) is never matched again.
    [GeneratedRegex(@"(?<pre>uid_)(?!uid~)(?<uid>" + Uid + ")", RegexOptions.CultureInvariant)]
    private static partial Regex RowKey();

    [GeneratedRegex(@"(?<pre>/v2/bookings/)(?!uid~)(?<uid>" + Uid + ")", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)]
    private static partial Regex CalcomBooking();

    // The lookup took the uid in its path before it moved to the body: an old link or script still sends it there.
    [GeneratedRegex(@"(?<pre>/appointments/)(?!uid~|lookup\b)(?<uid>" + Uid + ")", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)]
    private static partial Regex AppointmentRoute();

    [GeneratedRegex(@"(?<pre>\b(?:uid|bookingUid|rescheduleUid|fromReschedule|recurringBookingUid|seatUid)(?:=|%3D)['""]?)(?!uid~)(?<uid>" + Uid + ")",
        RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)]
    private static partial Regex Assignment();

    [GeneratedRegex(@"(?<pre>""(?:uid|bookingUid|rescheduleUid|fromReschedule|recurringBookingUid|seatUid)""\s*:\s*"")(?!uid~)(?<uid>" + Uid + ")",
        RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)]
    private static partial Regex JsonField();

    private static readonly Regex[] Patterns = [RowKey(), CalcomBooking(), AppointmentRoute(), Assignment(), JsonField()];

    /// <summary>The text with every uid it recognisably carries replaced by its pseudonym; null stays null.</summary>
    public static string? Redact(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return text;
        }

        // Replace returns the same string when nothing matches, so each pattern scans the text once.
        foreach (var pattern in Patterns)
        {
            text = pattern.Replace(text, m => m.Groups["pre"].Value + UidPseudonym.Of(m.Groups["uid"].Value));
        }

        return text;
    }

    /// <summary>A URL with its uids redacted (an unparseable result is dropped rather than sent with a uid).</summary>
    public static Uri? Redact(Uri? url)
    {
        if (url is null)
        {
            return null;
        }

        var text = url.IsAbsoluteUri ? url.AbsoluteUri : url.OriginalString;
        var redacted = Redact(text);
        return ReferenceEquals(redacted, text) || redacted == text ? url : Uri.TryCreate(redacted, UriKind.RelativeOrAbsolute, out var clean) ? clean : null;
    }
}
