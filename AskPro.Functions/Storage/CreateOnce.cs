using Azure;

namespace AskPro.Functions.Storage;

/// <summary>
/// Creates storage resources once per process, on first use (Azurite and local runs start empty; in Azure infra/
/// creates them). A 403 means the identity holds data roles only, which is how infra/ deploys: the resource exists.
/// A failure is not remembered, so the next call tries again.
/// </summary>
public sealed class CreateOnce(Func<CancellationToken, Task> create)
{
    private readonly SemaphoreSlim _lock = new(1, 1);
    private volatile bool _done;

    public async Task EnsureAsync(CancellationToken ct)
    {
        if (_done)
        {
            return;
        }

        await _lock.WaitAsync(ct);
        try
        {
            if (!_done)
            {
                await create(ct);
                _done = true;
            }
        }
        catch (RequestFailedException ex) when (ex.Status == 403)
        {
            _done = true;
        }
        finally
        {
            _lock.Release();
        }
    }
}
