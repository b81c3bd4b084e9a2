// Package server is the HTTP/JSON API of the central server: the staff API
// the desktop calls, the resident API 1177.se would call (e-ID sign-in,
// inbox, proxy mode, settings, lock), and the loopback-only admin API
// (online backup, register import). It is transport only: every rule is
// enforced by the app services it calls, which also write the access log;
// the handlers add authentication, decoding limits and error mapping.
//
// Wire types live in package client, which the server's own tests drive.
// Errors are {"code", "message"} with a stable code (ErrorCodes) and a
// Swedish message; they never carry a personnummer, a name or message text,
// and neither do the request logs (route pattern, status and duration only).
package server

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"runtime/debug"
	"strings"
	stdsync "sync"
	"time"

	"mottagning/app"
)

// MaxBody is the largest request body accepted (1 MiB); a bigger one is
// refused with 413 and code "too_large" before it is decoded.
const MaxBody = 1 << 20

// Deps are what the server is built from. Store is required; the services
// are built over it behind the write gate (see Gate). Staff may be nil (no
// staff sign-in: staff endpoints answer 401) and EID may be nil (resident
// sign-in answers 503 "eid_unavailable").
type Deps struct {
	Store  Store
	Staff  StaffAuth
	EID    EIDProvider
	Clock  app.Clock
	Logger *slog.Logger
	// TestSender sends "Skicka testavisering"; nil: not configured.
	TestSender app.TestSender
	// ResidentTTL is the lifetime of a resident session (default 30 min).
	ResidentTTL time.Duration
	// Metrics collects request counts; nil makes a new one.
	Metrics *Metrics
	// TrustedProxies are the reverse proxies and load balancers whose
	// X-Forwarded-For is believed (clientAddr); empty: none, every limit
	// keys by the connection's peer.
	TrustedProxies []netip.Prefix
	// ResidentStartPerMinute and TestNotifyPerMinute limit, per client
	// address, the e-ID starts (each one is an order at the e-ID
	// provider) and the test notifications (each one a message to any
	// address); the burst is the same number. Defaults 10 and 5.
	ResidentStartPerMinute, TestNotifyPerMinute int
}

// Server serves the API. Build it with New; it is safe for concurrent use.
type Server struct {
	// pushing holds one mutex per device: a device's pushes are applied
	// one at a time (sync.go), so a push that arrives twice at once
	// (a retry racing the original) cannot pass the op memory twice.
	pushing   stdsync.Map
	store     Store
	gate      *Gate
	cases     *app.CaseService
	audit     *app.AuditService
	residents *app.ResidentService
	contact   *app.ContactCenterService
	templates *app.TemplateService
	eservices *app.EServiceService
	notifyAdm *app.NotificationAdmin
	staff     StaffAuth
	eid       EIDProvider
	clock     app.Clock
	log       *slog.Logger
	metrics   *Metrics
	sessions  sessionKeeper
	children  children
	trusted   []netip.Prefix
	startLim  limiter
	testLim   limiter
}

// New builds a server over deps and loads the guardian index from the store.
func New(ctx context.Context, deps Deps) (*Server, error) {
	if deps.Store == nil {
		return nil, fmt.Errorf("server: no store: %w", app.ErrInvalid)
	}
	if deps.Clock == nil {
		deps.Clock = app.SystemClock{}
	}
	if deps.Logger == nil {
		deps.Logger = slog.Default()
	}
	if deps.Metrics == nil {
		deps.Metrics = NewMetrics("")
	}
	if deps.ResidentTTL <= 0 {
		deps.ResidentTTL = 30 * time.Minute
	}
	if deps.ResidentStartPerMinute <= 0 {
		deps.ResidentStartPerMinute = 10
	}
	if deps.TestNotifyPerMinute <= 0 {
		deps.TestNotifyPerMinute = 5
	}
	gate := NewGate(deps.Store)
	s := &Server{
		trusted:   deps.TrustedProxies,
		store:     deps.Store,
		gate:      gate,
		cases:     app.NewCaseService(gate, deps.Clock),
		audit:     app.NewAuditService(gate, deps.Clock),
		residents: app.NewResidentService(gate, deps.Clock),
		contact:   app.NewContactCenterService(gate, deps.Clock),
		templates: app.NewTemplateService(gate, deps.Clock),
		eservices: app.NewEServiceService(gate, deps.Clock),
		notifyAdm: app.NewNotificationAdmin(deps.TestSender),
		staff:     deps.Staff,
		eid:       deps.EID,
		clock:     deps.Clock,
		log:       deps.Logger,
		metrics:   deps.Metrics,
	}
	s.useState(deps)
	// The server is the system of record: its writes feed the desktops.
	if err := gate.SetChangeFeed(ctx); err != nil {
		return nil, fmt.Errorf("server: change feed: %w", err)
	}
	if err := s.children.reload(ctx); err != nil {
		return nil, fmt.Errorf("server: guardian index: %w", err)
	}
	deps.Metrics.outboxDepth = gate.outboxDepth
	deps.Metrics.sessions = s.sessions.count
	return s, nil
}

// Gate is the store the server's services write through; the notification
// dispatcher must use it too (as its app.Outbox), so that an online backup
// sees no write in flight.
func (s *Server) Gate() *Gate { return s.gate }

// MetricsHandler serves GET /metrics (Prometheus) and GET /healthz, for a
// listener of their own: the metrics name routes and counts, which the
// public has no business reading.
func (s *Server) MetricsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", s.metrics.Handler())
	mux.HandleFunc("GET /healthz", s.handleHealthz)
	return mux
}

// Metrics returns the server's metrics.
func (s *Server) Metrics() *Metrics { return s.metrics }

// Cases is the staff case service the server uses (tests and benchmarks
// warm its index through it).
func (s *Server) Cases() *app.CaseService { return s.cases }

// Handler is the public API: /healthz, /api/staff/..., /api/resident/....
// The metrics are not on it (MetricsHandler).
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.handleHealthz)

	// Staff sign-in.
	mux.HandleFunc("POST /api/staff/auth/signin", s.staffSignIn)
	mux.HandleFunc("POST /api/staff/auth/refresh", s.staffRefresh)
	mux.HandleFunc("POST /api/staff/auth/signout", s.withStaff(s.staffSignOut))
	mux.HandleFunc("GET /api/staff/me", s.withStaff(s.staffMe))

	// Staff, per clinic.
	const c = "/api/staff/clinics/{clinic}"
	mux.HandleFunc("GET "+c+"/cases", s.withClinic(s.listCases))
	mux.HandleFunc("POST "+c+"/cases", s.withClinic(s.sendCase))
	mux.HandleFunc("POST "+c+"/cases/search", s.withClinic(s.searchCases))
	mux.HandleFunc("GET "+c+"/cases/{case}", s.withClinic(s.openCase))
	mux.HandleFunc("POST "+c+"/cases/{case}/replies", s.withClinic(s.staffReply))
	mux.HandleFunc("POST "+c+"/cases/{case}/notes", s.withClinic(s.addNote))
	mux.HandleFunc("POST "+c+"/cases/{case}/assign", s.withClinic(s.assign))
	mux.HandleFunc("POST "+c+"/cases/{case}/close", s.withClinic(s.closeCase))
	mux.HandleFunc("POST "+c+"/cases/{case}/reopen", s.withClinic(s.reopenCase))
	mux.HandleFunc("GET "+c+"/cases/{case}/notifications", s.withClinic(s.caseNotifications))
	mux.HandleFunc("POST "+c+"/residents/lookup", s.withClinic(s.lookupResident))
	mux.HandleFunc("GET "+c+"/templates", s.withClinic(s.listTemplates))
	mux.HandleFunc("POST "+c+"/children/{child}/guardians/{guardian}/block", s.withClinic(s.blockGuardian))
	mux.HandleFunc("POST "+c+"/notifications/test", s.withClinic(s.testNotification))

	// Staff, region roles (kontaktcenter).
	mux.HandleFunc("POST /api/staff/region/residents/find", s.withStaff(s.regionFind))
	mux.HandleFunc("POST /api/staff/region/residents/lock", s.withStaff(s.regionLock))
	mux.HandleFunc("POST /api/staff/region/residents/seal", s.withStaff(s.regionSeal))

	// Resident. Every route but sign-in and sign-out needs a session whose
	// login is still usable (active: R10).
	mux.HandleFunc("POST /api/resident/auth/start", s.eidStart)
	mux.HandleFunc("POST /api/resident/auth/collect", s.eidCollect)
	mux.HandleFunc("POST /api/resident/auth/signout", s.withResident(s.residentSignOut))
	mux.HandleFunc("GET /api/resident/me", s.withResident(s.active(s.residentMe)))
	mux.HandleFunc("GET /api/resident/clinics", s.withResident(s.active(s.residentClinics)))
	mux.HandleFunc("GET /api/resident/cases", s.withResident(s.active(s.inbox)))
	mux.HandleFunc("POST /api/resident/cases", s.withResident(s.active(s.startCase)))
	mux.HandleFunc("GET /api/resident/cases/{case}", s.withResident(s.active(s.readCase)))
	mux.HandleFunc("POST /api/resident/cases/{case}/replies", s.withResident(s.active(s.residentReply)))
	mux.HandleFunc("PUT /api/resident/settings", s.withResident(s.active(s.updateSettings)))
	mux.HandleFunc("GET /api/resident/children", s.withResident(s.active(s.listChildren)))
	mux.HandleFunc("POST /api/resident/children/{child}/activate", s.withResident(s.active(s.activateProxy)))
	mux.HandleFunc("PUT /api/resident/children/{child}/contact", s.withResident(s.active(s.setGuardianContact)))
	mux.HandleFunc("POST /api/resident/lock", s.withResident(s.active(s.lockSelf)))
	mux.HandleFunc("PUT /api/resident/journal-seal", s.withResident(s.active(s.sealSelf)))
	s.submitRoutes(mux)      // e-service submissions (submit.go)
	s.residentLogRoutes(mux) // the resident's own log extract (residentlog.go)

	// Sync of connected desktops (sync.go) and the keys a desktop
	// registers about itself: escrow, access-log key and checkpoints (auth.go).
	s.syncRoutes(mux)
	s.deviceRoutes(mux)

	return s.middleware(mux)
}

func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	// A read transaction proves the database file is open and readable.
	if _, err := s.store.Clinics(r.Context()); err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("database unavailable\n"))
		return
	}
	_, _ = w.Write([]byte("ok\n"))
}

// middleware counts and logs every request by route pattern (never the path
// or query, which carry ids), recovers panics as "internal", turns the
// mux's own 404 and 405 into JSON errors, and sets no-store headers.
func (s *Server) middleware(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		h := w.Header()
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		defer func() {
			if p := recover(); p != nil {
				s.log.Error("panic", "route", r.Pattern, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				if !sw.wrote {
					writeErr(sw, http.StatusInternalServerError, codeInternal, "")
				}
			}
			route := r.Pattern
			if route == "" {
				route = "unmatched"
			}
			d := time.Since(start)
			s.metrics.observe(route, sw.status, d)
			s.log.LogAttrs(r.Context(), slog.LevelInfo, "request",
				slog.String("method", r.Method), slog.String("route", route),
				slog.Int("status", sw.status), slog.Duration("duration", d))
		}()
		if _, pattern := mux.Handler(r); pattern == "" {
			// Not found, or a known path with another method: let the mux
			// decide which (and set Allow), then answer in JSON.
			rec := &discardWriter{header: http.Header{}}
			mux.ServeHTTP(rec, r)
			if allow := rec.header.Get("Allow"); allow != "" {
				sw.Header().Set("Allow", allow)
			}
			switch rec.status {
			case http.StatusMethodNotAllowed:
				writeErr(sw, rec.status, codeMethodNotAllowed, "")
			case http.StatusMovedPermanently, http.StatusPermanentRedirect, http.StatusTemporaryRedirect, http.StatusFound:
				// A redirect to the cleaned path: answer 404 instead of
				// echoing a path back.
				writeErr(sw, http.StatusNotFound, codeNotFound, "")
			default:
				writeErr(sw, http.StatusNotFound, codeNotFound, "")
			}
			return
		}
		mux.ServeHTTP(sw, r)
	})
}

// discardWriter captures the status and headers of the mux's own answer.
type discardWriter struct {
	header http.Header
	status int
}

func (d *discardWriter) Header() http.Header { return d.header }
func (d *discardWriter) Write(b []byte) (int, error) {
	if d.status == 0 {
		d.status = http.StatusOK
	}
	return len(b), nil
}
func (d *discardWriter) WriteHeader(code int) {
	if d.status == 0 {
		d.status = code
	}
}

// statusWriter remembers the status code a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// bearer returns the token of an "Authorization: Bearer" header, or "".
func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	const p = "Bearer "
	if len(h) > len(p) && strings.EqualFold(h[:len(p)], p) {
		return strings.TrimSpace(h[len(p):])
	}
	return ""
}
