package staffauth

import (
	stdsync "sync"
	"time"

	"mottagning/app"
)

// FailureLimit counts failed sign-ins per client address: Blocked
// reports whether the address has used them up for now, Take counts one.
// Limiter keeps the count in memory; on a shared database the server
// gives one that keeps it there (Options.Failures), so that an address's
// failures at every node count together.
type FailureLimit interface {
	Blocked(key string) bool
	Take(key string)
}

// Limiter is a token bucket per key (a client address) in memory: each key
// may make Burst requests at once and then Rate per minute. It guards
// sign-in against guessing spread over many accounts, which the per-account
// lock does not see. State is lost on restart, which is fine for a limit
// measured in minutes.
type Limiter struct {
	clock app.Clock
	rate  float64 // tokens per second
	burst float64

	mu      stdsync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

// limiterMaxKeys bounds memory: past it, full buckets (keys idle long
// enough to have refilled) are dropped.
const limiterMaxKeys = 10000

// NewLimiter returns a Limiter allowing burst requests per key at once
// and perMinute per minute after that.
func NewLimiter(clock app.Clock, perMinute float64, burst int) *Limiter {
	return &Limiter{clock: clock, rate: perMinute / 60, burst: float64(burst), buckets: map[string]*bucket{}}
}

// Allow takes one token from key's bucket and reports whether there was one.
func (l *Limiter) Allow(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.refill(key)
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// Blocked reports whether key's bucket is empty, taking nothing.
func (l *Limiter) Blocked(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.refill(key).tokens < 1
}

// Take takes one token from key's bucket if it has one (a failure).
func (l *Limiter) Take(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if b := l.refill(key); b.tokens >= 1 {
		b.tokens--
	}
}

// refill returns key's bucket, refilled up to now. The caller holds l.mu.
func (l *Limiter) refill(key string) *bucket {
	now := l.clock.Now()
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) >= limiterMaxKeys {
			l.sweep(now)
		}
		b = &bucket{tokens: l.burst, at: now}
		l.buckets[key] = b
	}
	if d := now.Sub(b.at); d > 0 {
		b.tokens = min(l.burst, b.tokens+d.Seconds()*l.rate)
		b.at = now
	}
	return b
}

func (l *Limiter) sweep(now time.Time) {
	for k, b := range l.buckets {
		if b.tokens+now.Sub(b.at).Seconds()*l.rate >= l.burst {
			delete(l.buckets, k)
		}
	}
}
