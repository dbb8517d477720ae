using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using AskPro.Functions.Tests.Infrastructure;

namespace AskPro.Functions.Tests.Build;

/// <summary>
/// The README is the front door and docs/ holds the rest by topic: the README stays short, every link between the pages
/// and every page of docs/ with its heading that a code comment cites lands on a real file and heading (GitHub's anchor rules),
/// and the index lists every page. A moved or renamed heading would otherwise leave a comment pointing nowhere.
/// </summary>
public sealed partial class DocsTests
{
    private const int ReadmeMaxLines = 250;
    private static readonly string Root = Azurite.RepoRoot();

    private static IEnumerable<string> Pages() =>
        new[] { "README.md", "SECURITY.md", Path.Combine("benchmarks", "README.md") }
            .Concat(Directory.GetFiles(Path.Combine(Root, "docs"), "*.md").Select(p => Path.GetRelativePath(Root, p)))
            .Order(StringComparer.Ordinal);

    [Fact]
    public void The_readme_is_a_front_door_of_at_most_250_lines()
    {
        var lines = File.ReadAllLines(Path.Combine(Root, "README.md")).Length;

        Assert.True(lines <= ReadmeMaxLines, $"README.md has {lines} lines; move detail to a page of docs/ and link it");
    }

    [Fact]
    public void Every_relative_link_and_anchor_in_the_docs_resolves()
    {
        var broken = new List<string>();
        var links = 0;
        foreach (var page in Pages())
        {
            foreach (var target in Links(File.ReadAllText(Path.Combine(Root, page))))
            {
                links++;
                if (Resolve(page, target) is { } problem)
                {
                    broken.Add($"{page}: ({target}) {problem}");
                }
            }
        }

        Assert.True(links > 50, $"only {links} relative links found: the link reader is broken");
        Assert.True(broken.Count == 0, string.Join('\n', broken));
    }

    [Fact]
    public void Every_docs_page_a_code_file_cites_exists_with_the_cited_heading()
    {
        var broken = new List<string>();
        var citations = 0;
        foreach (var file in CodeFiles())
        {
            var text = File.ReadAllText(file);
            foreach (Match citation in DocsCitation().Matches(text))
            {
                citations++;
                if (Resolve("", citation.Value) is { } problem)
                {
                    broken.Add($"{Path.GetRelativePath(Root, file)}: {citation.Value} {problem}");
                }
            }
        }

        Assert.True(citations > 5, $"only {citations} citations of docs/ found in code: the scan is broken");
        Assert.True(broken.Count == 0, string.Join('\n', broken));
    }

    [Fact]
    public void No_code_file_cites_a_section_of_the_README()
    {
        // The README keeps no sections to cite; its topics have headings in docs/ (README.md as a file name is fine).
        var stale = CodeFiles()
            .SelectMany(f => File.ReadLines(f).Select((line, i) => (File: f, Line: i + 1, Text: line)))
            .Where(l => ReadmeCitation().IsMatch(l.Text))
            .Select(l => $"{Path.GetRelativePath(Root, l.File)}:{l.Line}: {l.Text.Trim()}")
            .ToList();

        Assert.True(stale.Count == 0, "cite docs/<page>.md#<heading> instead:\n" + string.Join('\n', stale));
    }

    [Fact]
    public void The_docs_index_lists_every_page()
    {
        var index = File.ReadAllText(Path.Combine(Root, "docs", "README.md"));
        var listed = Links(index).Select(l => l.Split('#')[0]).ToHashSet(StringComparer.Ordinal);
        var pages = Directory.GetFiles(Path.Combine(Root, "docs"), "*.md").Select(Path.GetFileName).Where(p => p != "README.md").ToList();

        Assert.NotEmpty(pages);
        Assert.All(pages, page => Assert.True(listed.Contains(page!), $"docs/{page} is not linked from docs/README.md"));
    }

    [Theory]
    [InlineData("What happened to booking X?", "what-happened-to-booking-x")]
    [InlineData("Host \"request reschedule\"", "host-request-reschedule")]
    [InlineData("Seated events (several customers, one uid)", "seated-events-several-customers-one-uid")]
    [InlineData("`GET /v2/bookings/{uid}`", "get-v2bookingsuid")]
    [InlineData("Event ids 6000–6099", "event-ids-60006099")]
    [InlineData("Reconciliation: recovering what Cal.com never re-sends", "reconciliation-recovering-what-calcom-never-re-sends")]
    [InlineData("Retention: how long each kind of data is kept", "retention-how-long-each-kind-of-data-is-kept")]
    public void Anchors_follow_GitHubs_rules(string heading, string anchor) => Assert.Equal(anchor, Slug(heading));

    [Fact]
    public void A_repeated_heading_gets_a_numbered_anchor_and_headings_in_code_blocks_are_not_headings()
    {
        var anchors = Anchors("# Page\n\n## Events\n\n```bash\n# not a heading\n```\n\n## Events\n");

        Assert.Equal(["page", "events", "events-1"], anchors);
    }

    /// <summary>
    /// Null when <paramref name="target"/>, relative to the folder of <paramref name="from"/> (a page, or "" for the
    /// repository's top level), names an existing file and, after <c>#</c>, one of its headings (<c>#x</c> alone: one of <paramref name="from"/>'s).
    /// </summary>
    private static string? Resolve(string from, string target)
    {
        var hash = target.IndexOf('#', StringComparison.Ordinal);
        var path = hash < 0 ? target : target[..hash];
        var anchor = hash < 0 ? null : target[(hash + 1)..];
        var full = path.Length == 0
            ? Path.Combine(Root, from)
            : Path.GetFullPath(Path.Combine(Root, Path.GetDirectoryName(from) ?? "", Uri.UnescapeDataString(path)));
        if (path.Length > 0 && !File.Exists(full) && !Directory.Exists(full))
        {
            return "names no file";
        }

        if (anchor is null)
        {
            return null;
        }

        if (!full.EndsWith(".md", StringComparison.OrdinalIgnoreCase) || !File.Exists(full))
        {
            return "has an anchor on a file that is not a Markdown page";
        }

        return Anchors(File.ReadAllText(full)).Contains(anchor, StringComparer.Ordinal) ? null : $"names no heading of {Path.GetFileName(full)}";
    }

    /// <summary>Relative link targets of a Markdown text, outside code blocks and code spans.</summary>
    private static IEnumerable<string> Links(string markdown) =>
        OutsideCode(markdown)
            .SelectMany(line => InlineLink().Matches(CodeSpan().Replace(line, "")).Select(m => m.Groups["target"].Value))
            .Where(t => !t.Contains("://", StringComparison.Ordinal) && !t.StartsWith("mailto:", StringComparison.Ordinal));

    /// <summary>The anchors GitHub gives a page's headings, in order.</summary>
    private static List<string> Anchors(string markdown)
    {
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        var anchors = new List<string>();
        foreach (var line in OutsideCode(markdown))
        {
            var heading = Heading().Match(line);
            if (!heading.Success)
            {
                continue;
            }

            var slug = Slug(heading.Groups["text"].Value);
            var count = seen.GetValueOrDefault(slug);
            seen[slug] = count + 1;
            anchors.Add(count == 0 ? slug : $"{slug}-{count}");
        }

        return anchors;
    }

    /// <summary>GitHub's heading slug: lower case, letters, digits, marks, <c>_</c>, <c>-</c> and spaces kept, spaces become <c>-</c>.</summary>
    private static string Slug(string heading)
    {
        var text = InlineLinkText().Replace(heading.Trim(), "${text}");
        var slug = new StringBuilder(text.Length);
        foreach (var c in text.ToLowerInvariant())
        {
            var category = char.GetUnicodeCategory(c);
            if (char.IsLetterOrDigit(c) || c is '_' or '-' || category is UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark)
            {
                slug.Append(c);
            }
            else if (c == ' ')
            {
                slug.Append('-');
            }
        }

        return slug.ToString();
    }

    private static IEnumerable<string> OutsideCode(string markdown)
    {
        var fenced = false;
        foreach (var line in markdown.Split('\n'))
        {
            var trimmed = line.TrimStart();
            if (trimmed.StartsWith("```", StringComparison.Ordinal) || trimmed.StartsWith("~~~", StringComparison.Ordinal))
            {
                fenced = !fenced;
                continue;
            }

            if (!fenced)
            {
                yield return line.TrimEnd('\r');
            }
        }
    }

    /// <summary>The repository's C#, shell and Bicep files (build output, packages and git excluded).</summary>
    private static IEnumerable<string> CodeFiles()
    {
        string[] skipped = ["bin", "obj", "node_modules", ".git", "TestResults"];
        var pending = new Stack<string>([Root]);
        while (pending.TryPop(out var folder))
        {
            foreach (var sub in Directory.GetDirectories(folder).Where(d => !skipped.Contains(Path.GetFileName(d))))
            {
                pending.Push(sub);
            }

            foreach (var file in Directory.GetFiles(folder).Where(f => f.EndsWith(".cs", StringComparison.Ordinal)
                || f.EndsWith(".sh", StringComparison.Ordinal) || f.EndsWith(".bicep", StringComparison.Ordinal)))
            {
                yield return file;
            }
        }
    }

    [GeneratedRegex(@"^\s{0,3}#{1,6}\s+(?<text>.*?)\s*#*\s*$")]
    private static partial Regex Heading();

    [GeneratedRegex(@"\[(?:[^\[\]]|\[[^\]]*\])*\]\((?<target>[^)\s]+)(?:\s+""[^""]*"")?\)")]
    private static partial Regex InlineLink();

    [GeneratedRegex(@"\[(?<text>[^\]]*)\]\([^)]*\)")]
    private static partial Regex InlineLinkText();

    [GeneratedRegex(@"`[^`]*`")]
    private static partial Regex CodeSpan();

    /// <summary>A page of docs/ (or the benchmarks' README) named in code, with its anchor if one follows.</summary>
    [GeneratedRegex(@"(?<![\w/.-])(?:docs/[\w.-]+\.md|benchmarks/README\.md)(?:#[\w-]+)?")]
    private static partial Regex DocsCitation();

    /// <summary>The front page cited as a document with sections (its name then a quote, a colon, "section", …), not the file name with .md.</summary>
    [GeneratedRegex(@"(?<![\w/.])README(?!\.md)(?:\s*[:""]|'s|\s+section|\s+documents|\s+states)")]
    private static partial Regex ReadmeCitation();
}
