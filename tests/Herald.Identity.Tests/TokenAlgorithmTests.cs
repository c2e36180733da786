using System.Security.Cryptography;
using System.Text;
using Microsoft.IdentityModel.Tokens;

namespace Herald.Identity.Tests;

/// <summary>Connection tokens for every key kind, checked end to end through a real Socket.IO connection.</summary>
public sealed class TokenAlgorithmTests
{
    public enum KeyKind
    {
        Hs256,
        Rs256Pem,
        Es256Pem,
        Rs256Jwks,
        Es256Jwks,
    }

    public enum BadToken
    {
        Expired,
        WrongIssuer,
        WrongAudience,
        ForgedSignature,
        TamperedPayload,
        AlgNone,
    }

    public static TheoryData<KeyKind> Kinds => [.. Enum.GetValues<KeyKind>()];

    public static TheoryData<KeyKind, BadToken> KindsAndBadTokens()
    {
        var data = new TheoryData<KeyKind, BadToken>();
        foreach (var kind in Enum.GetValues<KeyKind>())
        {
            foreach (var bad in Enum.GetValues<BadToken>())
            {
                data.Add(kind, bad);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task AValidTokenConnectsAsItsUserWithItsChannels(KeyKind kind)
    {
        await using var setup = await Setup.StartAsync(kind);
        await using var node = await IdentityNode.StartAsync(setup.Configure);
        await using var alice = await node.ConnectAsync(setup.Token(channels: ["news", "sport"]));
        await using var anonymous = await node.ConnectAsync(null);

        await node.Publisher.UserAsync("bob", "private", "not for alice");
        await node.Publisher.UserAsync("alice", "private", "for alice");
        Assert.Equal("for alice", (await alice.NextAsync("private")).Args[0].GetString());

        await node.Publisher.ChannelAsync("sport", "score", 3);
        var score = await alice.NextAsync("score");
        Assert.Equal(3, score.Args[0].GetInt32());
        Assert.Equal("sport", score.Args[1].GetString());

        // The anonymous socket got none of it: its next event is the marker.
        await node.Publisher.AllAsync("marker");
        await anonymous.NextAsync("marker");
        await alice.NextAsync("marker");
    }

    [Theory]
    [MemberData(nameof(KindsAndBadTokens))]
    public async Task ABadTokenIsRefusedWithAClearConnectError(KeyKind kind, BadToken bad)
    {
        await using var setup = await Setup.StartAsync(kind);
        await using var node = await IdentityNode.StartAsync(setup.Configure);
        var (token, code) = bad switch
        {
            BadToken.Expired => (setup.Token(expires: DateTime.UtcNow.AddMinutes(-10)), TokenErrorCodes.Expired),
            BadToken.WrongIssuer => (setup.Token(issuer: "https://evil.example"), TokenErrorCodes.InvalidIssuer),
            BadToken.WrongAudience => (setup.Token(audience: "someone-else"), TokenErrorCodes.InvalidAudience),
            BadToken.ForgedSignature => (TestTokens.Create(setup.ForgeryKey, setup.Algorithm), TokenErrorCodes.InvalidSignature),
            BadToken.TamperedPayload => (TestTokens.Tampered(setup.Token(), "mallory"), TokenErrorCodes.InvalidSignature),
            _ => (TestTokens.Unsigned(), TokenErrorCodes.Malformed),
        };

        var refused = await node.RefusedAsync(token);
        Assert.Equal(code, refused.Code);
        Assert.False(string.IsNullOrEmpty(refused.Error.GetProperty("message").GetString()));
        Assert.Equal(refused.Error.GetProperty("message").GetString(), refused.Error.GetProperty("data").GetProperty("message").GetString());

        // The same refusal over SSE is a 401 naming the code.
        await using var sse = await node.OpenSseAsync("?token=" + Uri.EscapeDataString(token));
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, sse.StatusCode);
        Assert.Contains(code, sse.Response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnHmacTokenIsRefusedWhereAnRsaKeyIsConfigured()
    {
        // Algorithm confusion: an HS256 token "signed" with the public key as the secret must not pass.
        await using var node = await IdentityNode.StartAsync(o => o.PublicKeyPem = TestTokens.RsaPublicPem);
        var confused = TestTokens.Create(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(TestTokens.RsaPublicPem)), SecurityAlgorithms.HmacSha256);
        Assert.Equal(TokenErrorCodes.Malformed, (await node.RefusedAsync(confused)).Code);
        Assert.Equal(TokenErrorCodes.Malformed, (await node.RefusedAsync("not-a-jwt")).Code);
        await using var ok = await node.ConnectAsync(TestTokens.Create(TestTokens.RsaKey, SecurityAlgorithms.RsaSha256, issuer: "any", audience: "any"));
    }

    [Fact]
    public async Task ATokenWithoutExpiryIsRefused()
    {
        await using var node = await IdentityNode.StartAsync(o => o.HmacSecret = TestTokens.Secret);
        var handler = new Microsoft.IdentityModel.JsonWebTokens.JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false };
        var forever = handler.CreateToken(new SecurityTokenDescriptor
        {
            Claims = new Dictionary<string, object> { ["sub"] = "alice" },
            SigningCredentials = new SigningCredentials(TestTokens.HmacKey, SecurityAlgorithms.HmacSha256),
        });
        Assert.Equal(TokenErrorCodes.InvalidLifetime, (await node.RefusedAsync(forever)).Code);
    }

    [Fact]
    public async Task JwksKeyRotationAcceptsATokenWithTheNewKidAndUnknownKidsCannotHammerTheKeyServer()
    {
        var k1 = new RsaSecurityKey(RSA.Create(2048)) { KeyId = "k1" };
        var k2 = new RsaSecurityKey(RSA.Create(2048)) { KeyId = "k2" };
        await using var jwks = await JwksServer.StartAsync(k1);
        await using var node = await IdentityNode.StartAsync(o =>
        {
            o.JwksUrl = jwks.Url;
            o.JwksMinRefreshInterval = TimeSpan.Zero;
        });

        await using (await node.ConnectAsync(TestTokens.Create(k1, SecurityAlgorithms.RsaSha256)))
        {
        }

        Assert.Equal(1, jwks.Fetches);

        // k2 is not published yet: its token is refused (after one look at the key set).
        Assert.Equal(TokenErrorCodes.InvalidSignature, (await node.RefusedAsync(TestTokens.Create(k2, SecurityAlgorithms.RsaSha256))).Code);
        Assert.Equal(2, jwks.Fetches);

        // The provider rotates: a token with the new kid is accepted without restarting the hub.
        jwks.Publish(k2, k1);
        await using (var client = await node.ConnectAsync(TestTokens.Create(k2, SecurityAlgorithms.RsaSha256, sub: "rotated")))
        {
            await node.Publisher.UserAsync("rotated", "hello", 1);
            await client.NextAsync("hello");
        }

        Assert.Equal(3, jwks.Fetches);

        // Known kids do not fetch again within the refresh interval.
        await using (await node.ConnectAsync(TestTokens.Create(k1, SecurityAlgorithms.RsaSha256)))
        {
        }

        Assert.Equal(3, jwks.Fetches);
    }

    [Fact]
    public async Task UnknownKidsFetchTheKeySetAtMostOncePerMinimumInterval()
    {
        var k1 = new RsaSecurityKey(RSA.Create(2048)) { KeyId = "k1" };
        await using var jwks = await JwksServer.StartAsync(k1);
        await using var node = await IdentityNode.StartAsync(o =>
        {
            o.JwksUrl = jwks.Url;
            o.JwksMinRefreshInterval = TimeSpan.FromHours(1);
        });

        for (var i = 0; i < 20; i++)
        {
            var forged = new RsaSecurityKey(RSA.Create(2048)) { KeyId = "forged-" + i };
            Assert.Equal(TokenErrorCodes.InvalidSignature, (await node.RefusedAsync(TestTokens.Create(forged, SecurityAlgorithms.RsaSha256))).Code);
        }

        Assert.Equal(1, jwks.Fetches);
    }

    [Fact]
    public async Task AnUnreachableKeySetRefusesTokensInsteadOfLettingThemIn()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop(); // nothing listens there now: connection refused
        await using var node = await IdentityNode.StartAsync(
            o =>
            {
                o.JwksUrl = new Uri($"http://127.0.0.1:{port}/jwks");
                o.JwksTimeout = TimeSpan.FromSeconds(2);
            },
            allowWarnings: true);
        Assert.Equal(TokenErrorCodes.KeysUnavailable, (await node.RefusedAsync(TestTokens.Create(TestTokens.RsaKey, SecurityAlgorithms.RsaSha256))).Code);
    }

    /// <summary>One key kind: how the hub is configured, how the backend signs, and a key an attacker might sign with.</summary>
    internal sealed class Setup : IAsyncDisposable
    {
        private JwksServer? _jwks;

        public required Action<HeraldIdentityOptions> KeySource { get; init; }

        public required SecurityKey Key { get; init; }

        public required string Algorithm { get; init; }

        public required SecurityKey ForgeryKey { get; init; }

        public void Configure(HeraldIdentityOptions o)
        {
            KeySource(o);
            o.Issuer = TestTokens.Issuer;
            o.Audience = TestTokens.Audience;
        }

        public string Token(IEnumerable<string>? channels = null, string issuer = TestTokens.Issuer, string audience = TestTokens.Audience, DateTime? expires = null)
            => TestTokens.Create(Key, Algorithm, channels: channels, issuer: issuer, audience: audience, expires: expires);

        public static async Task<Setup> StartAsync(KeyKind kind)
        {
            switch (kind)
            {
                case KeyKind.Hs256:
                    return new Setup
                    {
                        KeySource = o => o.HmacSecret = TestTokens.Secret,
                        Key = TestTokens.HmacKey,
                        Algorithm = SecurityAlgorithms.HmacSha256,
                        ForgeryKey = new SymmetricSecurityKey(Encoding.UTF8.GetBytes("another-secret-of-at-least-32-bytes!!!")),
                    };
                case KeyKind.Rs256Pem:
                    return new Setup
                    {
                        KeySource = o => o.PublicKeyPem = TestTokens.RsaPublicPem,
                        Key = TestTokens.RsaKey,
                        Algorithm = SecurityAlgorithms.RsaSha256,
                        ForgeryKey = new RsaSecurityKey(RSA.Create(2048)) { KeyId = TestTokens.RsaKey.KeyId },
                    };
                case KeyKind.Es256Pem:
                    return new Setup
                    {
                        KeySource = o => o.PublicKeyPem = TestTokens.EcPublicPem,
                        Key = TestTokens.EcKey,
                        Algorithm = SecurityAlgorithms.EcdsaSha256,
                        ForgeryKey = new ECDsaSecurityKey(ECDsa.Create(ECCurve.NamedCurves.nistP256)) { KeyId = TestTokens.EcKey.KeyId },
                    };
                default:
                    var jwks = await JwksServer.StartAsync(TestTokens.RsaKey, TestTokens.EcKey);
                    var rsa = kind == KeyKind.Rs256Jwks;
                    return new Setup
                    {
                        _jwks = jwks,
                        KeySource = o => o.JwksUrl = jwks.Url,
                        Key = rsa ? TestTokens.RsaKey : TestTokens.EcKey,
                        Algorithm = rsa ? SecurityAlgorithms.RsaSha256 : SecurityAlgorithms.EcdsaSha256,
                        ForgeryKey = rsa
                            ? new RsaSecurityKey(RSA.Create(2048)) { KeyId = TestTokens.RsaKey.KeyId }
                            : new ECDsaSecurityKey(ECDsa.Create(ECCurve.NamedCurves.nistP256)) { KeyId = TestTokens.EcKey.KeyId },
                    };
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (_jwks is not null)
            {
                await _jwks.DisposeAsync();
            }
        }
    }
}
