namespace AskPro.Functions.Storage;

/// <summary>Fixed resource names. infra/ declares the same ones (a test checks that they agree).</summary>
public static class StorageNames
{
    /// <summary>The connection the queue trigger and every client of this app use (host storage).</summary>
    public const string Connection = "AzureWebJobsStorage";
    public const string WebhookQueue = "calcom-webhooks";
    /// <summary>The host's poison queue: a backstop only (its copies expire after 7 days), see <see cref="DeadLetterQueue"/>.</summary>
    public const string WebhookPoisonQueue = WebhookQueue + "-poison";
    /// <summary>Where the processor itself puts a message that can never be applied: never-expiring, with the reason.</summary>
    public const string DeadLetterQueue = WebhookQueue + "-deadletter";
    /// <summary>Dead letters too large for one queue message, and copies of their claim-check bodies (no lifecycle rule).</summary>
    public const string DeadLetterContainer = "calcom-dead-letters";
    /// <summary>
    /// Series look-ups (every occurrence of a recurring series one webhook changed, read from Cal.com's API): their own
    /// queue and function, so applying a webhook never waits on the API. Messages never expire.
    /// </summary>
    public const string SeriesLookupQueue = WebhookQueue + "-series";
    /// <summary>The host's poison queue of the look-ups: never used (host.json's maxDequeueCount is never reached), declared for the alert.</summary>
    public const string SeriesLookupPoisonQueue = SeriesLookupQueue + "-poison";
    /// <summary>
    /// Reconciliation fan-out: the timer puts one message per tenant with an API key here, and each message runs that
    /// tenant's pass, so tenants reconcile in parallel across instances (docs/reconciliation.md#per-tenant). Messages never expire.
    /// </summary>
    public const string ReconciliationQueue = "calcom-reconciliation";
    /// <summary>The host's poison queue of the fan-out: a pass that keeps failing on storage ends here (the next tick queues it again).</summary>
    public const string ReconciliationPoisonQueue = ReconciliationQueue + "-poison";
    /// <summary>Claim-check bodies too large for one queue message.</summary>
    public const string BodyContainer = "calcom-webhook-bodies";
    /// <summary>The tenant registry: one row per registered tenant, never a secret value (docs/tenants.md).</summary>
    public const string TenantsTable = "Tenants";
    /// <summary>Local runs only: tenant secrets encrypted with <c>TenantRegistry__LocalSecretsKey</c> (Key Vault holds them in Azure).</summary>
    public const string TenantSecretsTable = "TenantSecrets";
}
