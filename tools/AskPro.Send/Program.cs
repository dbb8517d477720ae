using System.Globalization;
using System.Text.Json;
using AskPro.Send;

const string Usage = """
    Sends Cal.com webhook bodies, signed as Cal.com signs them (HMAC-SHA256 of the raw bytes, lowercase hex, X-Cal-Signature-256).

    usage: tools/send.sh <example|file>... [options]
           tools/send.sh --story NAME [options]

      <example|file>   an example by name (AskPro.Functions.Tests/TestData/calcom and TestData/seed, with or
                       without .json) or any file path; several are sent in the order given
      --story NAME     a whole lifecycle in order (see --list)
      --url URL        the webhook (default: http://localhost:7071/api/webhooks/calcom; a deployed
                       https://<app>.azurewebsites.net/api/webhooks/calcom works too)
      --tenant ID      send to that tenant's route: /<ID> is appended to the URL, and the secret defaults to
                       Tenants__<ID>__WebhookSecrets__0 (default: none, the default tenant's route)
      --secret S       the webhook secret (default: CalcomWebhook__Secrets__0, with --tenant its own, from
                       local.settings.json, else from local.settings.sample.json)
      --new            a fresh booking every run: new uids (22-char base58), booking ids and shifted times,
                       consistently across everything sent in this run (default: off, bodies sent byte for byte)
      --shuffle        send out of order with duplicates (one body always twice, others with probability 1/3)
                       (default: off, in order, once each)
      --seed N         seed of --new and --shuffle (default: random, printed)
      --list           list examples and stories
      -h, --help       this text

    Prints status and body per delivery. Exit codes: 0 every delivery got 2xx; 1 at least one did not;
    2 bad arguments (unknown option, example or story) or the sender did not build; 3 the webhook could
    not be reached.
    """;

var inputs = new List<string>();
string? url = null, secret = null, story = null, tenant = null;
int? seed = null;
bool fresh = false, shuffle = false, list = false;
try
{
    for (var i = 0; i < args.Length; i++)
    {
        string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
        switch (args[i])
        {
            case "-h" or "--help": Console.WriteLine(Usage); return 0;
            case "--url": url = Value(); break;
            case "--secret": secret = Value(); break;
            case "--tenant": tenant = Value(); break;
            case "--story": story = Value(); break;
            case "--seed": seed = int.Parse(Value(), CultureInfo.InvariantCulture); break;
            case "--new": fresh = true; break;
            case "--shuffle": shuffle = true; break;
            case "--list": list = true; break;
            case var a when a.StartsWith('-'): throw new ArgumentException($"unknown option {a}");
            default: inputs.Add(args[i]); break;
        }
    }

    var root = WebhookExamples.RepoRoot(AppContext.BaseDirectory);
    var examples = WebhookExamples.InRepository(root);
    if (list)
    {
        Console.WriteLine("examples: " + string.Join(", ", examples.Names));
        foreach (var (name, steps) in WebhookExamples.Stories)
        {
            Console.WriteLine($"story {name}: {string.Join(" → ", steps)}");
        }

        return 0;
    }

    if (inputs.Count == 0 && story is null)
    {
        throw new ArgumentException("name an example, a file or --story");
    }

    var webhooks = new List<Webhook>(story is null ? [] : examples.Story(story));
    webhooks.AddRange(inputs.Select(examples.Load));
    if (fresh || shuffle)
    {
        seed ??= Random.Shared.Next();
        Console.WriteLine($"seed {seed} (repeat with --seed {seed})");
    }

    var random = new Random(seed ?? 0);
    IReadOnlyList<Webhook> plan = fresh ? new FreshBooking(random, TimeProvider.System).Rewrite(webhooks) : webhooks;
    plan = shuffle ? WebhookSender.ShuffledWithDuplicates(plan, random) : plan;
    secret ??= SendTarget.DefaultSecret(root, tenant);
    var target = SendTarget.Url(url, tenant);

    using var http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { Timeout = TimeSpan.FromSeconds(30) };
    var sender = new WebhookSender(http, target, secret);
    var failed = 0;
    for (var n = 0; n < plan.Count; n++)
    {
        Delivery delivery;
        try
        {
            delivery = await sender.SendAsync(plan[n], CancellationToken.None);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            Console.Error.WriteLine($"{target} could not be reached ({ex.Message}); is the host running? (tools/run-local.sh)");
            return 3;
        }

        failed += delivery.Succeeded ? 0 : 1;
        Console.WriteLine($"[{n + 1}/{plan.Count}] {delivery.Webhook.Name} → {delivery.StatusCode} {delivery.ReasonPhrase} ({delivery.Elapsed.TotalMilliseconds:F0} ms) {delivery.Body}");
    }

    Console.WriteLine($"{plan.Count - failed} of {plan.Count} deliveries got 2xx");
    return failed == 0 ? 0 : 1;
}
catch (Exception ex) when (ex is ArgumentException or FormatException or FileNotFoundException or KeyNotFoundException or DirectoryNotFoundException or JsonException)
{
    Console.Error.WriteLine(ex.Message);
    Console.Error.WriteLine("try tools/send.sh --help");
    return 2;
}
