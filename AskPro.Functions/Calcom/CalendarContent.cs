using System.Text.Json;

namespace AskPro.Functions.Calcom;

/// <summary>
/// Removes the whole iCalendar files Cal.com's payload version <c>2026-07-27</c> adds to booking bodies
/// (<c>attendeeIcsContent</c>, <c>organizerIcsContent</c>): names, e-mails and descriptions, tens of KiB, none of it
/// needed for a record. Applied to a verified body before it is queued, so the iCalendar text never reaches the queue,
/// a claim-check blob, a dead letter, an event set or a history. Every other byte stays exactly as received.
/// </summary>
public static class CalendarContent
{
    /// <summary>Members named like this (Cal.com's two, and any later <c>…IcsContent</c>) are removed.</summary>
    public const string NameSuffix = "IcsContent";

    private static readonly JsonReaderOptions ReaderOptions = new() { MaxDepth = 64 };

    /// <summary>
    /// The body without iCalendar members at the top level or directly in <c>payload</c>; the same array when it has
    /// none. The body must be a JSON object the reader accepted (its signature was checked on the bytes received).
    /// </summary>
    public static byte[] Remove(byte[] body)
    {
        ArgumentNullException.ThrowIfNull(body);
        var cuts = new List<(int Start, int End)>();
        var reader = new Utf8JsonReader(body, ReaderOptions);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return body;
        }

        ScanObject(ref reader, lookInPayload: true, cuts);
        if (cuts.Count == 0)
        {
            return body;
        }

        var result = new byte[body.Length - cuts.Sum(c => c.End - c.Start)];
        int from = 0, to = 0;
        foreach (var (start, end) in cuts.OrderBy(c => c.Start))
        {
            body.AsSpan(from, start - from).CopyTo(result.AsSpan(to));
            to += start - from;
            from = end;
        }

        body.AsSpan(from).CopyTo(result.AsSpan(to));
        return result;
    }

    /// <summary>Whether a member name is one of the iCalendar files.</summary>
    public static bool IsCalendarMember(string name) =>
        name.EndsWith(NameSuffix, StringComparison.Ordinal) && name.Length > NameSuffix.Length;

    /// <summary>
    /// Reads one object (the reader on its <c>{</c>, left on its <c>}</c>) and adds the byte ranges to cut: each run of
    /// removed members together with the comma that joined it to a kept neighbour, so the rest stays valid JSON.
    /// </summary>
    private static void ScanObject(ref Utf8JsonReader reader, bool lookInPayload, List<(int Start, int End)> cuts)
    {
        var members = new List<(int Start, int End, bool Remove)>();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var start = (int)reader.TokenStartIndex;
            var name = reader.GetString()!;
            reader.Read();
            if (lookInPayload && name == "payload" && reader.TokenType == JsonTokenType.StartObject)
            {
                ScanObject(ref reader, lookInPayload: false, cuts);
            }
            else
            {
                reader.Skip();
            }

            members.Add((start, (int)reader.BytesConsumed, IsCalendarMember(name)));
        }

        for (var i = 0; i < members.Count;)
        {
            if (!members[i].Remove)
            {
                i++;
                continue;
            }

            var last = i;
            while (last + 1 < members.Count && members[last + 1].Remove)
            {
                last++;
            }

            // After a kept member: from its end (the comma before the run) to the run's end. First in the object: from
            // the run's start to the next kept member (the comma after the run). Alone: the run itself.
            var cut = i > 0 ? (members[i - 1].End, members[last].End)
                : last + 1 < members.Count ? (members[i].Start, members[last + 1].Start)
                : (members[i].Start, members[last].End);
            cuts.Add(cut);
            i = last + 1;
        }
    }
}
