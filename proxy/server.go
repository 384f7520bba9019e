// Package proxy is Tollgate's query gateway: it authenticates each request,
// resolves the identity to tenants and hands the request to the API that
// owns its path (Prometheus today, Loki next), which confines it.
package proxy

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tollgate-dev/tollgate/cost"
	costapi "github.com/tollgate-dev/tollgate/cost/api"
	costmetrics "github.com/tollgate-dev/tollgate/cost/metrics"
	"github.com/tollgate-dev/tollgate/internal/config"
	"github.com/tollgate-dev/tollgate/internal/identity"
	"github.com/tollgate-dev/tollgate/proxy/lokiproxy"
	"github.com/tollgate-dev/tollgate/proxy/promproxy"
	"github.com/tollgate-dev/tollgate/tenancy"
)

// API is one upstream API family served by the gateway.
type API interface {
	// Name labels metrics and logs ("prometheus").
	Name() string
	// Match reports whether the API owns a path, and the route name to
	// record for it.
	Match(path string) (route string, ok bool)
	// Serve answers an authenticated request with the identity's access.
	Serve(w http.ResponseWriter, r *http.Request, a tenancy.Access)
	// WriteError writes an error in the API's own format.
	WriteError(w http.ResponseWriter, status int, errorType, msg string)
}

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
}

// Server is the gateway's HTTP handler.
type Server struct {
	opts     Options
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
	s.ready.Store(true)
	return s, nil
}

// SetReady flips /-/ready, e.g. to drain before shutdown.
func (s *Server) SetReady(ok bool) { s.ready.Store(ok) }

// Tenant label values for requests that have no tenant.
const (
	tenantAdmin           = "_admin"
	tenantNone            = "_none"
	tenantUnauthenticated = "_unauthenticated"
)

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/-/healthy":
		writeText(w, http.StatusOK, "Tollgate is Healthy.\n")
		return
	case "/-/ready":
		if s.ready.Load() {
			writeText(w, http.StatusOK, "Tollgate is Ready.\n")
		} else {
			writeText(w, http.StatusServiceUnavailable, "Tollgate is shutting down.\n")
		}
		return
	case "/metrics":
		s.serveMetrics(w, r)
		return
	}

	start := time.Now()
	rec := &recorder{ResponseWriter: w, status: http.StatusOK, body: guardBody(w, r, s.opts.BodyReadTimeout)}
	api, route := s.match(r.URL.Path)
	tenant, user := tenantUnauthenticated, ""
	defer func() {
		elapsed := time.Since(start)
		s.requests.WithLabelValues(api.Name(), route, tenant, fmt.Sprint(rec.status)).Inc()
		s.duration.WithLabelValues(api.Name(), route, tenant).Observe(elapsed.Seconds())
		level := slog.LevelInfo
		if rec.status >= 400 {
			level = slog.LevelWarn
		}
		s.opts.Logger.Log(r.Context(), level, "request",
			"method", r.Method, "path", r.URL.Path, "route", route, "user", user,
			"tenant", tenant, "status", rec.status, "bytes", rec.bytes,
			"duration", elapsed.Round(time.Microsecond), "remote", r.RemoteAddr)
	}()

	if route == "" {
		api.WriteError(rec, http.StatusNotFound, promproxy.ErrNotFound, fmt.Sprintf("%s is not served by Tollgate; it serves these APIs: %s", r.URL.Path, s.apiNames()))
		route = "unknown"
		return
	}
	id, err := s.opts.Auth.Authenticate(r.Context(), r)
	if err != nil {
		if !errors.Is(err, identity.ErrUnauthenticated) {
			err = fmt.Errorf("%w: %v", identity.ErrUnauthenticated, err)
		}
		api.WriteError(rec, http.StatusUnauthorized, promproxy.ErrUnauthorized, "authentication required: "+strings.TrimPrefix(err.Error(), "unauthenticated: "))
		return
	}
	user = id.User
	access := s.opts.Tenancy.Resolve(id.Groups)
	switch {
	case access.Admin:
		tenant = tenantAdmin
	case !access.Allowed():
		tenant = tenantNone
		api.WriteError(rec, http.StatusForbidden, promproxy.ErrForbidden, fmt.Sprintf("user %q belongs to no tenant: none of its groups %v is configured in tenancy.tenants or tenancy.admin_groups", id.User, id.Groups))
		return
	default:
		tenant = strings.Join(access.TenantNames(), "+")
	}
	api.Serve(rec, r, access)
}

// serveMetrics serves /metrics on the gateway's own address to admins
// only: its series name every tenant, their traffic, and with the cost
// engine every namespace's and cost center's spend, which tenants must not
// read. Prometheus scrapes it with an admin token, or unauthenticated on
// metrics_listen, an address only the scraper can reach.
func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request) {
	api := s.opts.APIs[0]
	id, err := s.opts.Auth.Authenticate(r.Context(), r)
	if err != nil {
		api.WriteError(w, http.StatusUnauthorized, promproxy.ErrUnauthorized, "authentication required: /metrics is served to admins here; scrape it with an admin token, or unauthenticated on the address set by metrics_listen")
		return
	}
	if !s.opts.Tenancy.Resolve(id.Groups).Admin {
		api.WriteError(w, http.StatusForbidden, promproxy.ErrForbidden, fmt.Sprintf("user %q is not an admin: /metrics carries every tenant's traffic and cost, so only tenancy.admin_groups may read it", id.User))
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

// match finds the API that owns a path. A path nobody owns is answered by
// the first API, in its format, with route "".
func (s *Server) match(p string) (API, string) {
	for _, a := range s.opts.APIs {
		if route, ok := a.Match(p); ok {
			return a, route
		}
	}
	return s.opts.APIs[0], ""
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

// FromConfig builds the gateway for a loaded configuration.
func FromConfig(cfg *config.File, transport http.RoundTripper, logger *slog.Logger, reg *prometheus.Registry) (*Server, error) {
	tn, err := tenancy.New(cfg.Tenancy)
	if err != nil {
		return nil, err
	}
	auth, err := identity.New(cfg.Auth)
	if err != nil {
		return nil, err
	}
	if transport == nil {
		transport = NewTransport()
	}
	var apis []API
	if cfg.Upstreams.Prometheus != "" {
		up, err := url.Parse(cfg.Upstreams.Prometheus)
		if err != nil {
			return nil, fmt.Errorf("upstreams.prometheus: %w", err)
		}
		apis = append(apis, promproxy.New(promproxy.Options{
			Upstream:         up,
			Transport:        transport,
			MaxBodyBytes:     cfg.Proxy.MaxBodyBytes,
			Timeout:          time.Duration(cfg.Proxy.UpstreamTimeout),
			ExtraParams:      cfg.Proxy.ExtraParams,
			OrgID:            cfg.Upstreams.PrometheusOrgID,
			QueryLimits:      cfg.Proxy.QueryLimits(),
			MaxFilteredBytes: cfg.Proxy.MaxFilteredResponseBytes,
			Logger:           logger,
		}))
	}
	if cfg.Upstreams.Loki != "" {
		lokiURL, err := url.Parse(cfg.Upstreams.Loki)
		if err != nil {
			return nil, fmt.Errorf("upstreams.loki: %w", err)
		}
		apis = append(apis, lokiproxy.New(lokiproxy.Options{
			Upstream:            lokiURL,
			Label:               cfg.Tenancy.Label,
			Transport:           transport,
			MaxBodyBytes:        cfg.Proxy.MaxBodyBytes,
			MaxPushBytes:        cfg.Proxy.MaxPushBytes,
			MaxPushDecompressed: cfg.Proxy.MaxPushDecompressedBytes,
			PushLimits: lokiproxy.PushLimits{
				Streams:            cfg.Proxy.MaxPushStreams,
				Entries:            cfg.Proxy.MaxPushEntries,
				StructuredMetadata: cfg.Proxy.MaxPushStructuredMetadataPairs,
				LabelBytes:         cfg.Proxy.MaxPushLabelBytes,
				Concurrent:         cfg.Proxy.MaxConcurrentPushes,
			},
			Timeout:        time.Duration(cfg.Proxy.UpstreamTimeout),
			ExtraParams:    cfg.Proxy.ExtraParams,
			QueryLimits:    cfg.Proxy.QueryLimits(),
			AllowedOrigins: cfg.Proxy.AllowedOrigins,
			Logger:         logger,
		}))
	}
	if cfg.Cost != nil {
		engine, err := cost.FromConfig(cfg.Cost, cfg.Upstreams, tn, transport, logger)
		if err != nil {
			return nil, err
		}
		apis = append(apis, costapi.New(costapi.Options{
			Engine:       engine,
			MaxBodyBytes: cfg.Proxy.MaxBodyBytes,
			Timeout:      time.Duration(cfg.Proxy.UpstreamTimeout),
			Logger:       logger,
		}))
		if reg != nil {
			if err := reg.Register(costmetrics.New(costmetrics.Options{Engine: engine, Interval: time.Duration(cfg.Cost.MetricsInterval), Logger: logger})); err != nil {
				return nil, fmt.Errorf("registering the cost metrics: %w", err)
			}
		}
	}
	if len(apis) == 0 {
		return nil, errors.New("no upstream is configured: set upstreams.prometheus, upstreams.loki or both")
	}
	opts := Options{Tenancy: tn, Auth: auth, APIs: apis, Logger: logger, BodyReadTimeout: time.Duration(cfg.Proxy.BodyReadTimeout)}
	if reg != nil {
		opts.Registerer, opts.Gatherer = reg, reg
	}
	return New(opts)
}

// NewTransport returns the upstream transport: http.DefaultTransport's
// settings, with enough idle connections per host for a gateway whose every
// request goes to the same one or two backends.
func NewTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 256
	t.MaxIdleConnsPerHost = 64
	return t
}
