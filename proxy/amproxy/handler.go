// Package amproxy serves Alertmanager's API v2 to tenants, the way
// prom-label-proxy does: alerts and alert groups are filtered to the
// tenant's namespaces, silences are visible, created, updated and expired
// only when their matchers confine the namespace label to the tenant's
// namespaces, createdBy is the authenticated user, and every other endpoint
// is refused. It is served under /alertmanager (Grafana's Alertmanager data
// source URL http://tollgate/alertmanager), the prefix being removed
// upstream.
package amproxy

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tollgate-dev/tollgate/proxy"
	"github.com/tollgate-dev/tollgate/proxy/upstream"
	"github.com/tollgate-dev/tollgate/tenancy"
)

// Prefix is the path under which the Alertmanager API is served. Without
// it, Alertmanager's /api/v1 paths would be the Prometheus API's.
const Prefix = "/alertmanager"

// Options configure a Handler.
type Options struct {
	// Upstream is Alertmanager's base URL; its path is kept as a prefix
	// (--web.route-prefix).
	Upstream *url.URL
	// Label is the enforced label (tenancy.label).
	Label     string
	Transport http.RoundTripper
	// MaxBodyBytes caps a silence sent by a client (proxy.max_body_bytes).
	MaxBodyBytes int64
	// MaxFilteredBytes caps an Alertmanager answer read to filter it
	// (proxy.max_filtered_response_bytes).
	MaxFilteredBytes int64
	// Timeout bounds each upstream request (proxy.upstream_timeout).
	Timeout time.Duration
	Logger  *slog.Logger
}

// Defaults for zero Options fields.
const (
	DefaultMaxBodyBytes     = 1 << 20
	DefaultMaxFilteredBytes = 32 << 20
)

// Handler is the Alertmanager API for one Alertmanager: a proxy.API.
// Construct it with New.
type Handler struct {
	opts    Options
	up      *upstream.Upstream
	backend *proxy.Backend
	routes  map[string]*proxy.Route
}

// New builds a Handler.
func New(opts Options) *Handler {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.MaxFilteredBytes <= 0 {
		opts.MaxFilteredBytes = DefaultMaxFilteredBytes
	}
	h := &Handler{opts: opts}
	h.up = proxy.NewUpstream(opts.Upstream, "Alertmanager", opts.Transport, opts.Logger, h)
	h.backend = &proxy.Backend{
		Upstream: h.up,
		Timeout:  opts.Timeout,
		Decorate: func(*http.Request, tenancy.Access) {},
		// Admins go through the route table too: their paths lose the
		// prefix, and their silences get createdBy from their identity.
		Admin: func(string) (bool, []string, time.Duration) { return false, nil, 0 },
	}
	h.routes = h.routeTable()
	return h
}

// Name implements proxy.API.
func (h *Handler) Name() string { return "alertmanager" }

// Match implements proxy.API: everything under the prefix.
func (h *Handler) Match(p string) (string, bool) {
	if p != Prefix && !strings.HasPrefix(p, Prefix+"/") {
		return "", false
	}
	if rt, _, ok := h.lookup(strings.TrimPrefix(p, Prefix)); ok {
		return rt.Name, true
	}
	return Prefix + "/*", true
}

// Route implements proxy.API.
func (h *Handler) Route(p string) (*proxy.Route, string, *proxy.Error) {
	rest := strings.TrimPrefix(p, Prefix)
	if rt, upstreamPath, ok := h.lookup(rest); ok {
		return rt, upstreamPath, nil
	}
	return nil, "", refusal(rest)
}

// Settings implements proxy.API. Every route reads its own request, so
// there is no enforcer: confinement is the handlers'.
func (h *Handler) Settings() *proxy.Settings {
	return &proxy.Settings{MaxBodyBytes: h.opts.MaxBodyBytes, Backend: h.backend, Logger: h.opts.Logger}
}

// Admit implements proxy.API: nothing more than the pipeline's checks.
func (h *Handler) Admit(*http.Request, tenancy.Access) *proxy.Error { return nil }

// errorBody is the error format of Alertmanager's API v2 server (its
// go-swagger runtime): {"code": 403, "message": "..."}. Grafana shows
// message to the user.
type errorBody struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// WriteError implements proxy.ErrorWriter in Alertmanager's format.
func (h *Handler) WriteError(w http.ResponseWriter, e *proxy.Error) {
	proxy.WriteErrorHeader(w, e, "application/json")
	enc := json.NewEncoder(w)
	// The messages quote matchers ("<namespace>"): kept readable, and
	// the content type is JSON, which no browser renders.
	enc.SetEscapeHTML(false)
	_ = enc.Encode(errorBody{Code: e.Status, Message: e.Msg})
}
