namespace AskPro.Functions.Storage;

/// <summary>Fixed resource names. infra/ declares the same ones (a test checks that they agree).</summary>
public static class StorageNames
{
    /// <summary>The connection the queue trigger and every client of this app use (host storage).</summary>
    public const string Connection = "AzureWebJobsStorage";
    public const string WebhookQueue = "calcom-webhooks";
    public const string WebhookPoisonQueue = WebhookQueue + "-poison";
    /// <summary>Claim-check bodies too large for one queue message.</summary>
    public const string BodyContainer = "calcom-webhook-bodies";
}
