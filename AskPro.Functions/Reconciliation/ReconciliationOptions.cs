using Microsoft.Extensions.Options;

namespace AskPro.Functions.Reconciliation;

/// <summary>Settings section <c>Reconciliation</c> (app settings <c>Reconciliation__…</c>): when and how far a pass looks.</summary>
public sealed class ReconciliationOptions
{
    public const string Section = "Reconciliation";

    /// <summary>How far each changed-since window reaches back before the checkpoint (replica lag, ties in updatedAt).</summary>
    public TimeSpan Overlap { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Where the first pass starts when there is no checkpoint yet.</summary>
    public TimeSpan InitialLookback { get; set; } = TimeSpan.FromDays(7);

    /// <summary>The full sweep by start time runs when the last one is older than this.</summary>
    public TimeSpan SweepEvery { get; set; } = TimeSpan.FromDays(1);

    /// <summary>The sweep covers bookings from this far in the past …</summary>
    public TimeSpan SweepPast { get; set; } = TimeSpan.FromDays(7);

    /// <summary>… to this far in the future.</summary>
    public TimeSpan SweepFuture { get; set; } = TimeSpan.FromDays(30);

    /// <summary>How long a pass holds its lease between renewals; a crashed pass blocks the next for at most this long.</summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromMinutes(5);
}

internal sealed class ReconciliationOptionsValidator : IValidateOptions<ReconciliationOptions>
{
    public ValidateOptionsResult Validate(string? name, ReconciliationOptions options)
    {
        var failures = new List<string>();
        if (options.Overlap < TimeSpan.Zero || options.Overlap > TimeSpan.FromDays(1))
        {
            failures.Add("Reconciliation__Overlap must be between 00:00:00 and 1.00:00:00.");
        }

        if (options.InitialLookback <= TimeSpan.Zero || options.SweepPast < TimeSpan.Zero || options.SweepFuture <= TimeSpan.Zero || options.SweepEvery <= TimeSpan.Zero)
        {
            failures.Add("Reconciliation__InitialLookback, __SweepEvery and __SweepFuture must be positive, __SweepPast not negative.");
        }

        if (options.LeaseDuration < TimeSpan.FromSeconds(15))
        {
            failures.Add("Reconciliation__LeaseDuration must be at least 00:00:15.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
