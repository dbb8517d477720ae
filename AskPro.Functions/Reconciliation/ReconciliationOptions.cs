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

    /// <summary>
    /// How long a pass starts new pages (<c>Reconciliation__PassBudget</c>); well under host.json's 2-minute
    /// <c>functionTimeout</c>. Each of its two walks reads at least one page per pass, so both always move on; a page
    /// still running <see cref="PageGrace"/> after the budget is cancelled, and the next pass resumes where this one stopped.
    /// </summary>
    public TimeSpan PassBudget { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How long past <see cref="PassBudget"/> the pages in flight may take before they are cancelled.</summary>
    public static readonly TimeSpan PageGrace = TimeSpan.FromSeconds(30);
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

        // Budget plus grace must end before host.json's functionTimeout (00:02:00) cuts the function off.
        if (options.PassBudget <= TimeSpan.Zero || options.PassBudget + ReconciliationOptions.PageGrace > TimeSpan.FromSeconds(100))
        {
            failures.Add("Reconciliation__PassBudget must be positive and at most 00:01:10 (a pass must end well inside the 2-minute function timeout).");
        }

        if (options.LeaseDuration < TimeSpan.FromSeconds(15))
        {
            failures.Add("Reconciliation__LeaseDuration must be at least 00:00:15.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
