// Package lokiproxy serves the Loki HTTP API to tenants: every LogQL query
// and stream selector is confined to the tenant's namespaces, live tail is
// proxied with its confined query, pushes are checked stream by stream, and
// X-Scope-OrgID is always set by Tollgate from the tenant's Loki org IDs.
// Every other endpoint is refused.
package lokiproxy

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/tollgate-dev/tollgate/logqlenforce"
	"github.com/tollgate-dev/tollgate/proxy"
	"github.com/tollgate-dev/tollgate/proxy/ingest"
	"github.com/tollgate-dev/tollgate/proxy/memo"
	"github.com/tollgate-dev/tollgate/proxy/upstream"
	"github.com/tollgate-dev/tollgate/querybounds"
	"github.com/tollgate-dev/tollgate/tenancy"
)

// OrgHeader is Loki's tenant header. Tollgate always sets it; a client's
// copy is never forwarded.
const OrgHeader = "X-Scope-OrgID"

// Options configure a Handler.
type Options struct {
	// Upstream is Loki's base URL.
	Upstream *url.URL
	// Label is the enforced label (tenancy.label), checked on pushes.
	Label     string
	Transport http.RoundTripper
	// MaxBodyBytes caps form bodies of queries.
	MaxBodyBytes int64
	// MaxPushBytes caps push bodies as sent; MaxPushDecompressed once
	// decompressed.
	MaxPushBytes        int64
	MaxPushDecompressed int64
	// PushLimits bound what one push holds and how many run at once.
	PushLimits PushLimits
	// Timeout bounds each upstream request except live tail.
	Timeout     time.Duration
	ExtraParams []string
	// QueryLimits bound every query and match[] (zero fields: defaults).
	QueryLimits querybounds.Limits
	// AllowedOrigins may open live tail from a browser, besides requests
	// without an Origin and same-host origins (proxy.allowed_origins).
	AllowedOrigins []string
	Logger         *slog.Logger
	// Cache answers query_range (metric queries) and the label and series
	// endpoints from the results cache; nil for none.
	Cache proxy.Cacher
}

// Handler is the Loki API for one Loki. Construct it with New.
type Handler struct {
	opts     Options
	up       *upstream.Upstream
	pushGate *ingest.Gate
	memo     *memo.Enforcer
	enforcer *logqlenforce.Enforcer
	backend  *proxy.Backend
	settings *proxy.Settings
	routes   map[string]*proxy.Route
}

// New builds a Handler.
func New(opts Options) *Handler {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	h := &Handler{opts: opts, pushGate: newPushGate(opts), enforcer: logqlenforce.New(opts.QueryLimits)}
	h.memo = memo.New(h.enforcer)
	h.up = proxy.NewUpstream(opts.Upstream, "Loki", opts.Transport, opts.Logger, h)
	h.backend = &proxy.Backend{
		Upstream: h.up,
		Timeout:  opts.Timeout,
		Decorate: func(out *http.Request, a tenancy.Access) { setOrgs(out, a.LokiOrgIDs) },
		Admin:    h.admin,
		Cache:    opts.Cache,
	}
	h.routes = h.routeTable()
	h.settings = &proxy.Settings{MaxBodyBytes: opts.MaxBodyBytes, ExtraParams: opts.ExtraParams, Enforcer: h.memo, Backend: h.backend, Logger: opts.Logger, LokiTimes: true}
	return h
}

// Name implements proxy.API.
func (h *Handler) Name() string { return "loki" }

// Match implements proxy.API.
func (h *Handler) Match(p string) (string, bool) {
	if rt, ok := h.lookup(p); ok {
		return rt.Name, true
	}
	switch {
	case strings.HasPrefix(p, "/loki/"):
		return "/loki/*", true
	case strings.HasPrefix(p, "/api/prom/"):
		return "/api/prom/*", true
	case p == "/otlp/v1/logs":
		return p, true
	}
	return "", false
}

// Route implements proxy.API.
func (h *Handler) Route(p string) (*proxy.Route, string, *proxy.Error) {
	if rt, ok := h.lookup(p); ok {
		return rt, p, nil
	}
	return nil, "", refusal(p)
}

// Settings implements proxy.API.
// Built once in New: the pipeline asks for them on every request.
func (h *Handler) Settings() *proxy.Settings { return h.settings }

// Admit implements proxy.API: Loki is asked for nobody without an org ID,
// and a browser page of another site may not open a user's live tail.
func (h *Handler) Admit(r *http.Request, a tenancy.Access) *proxy.Error {
	if len(a.LokiOrgIDs) == 0 {
		return proxy.Forbidden("no Loki org ID is configured for you")
	}
	if isWebsocket(r) && !originAllowed(r, h.opts.AllowedOrigins) {
		// Behind a cookie-session auth proxy, the page would otherwise
		// stream the user's logs with the browser's cookies.
		return proxy.Forbidden("live tail from origin %q is not allowed; add it to proxy.allowed_origins if that site is yours", r.Header.Get("Origin"))
	}
	return nil
}

// admin passes an admin's request unrewritten, except a push, which is
// checked like anyone's (the streams name their org). Tail has no timeout.
func (h *Handler) admin(p string) (bool, []string, time.Duration) {
	if rt, ok := h.lookup(p); ok && rt.Name == routePush {
		return false, nil, 0
	}
	timeout := h.opts.Timeout
	if p == routeTail {
		timeout = 0
	}
	return true, append(slices.Clone(adminHeaders), tailHeaders...), timeout
}

// WriteError implements proxy.ErrorWriter with Loki's error format: the
// message as plain text, which is what Grafana, logcli and the agents read.
func (h *Handler) WriteError(w http.ResponseWriter, e *proxy.Error) {
	proxy.WriteErrorHeader(w, e, "text/plain; charset=utf-8")
	_, _ = fmt.Fprintln(w, e.Msg)
}

// Serve answers a request whose identity has been resolved to access a,
// through the gateway's pipeline.
func (h *Handler) Serve(w http.ResponseWriter, r *http.Request, a tenancy.Access) {
	proxy.Dispatch(h, w, r, a)
}

// keepVolumeGrouping pins a volume request's grouping to the labels of the
// query as the tenant wrote it. Loki groups a volume answer by the labels
// its selector matches on, so the tenant matcher would otherwise split
// Grafana's log-volume histogram by namespace.
func (h *Handler) keepVolumeGrouping(ps url.Values) *proxy.Error {
	q := ps.Get("query")
	if q == "" || ps.Get("targetLabels") != "" {
		return nil
	}
	names, err := h.enforcer.SelectorLabels(q)
	if err != nil {
		return proxy.BadData("%s", err.Error())
	}
	if len(names) > 0 {
		ps.Set("targetLabels", strings.Join(names, ","))
	}
	return nil
}

// adminHeaders are also forwarded for admins, whose requests pass unchanged.
var adminHeaders = []string{"Content-Type", "Content-Encoding"}

// setOrgs sets X-Scope-OrgID; several org IDs use Loki's multi-tenant
// query form "a|b" (querier.multi_tenant_queries_enabled).
func setOrgs(out *http.Request, orgs []string) {
	out.Header.Set(OrgHeader, strings.Join(orgs, "|"))
}
