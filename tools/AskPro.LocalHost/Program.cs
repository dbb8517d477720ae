using AskPro.LocalHost;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

if (args is ["erase", .. var eraseArgs])
{
    return await EraseCommand.RunAsync(eraseArgs, Console.In, Console.Out, Console.Error);
}

var app = LocalFunctionsHost.Build(args);
app.Lifetime.ApplicationStarted.Register(() =>
{
    // What an operator needs on screen (not a log): where to send, where records land.
    var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault();
    Console.WriteLine($"AskPro local host: POST {address}{LocalFunctionsHost.WebhookPath(app.Configuration)} → queue " +
        $"{AskPro.Functions.Storage.StorageNames.WebhookQueue} → table {LocalFunctionsHost.TableName(app.Services)}. Ctrl-C stops it.");
});
await app.RunAsync();
return 0;
