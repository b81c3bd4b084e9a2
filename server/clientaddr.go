package server

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"strings"
	stdsync "sync"
	"time"

	"golang.org/x/time/rate"

	"mottagning/app"
)

// clientAddr is the address a request came from, as the limits key it.
// The connection's peer, unless that peer is one of the configured
// trusted proxies (Deps.TrustedProxies): then X-Forwarded-For is read
// from the right, past every trusted proxy, and the first address no
// trusted proxy vouches for is the client. A header from anyone else is
// ignored, so a client cannot choose its own key by sending one.
func clientAddr(r *http.Request, trusted []netip.Prefix) string {
	peer := peerAddr(r)
	if len(trusted) == 0 || !inPrefixes(peer, trusted) {
		return keyOf(peer, r.RemoteAddr)
	}
	hops := r.Header.Values("X-Forwarded-For")
	var list []string
	for _, h := range hops {
		for _, p := range strings.Split(h, ",") {
			list = append(list, strings.TrimSpace(p))
		}
	}
	client := peer
	for i := len(list) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(list[i])
		if err != nil {
			break // a malformed hop: keep the last address a trusted proxy named
		}
		client = a.Unmap()
		if !inPrefixes(client, trusted) {
			break
		}
	}
	return keyOf(client, r.RemoteAddr)
}

func peerAddr(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}

func keyOf(a netip.Addr, remote string) string {
	if !a.IsValid() {
		return remote
	}
	if a.Is6() {
		// One IPv6 client holds a whole /64: key by it, or rotating the
		// low bits would give a fresh bucket per request.
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}

func inPrefixes(a netip.Addr, ps []netip.Prefix) bool {
	if !a.IsValid() {
		return false
	}
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// ParseTrustedProxies reads the trusted proxies of the configuration:
// addresses or CIDR prefixes.
func ParseTrustedProxies(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range list {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, err
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// addrLimits is a token bucket per client address (golang.org/x/time/rate)
// for an endpoint anyone may call: the resident's e-ID start, the test
// notification. Memory is bounded: past maxKeys, buckets idle long enough
// to be full again are dropped.
type addrLimits struct {
	clock   app.Clock
	every   rate.Limit
	burst   int
	mu      stdsync.Mutex
	buckets map[string]*addrBucket
}

type addrBucket struct {
	lim  *rate.Limiter
	seen time.Time
}

const addrLimitsMaxKeys = 100000

func newAddrLimits(clock app.Clock, perMinute float64, burst int) *addrLimits {
	return &addrLimits{clock: clock, every: rate.Limit(perMinute / 60), burst: burst, buckets: map[string]*addrBucket{}}
}

func (l *addrLimits) allow(_ context.Context, key string) bool {
	now := l.clock.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) >= addrLimitsMaxKeys {
			full := time.Duration(float64(l.burst) / float64(l.every) * float64(time.Second))
			for k, o := range l.buckets {
				if now.Sub(o.seen) > full {
					delete(l.buckets, k)
				}
			}
		}
		b = &addrBucket{lim: rate.NewLimiter(l.every, l.burst)}
		l.buckets[key] = b
	}
	b.seen = now
	return b.lim.AllowN(now, 1)
}
