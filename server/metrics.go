package server

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	stdsync "sync"
	"sync/atomic"
	"time"

	"mottagning/app"
)

// Metrics are the server's Prometheus metrics, served in the text format
// (version 0.0.4) by GET /metrics without a client library:
//
//	mottagning_http_requests_total{route,code}       counter
//	mottagning_http_request_duration_seconds{route}  summary (sum and count)
//	mottagning_outbox_queued{channel}                gauge: notifications waiting
//	mottagning_outbox_delivery_failures_total        counter (see AddDeliveryFailures)
//	mottagning_resident_sessions                     gauge
//
// Labels are route patterns and status codes only: never a path, so no id.
type Metrics struct {
	mu       stdsync.Mutex
	requests map[routeCode]uint64
	duration map[string]*durSum

	failures atomic.Uint64

	outboxDepth func(context.Context) (map[app.Channel]int, error)
	sessions    func() int
}

type routeCode struct {
	route string
	code  int
}

type durSum struct {
	sum   float64
	count uint64
}

// NewMetrics returns empty metrics.
func NewMetrics() *Metrics {
	return &Metrics{requests: map[routeCode]uint64{}, duration: map[string]*durSum{}}
}

func (m *Metrics) observe(route string, code int, d time.Duration) {
	m.mu.Lock()
	m.requests[routeCode{route, code}]++
	ds := m.duration[route]
	if ds == nil {
		ds = &durSum{}
		m.duration[route] = ds
	}
	ds.sum += d.Seconds()
	ds.count++
	m.mu.Unlock()
}

// AddDeliveryFailures adds n final delivery failures.
//
// The dispatcher calls it through notify.Dispatcher.OnFailed.
func (m *Metrics) AddDeliveryFailures(n int) { m.failures.Add(uint64(n)) }

// Requests returns the count of requests on route answered with code.
func (m *Metrics) Requests(route string, code int) uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.requests[routeCode{route, code}]
}

// ServeHTTP writes the metrics in the Prometheus text format.
func (m *Metrics) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var b strings.Builder
	m.mu.Lock()
	keys := make([]routeCode, 0, len(m.requests))
	for k := range m.requests {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].route != keys[j].route {
			return keys[i].route < keys[j].route
		}
		return keys[i].code < keys[j].code
	})
	b.WriteString("# HELP mottagning_http_requests_total HTTP requests by route pattern and status code.\n")
	b.WriteString("# TYPE mottagning_http_requests_total counter\n")
	for _, k := range keys {
		fmt.Fprintf(&b, "mottagning_http_requests_total{route=%s,code=\"%d\"} %d\n", quote(k.route), k.code, m.requests[k])
	}
	routes := make([]string, 0, len(m.duration))
	for r := range m.duration {
		routes = append(routes, r)
	}
	sort.Strings(routes)
	b.WriteString("# HELP mottagning_http_request_duration_seconds Time to answer a request, by route pattern.\n")
	b.WriteString("# TYPE mottagning_http_request_duration_seconds summary\n")
	for _, r := range routes {
		ds := m.duration[r]
		fmt.Fprintf(&b, "mottagning_http_request_duration_seconds_sum{route=%s} %s\n", quote(r), strconv.FormatFloat(ds.sum, 'g', -1, 64))
		fmt.Fprintf(&b, "mottagning_http_request_duration_seconds_count{route=%s} %d\n", quote(r), ds.count)
	}
	m.mu.Unlock()

	if m.outboxDepth != nil {
		depth, err := m.outboxDepth(r.Context())
		if err == nil {
			b.WriteString("# HELP mottagning_outbox_queued Notifications waiting to be sent, by channel.\n")
			b.WriteString("# TYPE mottagning_outbox_queued gauge\n")
			for _, ch := range []app.Channel{app.ChannelEmail, app.ChannelSMS} {
				fmt.Fprintf(&b, "mottagning_outbox_queued{channel=%q} %d\n", string(ch), depth[ch])
			}
		}
	}
	b.WriteString("# HELP mottagning_outbox_delivery_failures_total Notifications that failed for good.\n")
	b.WriteString("# TYPE mottagning_outbox_delivery_failures_total counter\n")
	fmt.Fprintf(&b, "mottagning_outbox_delivery_failures_total %d\n", m.failures.Load())
	if m.sessions != nil {
		b.WriteString("# HELP mottagning_resident_sessions Resident sessions currently valid.\n")
		b.WriteString("# TYPE mottagning_resident_sessions gauge\n")
		fmt.Fprintf(&b, "mottagning_resident_sessions %d\n", m.sessions())
	}
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	_, _ = w.Write([]byte(b.String()))
}

// quote escapes a label value (backslash, quote, newline).
func quote(s string) string {
	s = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
	return `"` + s + `"`
}
