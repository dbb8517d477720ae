using System.Collections.Immutable;
using System.Text;
using System.Text.Json;
using AskPro.Functions.Hosting;
using AskPro.Functions.Tests.Infrastructure;
using AskPro.Functions.Webhooks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging;

namespace AskPro.Functions.Tests.Hosting;

public sealed class ExceptionMiddlewareTests
{
    private const string Leak = "Max Mustermann max.mustermann@example.com askpro-test-secret";

    [Fact]
    public async Task WriteInternalErrorAsync_writes_500_internal_error_in_the_uniform_error_body()
    {
        var http = NewHttpContext();

        await ExceptionMiddleware.WriteInternalErrorAsync(http.Response);

        var response = Read(http);
        WebhookAssert.AssertError(response, 500, ErrorCodes.InternalError);
    }

    [Fact]
    public async Task An_unexpected_exception_in_an_HTTP_function_becomes_500_without_its_message_or_stack_trace()
    {
        var logs = new LogCapture();
        var middleware = new ExceptionMiddleware(new LoggerFactory([logs]).CreateLogger<ExceptionMiddleware>());
        var http = NewHttpContext();

        await middleware.Invoke(new TestFunctionContext(http), _ => throw new InvalidOperationException(Leak));

        var response = Read(http);
        WebhookAssert.AssertError(response, 500, ErrorCodes.InternalError);
        Assert.DoesNotContain("Mustermann", response.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("secret", response.Text, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("Exception", response.Text, StringComparison.Ordinal);
        Assert.DoesNotContain(" at ", response.Text, StringComparison.Ordinal);

        var line = Assert.Single(logs.Lines);
        Assert.Contains(nameof(InvalidOperationException), line, StringComparison.Ordinal);
        Assert.Contains(TestFunctionContext.Invocation, line, StringComparison.Ordinal);
        Assert.DoesNotContain("Mustermann", line, StringComparison.Ordinal);
        Assert.DoesNotContain("askpro-test-secret", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_function_that_succeeds_is_left_alone()
    {
        var middleware = new ExceptionMiddleware(new LoggerFactory().CreateLogger<ExceptionMiddleware>());
        var http = NewHttpContext();

        await middleware.Invoke(new TestFunctionContext(http), _ =>
        {
            http.Response.StatusCode = 202;
            return Task.CompletedTask;
        });

        Assert.Equal(202, http.Response.StatusCode);
        Assert.Equal(0, http.Response.Body.Length);
    }

    [Fact]
    public async Task A_queue_function_exception_is_rethrown_so_the_host_retries_it()
    {
        var middleware = new ExceptionMiddleware(new LoggerFactory().CreateLogger<ExceptionMiddleware>());

        await Assert.ThrowsAsync<InvalidOperationException>(() =>
            middleware.Invoke(new TestFunctionContext(null), _ => throw new InvalidOperationException("queue failure")));
    }

    [Fact]
    public async Task An_exception_after_the_response_started_is_rethrown_rather_than_writing_a_second_response()
    {
        var middleware = new ExceptionMiddleware(new LoggerFactory().CreateLogger<ExceptionMiddleware>());
        var http = NewHttpContext();
        http.Features.Set<IHttpResponseFeature>(new StartedResponseFeature());

        await Assert.ThrowsAsync<InvalidOperationException>(() =>
            middleware.Invoke(new TestFunctionContext(http), _ => throw new InvalidOperationException("late failure")));
    }

    private static DefaultHttpContext NewHttpContext()
    {
        var http = new DefaultHttpContext();
        http.Response.Body = new MemoryStream();
        return http;
    }

    private static WebhookResponse Read(HttpContext http)
    {
        var text = Encoding.UTF8.GetString(((MemoryStream)http.Response.Body).ToArray());
        using var _ = JsonDocument.Parse(text);
        return new WebhookResponse(http.Response.StatusCode, http.Response.Headers, http.Response.ContentType ?? "", text);
    }

    private sealed class StartedResponseFeature : HttpResponseFeature
    {
        public override bool HasStarted => true;
    }

    /// <summary>The little of a FunctionContext the middleware uses: the HTTP context item the ASP.NET Core integration sets, a name and an id.</summary>
    private sealed class TestFunctionContext : FunctionContext
    {
        public const string Invocation = "inv-7f3c2a91";

        public TestFunctionContext(HttpContext? http)
        {
            if (http is not null)
            {
                // The key Microsoft.Azure.Functions.Worker.Extensions.Http.AspNetCore stores the request's HttpContext under.
                Items["HttpRequestContext"] = http;
            }
        }

        public override string InvocationId => Invocation;
        public override string FunctionId => "fn-1";
        public override TraceContext TraceContext => throw new NotSupportedException();
        public override BindingContext BindingContext => throw new NotSupportedException();
        public override RetryContext RetryContext => throw new NotSupportedException();
        public override IServiceProvider InstanceServices { get; set; } = null!;
        public override FunctionDefinition FunctionDefinition { get; } = new TestFunctionDefinition();
        public override IDictionary<object, object> Items { get; set; } = new Dictionary<object, object>();
        public override IInvocationFeatures Features => throw new NotSupportedException();
    }

    private sealed class TestFunctionDefinition : FunctionDefinition
    {
        public override ImmutableArray<FunctionParameter> Parameters => [];
        public override string PathToAssembly => "AskPro.Functions.dll";
        public override string EntryPoint => "AskPro.Functions.Webhooks.CalcomWebhookFunction.CalcomWebhook";
        public override string Id => "fn-1";
        public override string Name => "CalcomWebhook";
        public override IImmutableDictionary<string, BindingMetadata> InputBindings => ImmutableDictionary<string, BindingMetadata>.Empty;
        public override IImmutableDictionary<string, BindingMetadata> OutputBindings => ImmutableDictionary<string, BindingMetadata>.Empty;
    }
}
