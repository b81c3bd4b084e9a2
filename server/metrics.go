package server

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"mottagning/app"
)

// Metrics are the server's Prometheus metrics (the Prometheus Go client,
// github.com/prometheus/client_golang), served by MetricsHandler on a
// listen address of their own (mottagning-server --metrics-addr, loopback
// by default), never on the public API:
//
//	mottagning_http_requests_total{route,code}          counter
//	mottagning_http_request_duration_seconds{route}     histogram
//	mottagning_outbox_queued{channel}                   gauge: notifications waiting
//	mottagning_outbox_delivery_failures_total           counter (see AddDeliveryFailures)
//	mottagning_resident_sessions                        gauge
//	mottagning_build_info{version,goversion}            gauge, 1
//	go_*, process_*                                     the client's Go and process collectors
//
// Labels are route patterns and status codes only: never a path, so no id.
type Metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	failures prometheus.Counter

	outboxDepth func(context.Context) (map[app.Channel]int, error)
	sessions    func() int
}

// NewMetrics returns the metrics of a server of version (its build's
// `mottagning-server version`).
func NewMetrics(version string) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "mottagning_http_requests_total", Help: "HTTP requests by route pattern and status code.",
	}, []string{"route", "code"})
	m.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "mottagning_http_request_duration_seconds", Help: "Time to answer a request, by route pattern.",
		// 1 ms to 30 s: a healthz in microseconds, a cold sync page in seconds.
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
	}, []string{"route"})
	m.failures = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "mottagning_outbox_delivery_failures_total", Help: "Notifications that failed for good.",
	})
	build := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "mottagning_build_info", Help: "The server's version (1).",
	}, []string{"version"})
	if version == "" {
		version = "dev"
	}
	build.WithLabelValues(version).Set(1)
	m.reg.MustRegister(m.requests, m.duration, m.failures, build, (*state)(m),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewBuildInfoCollector())
	return m
}

func (m *Metrics) observe(route string, code int, d time.Duration) {
	m.requests.WithLabelValues(route, strconv.Itoa(code)).Inc()
	m.duration.WithLabelValues(route).Observe(d.Seconds())
}

// AddDeliveryFailures adds n final delivery failures.
//
// The dispatcher calls it through notify.Dispatcher.OnFailed.
func (m *Metrics) AddDeliveryFailures(n int) { m.failures.Add(float64(n)) }

// Handler serves the metrics in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// state collects the gauges read at scrape time: the outbox's depth per
// channel and the resident sessions.
type state Metrics

var (
	outboxDesc   = prometheus.NewDesc("mottagning_outbox_queued", "Notifications waiting to be sent, by channel.", []string{"channel"}, nil)
	sessionsDesc = prometheus.NewDesc("mottagning_resident_sessions", "Resident sessions currently valid.", nil, nil)
)

func (s *state) Describe(ch chan<- *prometheus.Desc) {
	ch <- outboxDesc
	ch <- sessionsDesc
}

func (s *state) Collect(ch chan<- prometheus.Metric) {
	if s.outboxDepth != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		depth, err := s.outboxDepth(ctx)
		cancel()
		if err == nil {
			for _, c := range []app.Channel{app.ChannelEmail, app.ChannelSMS} {
				ch <- prometheus.MustNewConstMetric(outboxDesc, prometheus.GaugeValue, float64(depth[c]), string(c))
			}
		}
	}
	if s.sessions != nil {
		ch <- prometheus.MustNewConstMetric(sessionsDesc, prometheus.GaugeValue, float64(s.sessions()))
	}
}
