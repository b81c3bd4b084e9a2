package sync

import (
	"context"
	"time"
)

// Backoff is the engine's wait after n failures with these bounds.
func Backoff(minWait, maxWait time.Duration, n int) time.Duration {
	return (&Engine{opt: Options{MinBackoff: minWait, MaxBackoff: maxWait}}).backoff(n)
}

// BackoffAfter is the engine's wait after n failures, the last one err,
// with the default bounds.
func BackoffAfter(n int, err error) time.Duration {
	e := &Engine{opt: Options{MinBackoff: DefaultMinBackoff, MaxBackoff: DefaultMaxBackoff, AnsweredMaxBackoff: DefaultAnsweredMaxBackoff}}
	return e.backoffAfter(n, err)
}

// WatchNetwork is the engine's look at the network addresses.
func WatchNetwork(ctx context.Context, every time.Duration, addrs func() ([]string, error), kick func()) {
	watchNetwork(ctx, every, addrs, kick)
}
