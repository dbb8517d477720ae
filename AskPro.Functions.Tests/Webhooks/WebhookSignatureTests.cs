using System.Text;
using AskPro.Functions.Tests.Infrastructure;
using AskPro.Functions.Webhooks;

namespace AskPro.Functions.Tests.Webhooks;

public sealed class WebhookSignatureTests
{
    /// <summary>The test vector of WEBHOOKS.md: HMAC-SHA256 of ping.compact.txt keyed with askpro-test-secret.</summary>
    private const string VectorSignature = "79666176e71d3392f59f139a5138ea4fa872bcca41371202ffd6874e458778ae";

    /// <summary>The vector's key. The app refuses secrets this short (under 32 characters); the HMAC itself does not care.</summary>
    private const string VectorSecret = "askpro-test-secret";

    private static readonly byte[][] TestKeys = [Key(VectorSecret)];

    private static byte[] Key(string secret) => Encoding.UTF8.GetBytes(secret);

    private static byte[] Ping => Examples.Calcom("ping.compact.txt");

    [Fact]
    public void The_documented_test_vector_is_444_bytes_and_signs_to_the_documented_hex()
    {
        Assert.Equal(444, Ping.Length);
        Assert.Equal(VectorSignature, WebhookSignature.Sign(Ping, Key(VectorSecret)));
    }

    [Fact]
    public void Bare_lowercase_hex_as_Cal_com_sends_it_is_valid() =>
        Assert.Equal(SignatureResult.Valid, WebhookSignature.Verify(Ping, VectorSignature, TestKeys));

    [Theory]
    [InlineData("sha256=")]
    [InlineData("SHA256=")]
    public void The_seeds_sha256_prefix_is_accepted(string prefix) =>
        Assert.Equal(SignatureResult.Valid, WebhookSignature.Verify(Ping, prefix + VectorSignature, TestKeys));

    [Fact]
    public void Uppercase_hex_is_valid() =>
        Assert.Equal(SignatureResult.Valid, WebhookSignature.Verify(Ping, VectorSignature.ToUpperInvariant(), TestKeys));

    [Fact]
    public void Uppercase_hex_after_the_prefix_is_valid() =>
        Assert.Equal(SignatureResult.Valid, WebhookSignature.Verify(Ping, "sha256=" + VectorSignature.ToUpperInvariant(), TestKeys));

    [Fact]
    public void Surrounding_whitespace_in_the_header_is_tolerated() =>
        Assert.Equal(SignatureResult.Valid, WebhookSignature.Verify(Ping, " " + VectorSignature + " ", TestKeys));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    public void A_missing_header_is_MissingSignature(string? header) =>
        Assert.Equal(SignatureResult.MissingSignature, WebhookSignature.Verify(Ping, header, TestKeys));

    [Theory]
    [InlineData("no-secret-provided")]
    [InlineData("NO-SECRET-PROVIDED")]
    public void The_no_secret_provided_marker_is_Unsigned(string header) =>
        Assert.Equal(SignatureResult.Unsigned, WebhookSignature.Verify(Ping, header, TestKeys));

    [Theory]
    [InlineData("zz666176e71d3392f59f139a5138ea4fa872bcca41371202ffd6874e458778ae")] // not hex
    [InlineData("79666176e71d3392f59f139a5138ea4fa872bcca41371202ffd6874e458778a")] // 63 chars
    [InlineData("79666176e71d3392f59f139a5138ea4fa872bcca41371202ffd6874e458778ae00")] // 66 chars
    [InlineData("79666176e71d3392f59f139a5138ea4f")] // a 128-bit value
    [InlineData("sha256=")]
    [InlineData("sha1=79666176e71d3392f59f139a5138ea4fa872bcca")]
    [InlineData("sha256=sha256=79666176e71d3392f59f139a5138ea4fa872bcca41371202ffd6874e458778ae")]
    [InlineData("eWZhducdM5L1nxOaUTjqT6hyvMpBNxIC/9aHTkWHeK4=")] // the right HMAC, but Base64
    public void A_header_that_is_not_a_64_character_hex_HMAC_is_MalformedSignature(string header) =>
        Assert.Equal(SignatureResult.MalformedSignature, WebhookSignature.Verify(Ping, header, TestKeys));

    [Fact]
    public void A_well_formed_signature_made_with_another_secret_is_SignatureMismatch() =>
        Assert.Equal(SignatureResult.SignatureMismatch,
            WebhookSignature.Verify(Ping, WebhookSignature.Sign(Ping, Key("someone-elses-secret")), TestKeys));

    [Fact]
    public void A_body_changed_by_one_byte_does_not_verify()
    {
        var changed = (byte[])Ping.Clone();
        changed[^2] ^= 0x01;
        Assert.Equal(SignatureResult.SignatureMismatch, WebhookSignature.Verify(changed, VectorSignature, TestKeys));
    }

    [Fact]
    public void A_reformatted_body_with_the_same_JSON_meaning_does_not_verify()
    {
        // ping.json is the same event pretty-printed: the signature covers bytes, not meaning.
        Assert.Equal(SignatureResult.SignatureMismatch, WebhookSignature.Verify(Examples.Calcom("ping.json"), VectorSignature, TestKeys));
    }

    [Fact]
    public void A_body_with_a_trailing_newline_does_not_verify() =>
        Assert.Equal(SignatureResult.SignatureMismatch, WebhookSignature.Verify([.. Ping, (byte)'\n'], VectorSignature, TestKeys));

    [Fact]
    public void With_two_secrets_a_delivery_signed_with_either_is_valid()
    {
        byte[][] keys = [Key(VectorSecret), Key(TestApp.SecondSecret)];
        Assert.Equal(SignatureResult.Valid, WebhookSignature.Verify(Ping, WebhookSignature.Sign(Ping, keys[0]), keys));
        Assert.Equal(SignatureResult.Valid, WebhookSignature.Verify(Ping, WebhookSignature.Sign(Ping, keys[1]), keys));
        Assert.Equal(SignatureResult.SignatureMismatch, WebhookSignature.Verify(Ping, WebhookSignature.Sign(Ping, Key("third")), keys));
    }

    [Fact]
    public void The_second_secret_alone_does_not_accept_the_first_secrets_signature() =>
        Assert.Equal(SignatureResult.SignatureMismatch, WebhookSignature.Verify(Ping, VectorSignature, [Key(TestApp.SecondSecret)]));

    [Fact]
    public void No_configured_secret_accepts_nothing() =>
        Assert.Equal(SignatureResult.SignatureMismatch, WebhookSignature.Verify(Ping, VectorSignature, []));

    [Fact]
    public void An_empty_body_verifies_only_with_the_HMAC_of_the_empty_body()
    {
        var emptySignature = WebhookSignature.Sign([], Key(VectorSecret));
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.HMACSHA256.HashData(Key(VectorSecret), Array.Empty<byte>())), emptySignature);
        Assert.Equal(SignatureResult.Valid, WebhookSignature.Verify([], emptySignature, TestKeys));
        Assert.Equal(SignatureResult.SignatureMismatch, WebhookSignature.Verify([], VectorSignature, TestKeys));
    }

    [Fact]
    public void The_secret_is_used_as_UTF_8_bytes()
    {
        const string secret = "geheim-äöü-🔑";
        var expected = Convert.ToHexStringLower(System.Security.Cryptography.HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Ping));
        Assert.Equal(SignatureResult.Valid, WebhookSignature.Verify(Ping, expected, [Key(secret)]));
    }
}
