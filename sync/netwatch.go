package sync

import (
	"context"
	"net"
	"slices"
	"time"
)

// watchNetwork calls kick when the machine's network addresses change:
// the network came back (or changed), so a sync waiting out its backoff
// should try now. It looks every `every`; a look is one netlink query on
// Linux (net.InterfaceAddrs), cheap enough every few seconds. A failed
// look is skipped: the backoff still retries.
func watchNetwork(ctx context.Context, every time.Duration, addrs func() ([]string, error), kick func()) {
	last, _ := addrs()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now, err := addrs()
		if err != nil {
			continue
		}
		if !slices.Equal(now, last) {
			last = now
			kick()
		}
	}
}

// netAddrs is the sorted list of the machine's interface addresses.
func netAddrs() ([]string, error) {
	as, err := net.InterfaceAddrs()
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(as))
	for _, a := range as {
		out = append(out, a.String())
	}
	slices.Sort(out)
	return out, nil
}
