using Microsoft.Extensions.Options;

namespace AskPro.Functions.Storage;

/// <summary>
/// How to reach the storage account: the <c>AzureWebJobsStorage</c> setting as a connection string (Azurite, local runs),
/// or identity-based as the Functions host reads it (<c>AzureWebJobsStorage__accountName</c> or the
/// <c>__blobServiceUri</c>/<c>__queueServiceUri</c>/<c>__tableServiceUri</c> settings, with <c>__clientId</c> for a user-assigned identity).
/// </summary>
public sealed class StorageOptions
{
    public string? ConnectionString { get; set; }
    public string? AccountName { get; set; }
    public Uri? BlobServiceUri { get; set; }
    public Uri? QueueServiceUri { get; set; }
    public Uri? TableServiceUri { get; set; }
    public string? ClientId { get; set; }
    /// <summary><c>AzureWebJobsStorage__credential</c>: <c>managedidentity</c> in Azure.</summary>
    public string? Credential { get; set; }

    public bool UsesManagedIdentity => string.Equals(Credential, "managedidentity", StringComparison.OrdinalIgnoreCase);

    /// <summary>Table of appointment records (issue: apply events). Setting <c>Appointments__TableName</c>.</summary>
    public string AppointmentsTable { get; set; } = "Appointments";

    public bool UsesConnectionString => !string.IsNullOrWhiteSpace(ConnectionString);

    public Uri ServiceUri(string service) => service switch
    {
        "blob" when BlobServiceUri is not null => BlobServiceUri,
        "queue" when QueueServiceUri is not null => QueueServiceUri,
        "table" when TableServiceUri is not null => TableServiceUri,
        _ => new Uri($"https://{AccountName}.{service}.core.windows.net"),
    };
}

internal sealed class StorageOptionsValidator : IValidateOptions<StorageOptions>
{
    public ValidateOptionsResult Validate(string? name, StorageOptions options)
    {
        var failures = new List<string>();
        if (!options.UsesConnectionString && string.IsNullOrWhiteSpace(options.AccountName)
            && (options.BlobServiceUri is null || options.QueueServiceUri is null || options.TableServiceUri is null))
        {
            failures.Add($"{StorageNames.Connection} is not set: give a connection string (UseDevelopmentStorage=true for Azurite) "
                + $"or {StorageNames.Connection}__accountName for an identity-based connection.");
        }

        // Without the client id the SDK would pick whichever identity it finds (system-assigned, another user-assigned one).
        if (!options.UsesConnectionString && options.UsesManagedIdentity && string.IsNullOrWhiteSpace(options.ClientId))
        {
            failures.Add($"{StorageNames.Connection}__clientId is not set: with {StorageNames.Connection}__credential=managedidentity the app "
                + "authenticates as the user-assigned identity of that client id, and will not guess another one.");
        }

        if (!IsValidTableName(options.AppointmentsTable))
        {
            failures.Add("Appointments__TableName must be 3 to 63 letters or digits, starting with a letter.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static bool IsValidTableName(string? name) =>
        name is { Length: >= 3 and <= 63 } && char.IsAsciiLetter(name[0]) && name.All(char.IsAsciiLetterOrDigit);
}
