// Package promproxy serves the Prometheus HTTP API to tenants through the
// gateway's pipeline: its route table says which endpoints confine `query`
// and which `match[]`, rules and alerts answers are filtered, and every
// other endpoint is refused. It works in front of Prometheus, Thanos Query
// and the Mimir/Cortex query frontend.
package promproxy

import (
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/tollgate-dev/tollgate/promenforce"
	"github.com/tollgate-dev/tollgate/proxy"
	"github.com/tollgate-dev/tollgate/proxy/memo"
	"github.com/tollgate-dev/tollgate/proxy/upstream"
	"github.com/tollgate-dev/tollgate/querybounds"
	"github.com/tollgate-dev/tollgate/tenancy"
)

// Options configure a Handler.
type Options struct {
	// Upstream is the base URL of the Prometheus-compatible API. Its path is
	// kept as a prefix (http://mimir/prometheus).
	Upstream *url.URL
	// Transport sends upstream requests; nil means http.DefaultTransport.
	Transport http.RoundTripper
	// MaxBodyBytes caps form bodies.
	MaxBodyBytes int64
	// Timeout bounds each upstream request.
	Timeout time.Duration
	// ExtraParams are forwarded in addition to the known parameters.
	ExtraParams []string
	// OrgID, when set, is sent as X-Scope-OrgID (Mimir, Cortex).
	OrgID string
	// QueryLimits bound every query and match[] (zero fields: defaults).
	QueryLimits querybounds.Limits
	// MaxFilteredBytes bounds the rules and alerts answers read to filter
	// them (default 32 MiB).
	MaxFilteredBytes int64
	// Write configures remote write (/api/v1/write).
	Write  WriteOptions
	Logger *slog.Logger
	// Cache answers query_range and the metadata endpoints from the
	// results cache; nil for none.
	Cache proxy.Cacher
	// Dialect is the PromQL the upstream speaks (upstreams.prometheus_dialect,
	// resolved; default prometheus3): it chooses the functions accepted.
	Dialect promenforce.Dialect
	// Label is the tenancy label: Thanos parameters that would act on it
	// (a replica label) are refused.
	Label string
}

// DefaultMaxFilteredBytes is MaxFilteredBytes's default.
const DefaultMaxFilteredBytes = 32 << 20

// Handler is the Prometheus API for one upstream: a proxy.API. Construct
// it with New.
type Handler struct {
	opts     Options
	up       *upstream.Upstream
	memo     *memo.Enforcer
	enforcer *promenforce.Enforcer
	backend  *proxy.Backend
	settings *proxy.Settings
	routes   map[string]*proxy.Route
	writer   *writer
}

// New builds a Handler.
func New(opts Options) *Handler {
	if opts.Transport == nil {
		opts.Transport = http.DefaultTransport
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.MaxFilteredBytes <= 0 {
		opts.MaxFilteredBytes = DefaultMaxFilteredBytes
	}
	if opts.Dialect == "" {
		opts.Dialect = promenforce.DialectPrometheus3
	}
	h := &Handler{opts: opts, enforcer: promenforce.NewForDialect(opts.QueryLimits, opts.Dialect)}
	h.memo = memo.New(h.enforcer)
	h.up = proxy.NewUpstream(opts.Upstream, "the upstream Prometheus API", opts.Transport, opts.Logger, h)
	h.backend = &proxy.Backend{
		Upstream: h.up,
		Timeout:  opts.Timeout,
		Decorate: h.setOrgID,
		// Admins' remote writes are checked and re-encoded like
		// anyone's; the rest of their requests pass unrewritten.
		Admin: func(p string) (bool, []string, time.Duration) {
			return p != routeWrite, adminHeaders, opts.Timeout
		},
		Cache: opts.Cache,
	}
	h.writer = h.newWriter()
	h.routes = routeTable(h.serveFiltered, h.serveWrite)
	prepareThanos(h.routes, thanosChecker{enforcer: h.enforcer, label: opts.Label})
	h.settings = &proxy.Settings{MaxBodyBytes: opts.MaxBodyBytes, ExtraParams: opts.ExtraParams, Enforcer: h.memo, Backend: h.backend, Logger: opts.Logger}
	return h
}

// Name implements proxy.API.
func (h *Handler) Name() string { return "prometheus" }

// Settings implements proxy.API.
// Built once in New: the pipeline asks for them on every request.
func (h *Handler) Settings() *proxy.Settings { return h.settings }

// Admit implements proxy.API: the Prometheus API asks nothing more of a
// request than the pipeline does.
func (h *Handler) Admit(*http.Request, tenancy.Access) *proxy.Error { return nil }

// Match reports whether the path belongs to the Prometheus API and returns
// the route name for metrics. Unknown /api/v1 paths belong to it too: they
// are refused for tenants and forwarded for admins.
func (h *Handler) Match(p string) (string, bool) {
	if rt, ok := h.routes[p]; ok {
		return rt.Name, true
	}
	if _, ok := labelValuesName(p); ok {
		return labelValuesRoute, true
	}
	if strings.HasPrefix(p, "/api/v1/") {
		return "/api/v1/*", true
	}
	return "", false
}

// Route implements proxy.API.
func (h *Handler) Route(p string) (*proxy.Route, string, *proxy.Error) {
	if rt, ok := h.routes[p]; ok {
		return rt, p, nil
	}
	if name, ok := labelValuesName(p); ok {
		return h.routes[labelValuesRoute], "/api/v1/label/" + name + "/values", nil
	}
	return nil, "", proxy.Forbidden("%s is not available to tenants; it is not confined to namespaces", p)
}

// Serve answers a request whose identity has been resolved to access a,
// through the gateway's pipeline.
func (h *Handler) Serve(w http.ResponseWriter, r *http.Request, a tenancy.Access) {
	proxy.Dispatch(h, w, r, a)
}

// Label names in a path: legacy names, or Prometheus 3's U__ escaping of
// UTF-8 names, which uses the same characters.
var labelNameRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

func labelValuesName(p string) (string, bool) {
	rest, ok := strings.CutPrefix(p, "/api/v1/label/")
	if !ok {
		return "", false
	}
	name, ok := strings.CutSuffix(rest, "/values")
	if !ok || !labelNameRE.MatchString(name) {
		return "", false
	}
	return name, true
}

// adminHeaders are also forwarded for admins, whose bodies pass unchanged.
var adminHeaders = []string{"Content-Type", "Content-Encoding", "X-Prometheus-Remote-Write-Version", "X-Prometheus-Remote-Read-Version"}

// setOrgID sets X-Scope-OrgID for Mimir and Cortex, from configuration.
func (h *Handler) setOrgID(out *http.Request, _ tenancy.Access) {
	if h.opts.OrgID != "" {
		out.Header.Set("X-Scope-OrgID", h.opts.OrgID)
	}
}
