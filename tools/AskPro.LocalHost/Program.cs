using AskPro.LocalHost;

if (args is ["erase", .. var eraseArgs])
{
    return await EraseCommand.RunAsync(eraseArgs, Console.In, Console.Out, Console.Error);
}

// The functions, the URL and "Ctrl-C stops it" are written once the host listens (LocalFunctionsHost.Build).
var app = LocalFunctionsHost.Build(args);
await app.RunAsync();
return 0;
