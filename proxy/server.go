// Package proxy is Tollgate's request pipeline: it authenticates each
// request, resolves the identity to tenants, and hands the request to the
// API that owns its path (Prometheus, Loki, the cost engine), whose route
// table and enforcer confine it (Dispatch). Every API goes through the same
// steps, in Server.ServeHTTP and Dispatch, read top to bottom.
package proxy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tollgate-dev/tollgate/audit"
	"github.com/tollgate-dev/tollgate/identity"
	"github.com/tollgate-dev/tollgate/limits"
	"github.com/tollgate-dev/tollgate/tenancy"
)

// Options configure a Server.
type Options struct {
	Tenancy    *tenancy.Tenancy
	Auth       identity.Authenticator
	APIs       []API
	Logger     *slog.Logger
	Registerer prometheus.Registerer
	Gatherer   prometheus.Gatherer
	// BodyReadTimeout bounds how long a client may take to send a request
	// body (proxy.body_read_timeout); zero means no bound.
	BodyReadTimeout time.Duration
	// Audit receives one record per request; nil for no audit trail.
	Audit Auditor
	// Limits are the per-tenant limits; nil for none.
	Limits *limits.Limiter
}

// Auditor is the audit trail as the pipeline uses it.
type Auditor interface {
	// Record queues a record; it must not wait.
	Record(audit.Record)
	// Refusing is non-nil while requests must be refused because their
	// records cannot be kept (audit.fail_closed).
	Refusing() error
	// Close flushes the trail.
	Close(ctx context.Context) error
}

// Server is the gateway's HTTP handler.
type Server struct {
	opts     Options
	ids      requestIDs
	ready    atomic.Bool
	metrics  http.Handler
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// New builds a Server. It registers its metrics with opts.Registerer.
func New(opts Options) (*Server, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		opts: opts,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tollgate_http_requests_total",
			Help: "Requests served by the gateway, by API, route, tenant and HTTP status code.",
		}, []string{"api", "route", "tenant", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:                        "tollgate_http_request_duration_seconds",
			Help:                        "Time to answer a request, upstream time included, by API, route and tenant.",
			Buckets:                     []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120},
			NativeHistogramBucketFactor: 1.1,
		}, []string{"api", "route", "tenant"}),
	}
	if opts.Registerer != nil {
		for _, c := range []prometheus.Collector{s.requests, s.duration} {
			if err := opts.Registerer.Register(c); err != nil {
				return nil, fmt.Errorf("registering gateway metrics: %w", err)
			}
		}
	}
	if opts.Gatherer != nil {
		s.metrics = promhttp.HandlerFor(opts.Gatherer, promhttp.HandlerOpts{})
	} else {
		s.metrics = http.NotFoundHandler()
	}
	s.ids.init()
	s.ready.Store(true)
	return s, nil
}

// Close flushes the audit trail, if any, until ctx ends.
func (s *Server) Close(ctx context.Context) error {
	if s.opts.Audit == nil {
		return nil
	}
	return s.opts.Audit.Close(ctx)
}

// SetReady flips /-/ready, e.g. to drain before shutdown.
func (s *Server) SetReady(ok bool) { s.ready.Store(ok) }

// Tenant label values for requests that have no tenant.
const (
	tenantAdmin           = "_admin"
	tenantNone            = "_none"
	tenantUnauthenticated = "_unauthenticated"
)

// ServeHTTP implements http.Handler: the whole request path.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.serveOperations(w, r) {
		return
	}
	api, route := s.match(r.URL.Path)
	rec := s.begin(w, r, api, route)
	defer rec.finish()
	r = rec.r
	if api == nil {
		rec.refuse(s, Errorf(http.StatusNotFound, "%s is not served by Tollgate; it serves these APIs: %s", r.URL.Path, s.apiNames()))
		return
	}
	if err := s.auditRefusing(); err != nil {
		rec.refuse(api, err)
		return
	}
	id, err := s.opts.Auth.Authenticate(r.Context(), r)
	if err != nil {
		rec.refuse(api, unauthenticated(err))
		return
	}
	rec.id, rec.user = id, id.User
	access := s.opts.Tenancy.Resolve(id.Groups)
	rec.access, rec.tenant = access, tenantLabel(access)
	if access.Refused != "" {
		rec.refuse(api, Forbidden("user %q may read nothing: %s", id.User, access.Refused))
		return
	}
	if !access.Allowed() {
		rec.refuse(api, Forbidden("user %q belongs to no tenant: none of its groups %v is configured in tenancy.tenants or tenancy.admin_groups", id.User, id.Groups))
		return
	}
	release, lerr := admit(s.opts.Limits, access)
	if lerr != nil {
		rec.refuse(api, lerr)
		return
	}
	defer release()
	Dispatch(api, rec, r.WithContext(withUser(r.Context(), id.User)), access)
}

// serveOperations answers the probes and /metrics, which belong to no API.
func (s *Server) serveOperations(w http.ResponseWriter, r *http.Request) bool {
	switch r.URL.Path {
	case "/-/healthy":
		writeText(w, http.StatusOK, "Tollgate is Healthy.\n")
	case "/-/ready":
		if s.ready.Load() {
			writeText(w, http.StatusOK, "Tollgate is Ready.\n")
		} else {
			writeText(w, http.StatusServiceUnavailable, "Tollgate is shutting down.\n")
		}
	case "/metrics":
		s.serveMetrics(w, r)
	default:
		return false
	}
	return true
}

func unauthenticated(err error) *Error {
	// An identity provider that cannot be reached is not the caller's
	// fault: 503 and when to retry, not a 401 that would make Grafana or a
	// CI job discard a token that may be valid.
	if retry, ok := identity.RetryAfter(err); ok {
		e := Errorf(http.StatusServiceUnavailable, "%s", err)
		e.Header = http.Header{"Retry-After": {strconv.Itoa(int(retry.Seconds()))}}
		return e
	}
	if !errors.Is(err, identity.ErrUnauthenticated) {
		err = fmt.Errorf("%w: %v", identity.ErrUnauthenticated, err)
	}
	return Errorf(http.StatusUnauthorized, "authentication required: %s", strings.TrimPrefix(err.Error(), "unauthenticated: "))
}

// tenantLabel is the tenant label of metrics and the access log.
func tenantLabel(a tenancy.Access) string {
	switch {
	case a.Admin:
		return tenantAdmin
	case !a.Allowed():
		return tenantNone
	}
	return a.Label()
}

// begin starts recording a request for the metrics and the access log.
func (s *Server) begin(w http.ResponseWriter, r *http.Request, api API, route string) *recorder {
	rec := &recorder{ResponseWriter: w, status: http.StatusOK, body: guardBody(w, r, s.opts.BodyReadTimeout),
		s: s, r: r, start: time.Now(), api: "tollgate", route: route, tenant: tenantUnauthenticated}
	if api != nil {
		rec.api = api.Name()
	} else {
		rec.route = "unknown"
	}
	if s.opts.Audit != nil || s.opts.Limits != nil {
		rec.p = passage{limits: s.opts.Limits, auditing: s.opts.Audit != nil}
		rec.r = withPassage(r, &rec.p)
	}
	if s.opts.Audit != nil {
		rec.requestID = s.ids.next()
		w.Header().Set("X-Request-Id", rec.requestID)
	}
	return rec
}

// refuse renders a refusal of the pipeline's in the API's format and
// notes it for the audit trail.
func (rec *recorder) refuse(api ErrorWriter, e *Error) {
	rec.p.refused(e)
	api.WriteError(rec, e)
}

// finish records the request's metrics and access log line.
func (rec *recorder) finish() {
	s, r := rec.s, rec.r
	elapsed := time.Since(rec.start)
	s.requests.WithLabelValues(rec.api, rec.route, rec.tenant, strconv.Itoa(rec.status)).Inc()
	s.duration.WithLabelValues(rec.api, rec.route, rec.tenant).Observe(elapsed.Seconds())
	// The audit record comes first and always: the access log below may
	// be off, the trail never is.
	if s.opts.Audit != nil {
		s.opts.Audit.Record(rec.auditRecord(elapsed))
	}
	level := slog.LevelInfo
	if rec.status >= 400 {
		level = slog.LevelWarn
	}
	if !s.opts.Logger.Enabled(r.Context(), level) {
		return // the arguments below cost allocations nobody reads
	}
	s.opts.Logger.Log(r.Context(), level, "request",
		"method", r.Method, "path", r.URL.Path, "route", rec.route, "user", rec.user,
		"tenant", rec.tenant, "status", rec.status, "bytes", rec.bytes,
		"duration", elapsed.Round(time.Microsecond), "remote", r.RemoteAddr)
}

// WriteError renders the gateway's own errors (unknown paths, /metrics)
// in the Prometheus API's JSON error format, which every client of a
// Prometheus-compatible gateway reads.
func (s *Server) WriteError(w http.ResponseWriter, e *Error) {
	WriteErrorHeader(w, e, "application/json")
	_ = json.NewEncoder(w).Encode(struct {
		Status    string `json:"status"`
		ErrorType string `json:"errorType"`
		Error     string `json:"error"`
	}{"error", e.Type, e.Msg})
}

// serveMetrics serves /metrics on the gateway's own address to admins
// only: its series name every tenant, their traffic, and with the cost
// engine every namespace's and cost center's spend, which tenants must not
// read. Prometheus scrapes it with an admin token, or unauthenticated on
// metrics_listen, an address only the scraper can reach.
func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request) {
	id, err := s.opts.Auth.Authenticate(r.Context(), r)
	if err != nil {
		s.WriteError(w, Errorf(http.StatusUnauthorized, "authentication required: /metrics is served to admins here; scrape it with an admin token, or unauthenticated on the address set by metrics_listen"))
		return
	}
	if !s.opts.Tenancy.Resolve(id.Groups).Admin {
		s.WriteError(w, Forbidden("user %q is not an admin: /metrics carries every tenant's traffic and cost, so only tenancy.admin_groups may read it", id.User))
		return
	}
	s.metrics.ServeHTTP(w, r)
}

// Operations is the handler for metrics_listen: /metrics, /-/healthy and
// /-/ready without authentication, for the scraper and the kubelet's
// probes, on an address that only they can reach. Nothing else is served
// there.
func (s *Server) Operations() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/metrics":
			s.metrics.ServeHTTP(w, r)
		case "/-/healthy", "/-/ready":
			s.ServeHTTP(w, r)
		default:
			writeText(w, http.StatusNotFound, "Only /metrics, /-/healthy and /-/ready are served on this address.\n")
		}
	})
}

// match finds the API that owns a path, or nil.
func (s *Server) match(p string) (API, string) {
	for _, a := range s.opts.APIs {
		if route, ok := a.Match(p); ok {
			return a, route
		}
	}
	return nil, ""
}

func (s *Server) apiNames() string {
	names := make([]string, len(s.opts.APIs))
	for i, a := range s.opts.APIs {
		names[i] = a.Name()
	}
	return strings.Join(names, ", ")
}

func writeText(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

// recorder captures the status and size of a response for metrics and the
// access log. It keeps streaming working (Flush, Unwrap).
type recorder struct {
	http.ResponseWriter
	status      int
	bytes       int64
	wroteHeader bool
	body        *bodyGuard // nil without a request body

	s                        *Server
	r                        *http.Request
	start                    time.Time
	api, route, user, tenant string

	// for the audit trail and the limits
	p         passage
	requestID string
	id        identity.Identity
	access    tenancy.Access
}

func (r *recorder) WriteHeader(code int) {
	if !r.wroteHeader {
		r.status, r.wroteHeader = code, true
		if refusesBody(code) {
			r.body.refuse(r.Header())
		}
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	r.wroteHeader = true
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
