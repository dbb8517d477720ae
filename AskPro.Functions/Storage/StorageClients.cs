using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using Azure.Identity;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using Microsoft.Extensions.Options;

namespace AskPro.Functions.Storage;

/// <summary>
/// The app's clients for its storage account, built once from <see cref="StorageOptions"/>. Retries are short:
/// Cal.com waits for our answer while its user waits for the booking page, so a failing store must surface as a
/// 503 within seconds rather than hang.
/// </summary>
public sealed class StorageClients
{
    public StorageClients(IOptions<StorageOptions> options, IEnumerable<HttpPipelinePolicy> extraPolicies)
    {
        var o = options.Value;
        var policies = extraPolicies.ToArray();
        var queueOptions = Configure(new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 }, policies);
        var blobOptions = Configure(new BlobClientOptions(), policies);
        var tableOptions = Configure(new TableClientOptions(), policies);
        if (o.UsesConnectionString)
        {
            Queues = new QueueServiceClient(o.ConnectionString, queueOptions);
            Blobs = new BlobServiceClient(o.ConnectionString, blobOptions);
            Tables = new TableServiceClient(o.ConnectionString, tableOptions);
        }
        else
        {
            // In Azure exactly the configured user-assigned identity (validated at start); elsewhere (no credential setting) the
            // developer's own sign-in, never a managed identity the SDK happens to find.
            TokenCredential credential = !string.IsNullOrWhiteSpace(o.ClientId)
                ? new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(o.ClientId))
                : new DefaultAzureCredential(new DefaultAzureCredentialOptions { ExcludeManagedIdentityCredential = true, ExcludeWorkloadIdentityCredential = true });
            Queues = new QueueServiceClient(o.ServiceUri("queue"), credential, queueOptions);
            Blobs = new BlobServiceClient(o.ServiceUri("blob"), credential, blobOptions);
            Tables = new TableServiceClient(o.ServiceUri("table"), credential, tableOptions);
        }

        WebhookQueue = Queues.GetQueueClient(StorageNames.WebhookQueue);
        DeadLetterQueue = Queues.GetQueueClient(StorageNames.DeadLetterQueue);
        SeriesLookupQueue = Queues.GetQueueClient(StorageNames.SeriesLookupQueue);
        BodyContainer = Blobs.GetBlobContainerClient(StorageNames.BodyContainer);
        DeadLetterContainer = Blobs.GetBlobContainerClient(StorageNames.DeadLetterContainer);
        Appointments = Tables.GetTableClient(o.AppointmentsTable);
    }

    public QueueServiceClient Queues { get; }
    public BlobServiceClient Blobs { get; }
    public TableServiceClient Tables { get; }
    public QueueClient WebhookQueue { get; }
    public QueueClient DeadLetterQueue { get; }
    public QueueClient SeriesLookupQueue { get; }
    public BlobContainerClient BodyContainer { get; }
    public BlobContainerClient DeadLetterContainer { get; }
    public TableClient Appointments { get; }

    /// <summary>Extra pipeline policies registered in DI are added to every client (tests count requests with one).</summary>
    private static T Configure<T>(T options, HttpPipelinePolicy[] policies) where T : ClientOptions
    {
        options.Retry.Mode = RetryMode.Exponential;
        options.Retry.MaxRetries = 2;
        options.Retry.Delay = TimeSpan.FromMilliseconds(200);
        options.Retry.MaxDelay = TimeSpan.FromSeconds(1);
        options.Retry.NetworkTimeout = TimeSpan.FromSeconds(5);
        // The SDK's request log names every URI, and table point reads carry uid row keys (uid_{uid}): a uid is a bearer
        // token, so these clients never log requests, whoever forwards the SDK's event source to a log.
        options.Diagnostics.IsLoggingEnabled = false;
        foreach (var policy in policies)
        {
            options.AddPolicy(policy, HttpPipelinePosition.PerRetry);
        }

        return options;
    }
}
