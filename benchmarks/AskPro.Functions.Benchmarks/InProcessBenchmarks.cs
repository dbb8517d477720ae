using System.Text;
using AskPro.Functions.Appointments;
using AskPro.Functions.Calcom;
using AskPro.Functions.Webhooks;
using BenchmarkDotNet.Attributes;

namespace AskPro.Functions.Benchmarks;

/// <summary>The in-process paths a delivery takes: verify, read, apply to a record.</summary>
/// <remarks>In-process toolchain: BenchmarkDotNet's generated project cannot rebuild the Functions SDK's worker extensions.</remarks>
[MemoryDiagnoser]
[InProcess]
public class InProcessBenchmarks
{
    private static readonly byte[][] TwoSecrets = [Encoding.UTF8.GetBytes("old-secret-kept-for-rotation"), Encoding.UTF8.GetBytes("askpro-test-secret")];
    private byte[] _body = [];
    private string _signature = "";
    private BookingEvent[] _story = [];
    private StoredAppointment _stored = null!;
    private Azure.Data.Tables.TableEntity _fullHistoryRow = null!;

    [GlobalSetup]
    public void Setup()
    {
        _body = Examples.Read("booking_created_web.json");
        _signature = WebhookSignature.Sign(_body, TwoSecrets[1]);
        _story = new[] { "booking_created_api_metadata.json", "booking_rescheduled.json", "booking_cancelled.json" }
            .Select(f => CalcomWebhookReader.Read(Examples.Read(f)).Event!).ToArray();
        var book = new AppointmentBook();
        foreach (var e in _story)
        {
            book.Apply(e);
        }

        _stored = book.Records.Values.Single();
        var t0 = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var full = Enumerable.Range(0, AppointmentHistory.MaxEntries)
            .Select(i => new HistoryEntry(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(BitConverter.GetBytes(i))), ApplySource.Delivery,
                "BOOKING_RESCHEDULED", t0.AddMinutes(i), t0.AddMinutes(i).AddSeconds(1), HistoryOutcome.Applied)).ToList();
        _fullHistoryRow = new Azure.Data.Tables.TableEntity("calcom", "uid_x").WithHistory(AppointmentHistory.ToJson(full));
    }

    [Benchmark(Description = "History at its bound (50): read from row, add one, JSON for the write")]
    public string HistoryAppend()
    {
        var history = AppointmentHistory.Read(_fullHistoryRow);
        var added = new HistoryEntry("d", ApplySource.Delivery, "BOOKING_CANCELLED", null, DateTimeOffset.UnixEpoch.AddYears(60), HistoryOutcome.Applied);
        return AppointmentHistory.ToJson(AppointmentHistory.Merge([history], added));
    }

    [Benchmark(Description = "Verify signature (4 KB body, 2 secrets)")]
    public SignatureResult Verify() => WebhookSignature.Verify(_body, _signature, TwoSecrets);

    [Benchmark(Description = "Read Cal.com body into BookingEvent")]
    public BookingEvent? Read() => CalcomWebhookReader.Read(_body).Event;

    [Benchmark(Description = "Apply create→reschedule→cancel to a book")]
    public ApplyResult ApplyStory()
    {
        var book = new AppointmentBook();
        ApplyResult last = null!;
        foreach (var e in _story)
        {
            last = book.Apply(e);
        }

        return last;
    }

    [Benchmark(Description = "Row round trip: facts to bytes and back, re-project")]
    public Appointment RoundTrip() => AppointmentProjection.Project(BookingFacts.FromBytes(_stored.Facts.ToBytes()));
}

internal static class Examples
{
    public static byte[] Read(string name)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            // The repository's own copy of Cal.com's example bodies (the test project's test data).
            var path = Path.Combine(dir.FullName, "AskPro.Functions.Tests", "TestData", "calcom", name);
            if (File.Exists(path))
            {
                return File.ReadAllBytes(path);
            }
        }

        throw new FileNotFoundException($"{name} not found in AskPro.Functions.Tests/TestData/calcom above {AppContext.BaseDirectory}");
    }
}
