using AskPro.Tenants;

return await TenantCli.RunAsync(args, Console.In, Console.Out, Console.Error, Environment.GetEnvironmentVariable);
