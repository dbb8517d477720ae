using System.Diagnostics;
using System.Text;
using AskPro.Functions.Tests.Infrastructure;

namespace AskPro.Functions.Tests.Build;

/// <summary>
/// A clone is all a user has: no tracked file may point at a folder beside the repository or at a path of the
/// machine it was written on, or the clone breaks (or silently reads something else) elsewhere.
/// </summary>
public sealed class RepositoryStandsAloneTests
{
    private static readonly string Root = Azurite.RepoRoot();

    // Assembled, so that this file does not contain what it looks for.
    private const string Shared = "sha" + "red";

    /// <summary>The patterns a reference outside the repository takes, each with why it is one.</summary>
    private static IEnumerable<(string Pattern, string Why)> Forbidden()
    {
        yield return ("../" + Shared, "a folder beside the repository");
        yield return (@"..\" + Shared, "a folder beside the repository");
        yield return (Shared + "/calcom", "the team's reading folder outside the repository");
        yield return ("/" + "work" + "/", "an absolute path of the development machine");
        yield return (Root, "the absolute path of this checkout");
        // The folder the checkout sits in (a clone elsewhere has another one), unless that is the file system root.
        if (Path.GetDirectoryName(Root.TrimEnd(Path.DirectorySeparatorChar)) is { Length: > 1 } parent)
        {
            yield return (parent + Path.DirectorySeparatorChar, "the folder this checkout sits in");
        }
    }

    [Fact]
    public void No_tracked_file_refers_to_a_path_outside_the_repository()
    {
        var files = TrackedFiles();
        Assert.Contains("README.md", files); // the listing really is the repository's
        Assert.Contains("package-lock.json", files);

        var findings = new List<string>();
        var checkedFiles = 0;
        foreach (var file in files)
        {
            var path = Path.Combine(Root, file);
            if (!File.Exists(path))
            {
                continue; // deleted in the working tree and not yet committed
            }

            var bytes = File.ReadAllBytes(path);
            if (Array.IndexOf(bytes, (byte)0) >= 0)
            {
                continue; // binary: no path text to find
            }

            checkedFiles++;
            findings.AddRange(FindingsIn(file, Encoding.UTF8.GetString(bytes)));
        }

        Assert.True(checkedFiles > 50, $"only {checkedFiles} text files were checked");
        Assert.True(findings.Count == 0, "Tracked files refer outside the repository:\n" + string.Join('\n', findings));
    }

    [Fact]
    public void The_check_finds_each_kind_of_reference_and_nothing_in_look_alikes()
    {
        // A check that finds nothing in a clean repository must still find something where there is something.
        var text = string.Join('\n',
            "bodies from ../" + Shared + "/calcom/examples",
            @"bodies from ..\" + Shared.ToUpperInvariant() + @"\calcom",
            "facts in " + Shared + "/calcom/WEBHOOKS.md",
            "cd /" + "work/main",
            "built in " + Path.Combine(Root, "bin"));

        var findings = FindingsIn("x.md", text).ToList();

        Assert.Equal([1, 2, 3, 4, 5], findings.Select(f => int.Parse(f.Split(':')[1], System.Globalization.CultureInfo.InvariantCulture)).Distinct());
        Assert.Empty(FindingsIn("y.json", "\"id\": \"/subscriptions/0/providers/Microsoft.OperationalInsights/workspaces/log\"\nthe shared key is off\nsee docs/calcom-webhooks.md"));
    }

    private static IEnumerable<string> FindingsIn(string file, string text)
    {
        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            foreach (var (pattern, why) in Forbidden())
            {
                if (lines[i].Contains(pattern, StringComparison.OrdinalIgnoreCase))
                {
                    yield return $"{file}:{i + 1}: '{pattern}' ({why}): {lines[i].Trim()}";
                }
            }
        }
    }

    private static List<string> TrackedFiles()
    {
        var info = new ProcessStartInfo("git")
        {
            ArgumentList = { "-c", "core.quotepath=off", "ls-files", "-z" },
            WorkingDirectory = Root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var git = Process.Start(info) ?? throw new InvalidOperationException("git could not be started");
        var stdout = git.StandardOutput.ReadToEndAsync();
        var stderr = git.StandardError.ReadToEndAsync();
        git.WaitForExit();
        Assert.True(git.ExitCode == 0, $"git ls-files failed in {Root} (the check needs a git checkout): {stderr.Result}");
        return [.. stdout.Result.Split('\0', StringSplitOptions.RemoveEmptyEntries)];
    }
}
