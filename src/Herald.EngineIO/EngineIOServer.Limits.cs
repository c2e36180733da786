using System.Net;
using Microsoft.AspNetCore.Http;

namespace Herald.EngineIO;

/// <summary>
/// Admission of handshakes: <see cref="EngineIOOptions.MaxConnections"/>, <see cref="EngineIOOptions.MaxConnectionsPerIp"/>
/// and <see cref="EngineIOOptions.HandshakeRateLimitPerIp"/>. A slot is taken before the handshake and given back
/// when the session leaves the registry (or the handshake fails before there is a session). One lock guards the
/// per-address tables: it is taken once per handshake and once per session end, never per message.
/// </summary>
public sealed partial class EngineIOServer
{
    private readonly Lock _admissionLock = new();
    private readonly Dictionary<IPAddress, int> _connectionsPerIp = [];
    private readonly Dictionary<IPAddress, RateBucket> _rateBuckets = [];
    private int _admitted;
    private long _nextBucketPrune;

    /// <summary>Sessions admitted and not yet ended (a handshake in progress counts).</summary>
    internal int AdmittedCount => Volatile.Read(ref _admitted);

    private static IPAddress? NormalizeAddress(IPAddress? address)
        => address is { IsIPv4MappedToIPv6: true } ? address.MapToIPv4() : address;

    /// <summary>Takes a connection slot, or says why not (status and message of the refusal).</summary>
    private (int Status, string Message)? TryAdmit(IPAddress? address)
    {
        var perIp = Options.MaxConnectionsPerIp;
        var rate = Options.HandshakeRateLimitPerIp;
        lock (_admissionLock)
        {
            if (rate is not null && address is not null && !TakeToken(address, rate))
            {
                EngineIOLog.HandshakeRefused(Logger, address, "handshake rate");
                return (StatusCodes.Status429TooManyRequests, "Too many handshakes from this address");
            }

            if (_admitted >= Options.MaxConnections)
            {
                EngineIOLog.HandshakeRefused(Logger, address, "MaxConnections");
                return (StatusCodes.Status503ServiceUnavailable, "Too many connections");
            }

            if (perIp is int max && address is not null)
            {
                _connectionsPerIp.TryGetValue(address, out var count);
                if (count >= max)
                {
                    EngineIOLog.HandshakeRefused(Logger, address, "MaxConnectionsPerIp");
                    return (StatusCodes.Status503ServiceUnavailable, "Too many connections from this address");
                }

                _connectionsPerIp[address] = count + 1;
            }

            _admitted++;
        }

        return null;
    }

    private void ReleaseSlot(IPAddress? address)
    {
        lock (_admissionLock)
        {
            _admitted--;
            if (Options.MaxConnectionsPerIp is not null && address is not null && _connectionsPerIp.TryGetValue(address, out var count))
            {
                if (count <= 1)
                {
                    _connectionsPerIp.Remove(address);
                }
                else
                {
                    _connectionsPerIp[address] = count - 1;
                }
            }
        }
    }

    private bool TakeToken(IPAddress address, EngineIORateLimit rate)
    {
        var now = Now;
        if (!_rateBuckets.TryGetValue(address, out var bucket))
        {
            bucket = new RateBucket { Tokens = rate.Burst, Updated = now };
            _rateBuckets[address] = bucket;
        }

        var elapsed = (double)(now - bucket.Updated) / _time.TimestampFrequency;
        bucket.Tokens = Math.Min(rate.Burst, bucket.Tokens + (elapsed * rate.PermitsPerSecond));
        bucket.Updated = now;
        if (bucket.Tokens < 1)
        {
            return false;
        }

        bucket.Tokens -= 1;
        return true;
    }

    /// <summary>Forgets, every 10 s, the buckets that have refilled: an address that stopped knocking costs nothing.</summary>
    private void PruneRateBuckets(long now)
    {
        if (Options.HandshakeRateLimitPerIp is not { } rate || now < _nextBucketPrune)
        {
            return;
        }

        _nextBucketPrune = now + ToTimestamp(TimeSpan.FromSeconds(10));
        lock (_admissionLock)
        {
            List<IPAddress>? full = null;
            foreach (var pair in _rateBuckets)
            {
                var elapsed = (double)(now - pair.Value.Updated) / _time.TimestampFrequency;
                if (pair.Value.Tokens + (elapsed * rate.PermitsPerSecond) >= rate.Burst)
                {
                    (full ??= []).Add(pair.Key);
                }
            }

            if (full is not null)
            {
                foreach (var address in full)
                {
                    _rateBuckets.Remove(address);
                }
            }
        }
    }

    private sealed class RateBucket
    {
        public double Tokens { get; set; }

        public long Updated { get; set; }
    }
}
