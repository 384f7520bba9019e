// Package promproxy serves the Prometheus HTTP API to tenants: it confines
// every query and series selector to the tenant's namespaces, filters the
// rules and alerts responses, and refuses every other endpoint. It works in
// front of Prometheus, Thanos Query and the Mimir/Cortex query frontend.
package promproxy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"strings"
	"time"

	"github.com/tollgate-dev/tollgate/proxy/params"
	"github.com/tollgate-dev/tollgate/proxy/promenforce"
	"github.com/tollgate-dev/tollgate/proxy/querybounds"
	"github.com/tollgate-dev/tollgate/proxy/upstream"
	"github.com/tollgate-dev/tollgate/tenancy"
)

// kind is what the proxy does with a route for a tenant.
type kind int

const (
	kindQuery       kind = iota // enforce the `query` parameter
	kindMatch                   // enforce every `match[]`, adding one when absent
	kindFilterRules             // forward, then filter the response
	kindFilterAlerts
	kindNoData // reads no series: forwarded as is
)

type route struct {
	name   string // for metrics and logs; path parameters appear as :name
	kind   kind
	params []string
	// post is true where Prometheus accepts POST. Tollgate accepts both
	// methods everywhere and sends GET upstream where POST is not served.
	post bool
}

// Parameters each endpoint accepts from tenants. Prometheus's own, plus the
// Thanos ones that only narrow a query (deduplication, partial responses,
// store selection). Anything else is refused unless configured as extra.
var (
	thanosParams  = []string{"dedup", "partial_response", "max_source_resolution", "replicaLabels[]", "storeMatch[]", "engine", "analyze"}
	instantParams = append([]string{"query", "time", "timeout", "limit", "stats", "lookback_delta"}, thanosParams...)
	rangeParams   = append([]string{"query", "start", "end", "step", "timeout", "stats", "lookback_delta"}, thanosParams...)
	matchParams   = append([]string{"match[]", "start", "end", "limit"}, thanosParams...)
	rulesParams   = []string{"type", "rule_name[]", "rule_group[]", "file[]", "exclude_alerts", "match[]", "group_limit", "group_next_token", "dedup", "partial_response"}
)

var routes = map[string]route{
	"/api/v1/query":            {"/api/v1/query", kindQuery, instantParams, true},
	"/api/v1/query_range":      {"/api/v1/query_range", kindQuery, rangeParams, true},
	"/api/v1/query_exemplars":  {"/api/v1/query_exemplars", kindQuery, []string{"query", "start", "end"}, true},
	"/api/v1/series":           {"/api/v1/series", kindMatch, matchParams, true},
	"/api/v1/labels":           {"/api/v1/labels", kindMatch, matchParams, true},
	"/federate":                {"/federate", kindMatch, []string{"match[]"}, false},
	"/api/v1/rules":            {"/api/v1/rules", kindFilterRules, rulesParams, false},
	"/api/v1/alerts":           {"/api/v1/alerts", kindFilterAlerts, []string{"dedup", "partial_response"}, false},
	"/api/v1/status/buildinfo": {"/api/v1/status/buildinfo", kindNoData, nil, false},
	"/api/v1/format_query":     {"/api/v1/format_query", kindNoData, []string{"query"}, true},
	"/api/v1/parse_query":      {"/api/v1/parse_query", kindNoData, []string{"query"}, true},
}

var labelValuesRoute = route{"/api/v1/label/:name/values", kindMatch, matchParams, false}

// Label names in a path: legacy names, or Prometheus 3's U__ escaping of
// UTF-8 names, which uses the same characters.
var labelNameRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

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
	Logger           *slog.Logger
}

// DefaultMaxFilteredBytes is MaxFilteredBytes's default.
const DefaultMaxFilteredBytes = 32 << 20

// Handler is the Prometheus API for one upstream. Construct it with New.
type Handler struct {
	opts     Options
	enforcer *promenforce.Enforcer
	up       *upstream.Upstream
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
	h := &Handler{opts: opts, enforcer: promenforce.NewWithLimits(opts.QueryLimits)}
	h.up = upstream.New(upstream.Options{
		Base:      opts.Upstream,
		Name:      "the upstream Prometheus API",
		Transport: opts.Transport,
		Logger:    opts.Logger,
		WriteError: func(w http.ResponseWriter, status int, msg string) {
			WriteError(w, status, errorType(status), msg)
		},
	})
	return h
}

// errorType maps an HTTP status to the Prometheus API's errorType.
func errorType(status int) string {
	switch status {
	case http.StatusGatewayTimeout:
		return ErrTimeout
	case http.StatusBadGateway, http.StatusServiceUnavailable:
		return ErrUnavailable
	case http.StatusForbidden:
		return ErrForbidden
	case http.StatusInternalServerError:
		return ErrInternal
	}
	return ErrBadData
}

// Name implements proxy.API.
func (h *Handler) Name() string { return "prometheus" }

// Match reports whether the path belongs to the Prometheus API and returns
// the route name for metrics. Unknown /api/v1 paths belong to it too: they
// are refused for tenants and forwarded for admins.
func (h *Handler) Match(p string) (string, bool) {
	if rt, ok := routes[p]; ok {
		return rt.name, true
	}
	if _, ok := labelValuesName(p); ok {
		return labelValuesRoute.name, true
	}
	if strings.HasPrefix(p, "/api/v1/") {
		return "/api/v1/*", true
	}
	return "", false
}

// WriteError writes an error in the Prometheus API format.
func (h *Handler) WriteError(w http.ResponseWriter, status int, errorType, msg string) {
	WriteError(w, status, errorType, msg)
}

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

// Serve answers a request whose identity has been resolved to access a.
// The caller has already refused requests with no access at all.
func (h *Handler) Serve(w http.ResponseWriter, r *http.Request, a tenancy.Access) {
	p := r.URL.Path
	if path.Clean(p) != p {
		// Dot segments and doubled slashes would let a path mean one route
		// here and another upstream.
		WriteError(w, http.StatusBadRequest, ErrBadData, "the request path is not canonical")
		return
	}
	if a.Admin {
		h.forwardAdmin(w, r)
		return
	}
	rt, ok := routes[p]
	upstreamPath := p
	if !ok {
		if name, isLV := labelValuesName(p); isLV {
			rt, ok = labelValuesRoute, true
			upstreamPath = "/api/v1/label/" + name + "/values"
		}
	}
	if !ok {
		WriteError(w, http.StatusForbidden, ErrForbidden, fmt.Sprintf("%s is not available to tenants; it is not confined to namespaces", p))
		return
	}
	ps, err := params.Read(r, h.opts.MaxBodyBytes)
	if err == nil {
		err = params.Check(ps, rt.params, h.opts.ExtraParams)
	}
	if err != nil {
		WriteError(w, params.Status(err), ErrBadData, err.Error())
		return
	}
	m := a.Scope.Matcher()
	switch rt.kind {
	case kindQuery:
		q := ps.Get("query")
		if q == "" {
			WriteError(w, http.StatusBadRequest, ErrBadData, "parameter \"query\" is missing")
			return
		}
		enforced, err := h.enforcer.Query(q, m)
		if err != nil {
			h.enforceError(w, err)
			return
		}
		h.opts.Logger.DebugContext(r.Context(), "query confined", "route", rt.name, "query", q, "enforced", enforced)
		ps.Set("query", enforced)
	case kindMatch:
		sels := ps["match[]"]
		if len(sels) == 0 {
			sels = []string{promenforce.MatchAll(m)}
		} else {
			for i, s := range sels {
				if sels[i], err = h.enforcer.Selector(s, m); err != nil {
					h.enforceError(w, err)
					return
				}
			}
		}
		ps["match[]"] = sels
	case kindFilterRules, kindFilterAlerts, kindNoData:
		// Forwarded unrewritten, but the backend parses them: format_query's
		// query, the rules API's match[].
		if err := h.checkForwarded(ps); err != nil {
			h.enforceError(w, err)
			return
		}
		if rt.kind != kindNoData {
			h.serveFiltered(w, r, rt, upstreamPath, ps, a.Scope)
			return
		}
	}
	h.forward(w, r, rt, upstreamPath, ps)
}

// checkForwarded applies the query bounds to the PromQL parameters of a
// request Tollgate forwards without parsing.
func (h *Handler) checkForwarded(ps url.Values) error {
	for _, name := range []string{"query", "match[]"} {
		for _, q := range ps[name] {
			if err := h.enforcer.CheckBounds(q); err != nil {
				return fmt.Errorf("parameter %q: %w", name, err)
			}
		}
	}
	return nil
}

func (h *Handler) enforceError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, promenforce.ErrRefused):
		WriteError(w, http.StatusForbidden, ErrForbidden, err.Error())
	default:
		WriteError(w, http.StatusBadRequest, ErrBadData, err.Error())
	}
}

// adminHeaders are also forwarded for admins, whose bodies pass unchanged.
var adminHeaders = []string{"Content-Type", "Content-Encoding", "X-Prometheus-Remote-Write-Version", "X-Prometheus-Remote-Read-Version"}

// upstreamRequest builds the outbound request from the enforced parameter
// set alone: nothing of the client's URL or body survives except through it.
// Prometheus serves some endpoints with GET only; a tenant's POST to them is
// sent as GET.
func (h *Handler) upstreamRequest(ctx context.Context, r *http.Request, rt route, upstreamPath string, ps url.Values) (*http.Request, error) {
	method := r.Method
	if method == http.MethodPost && !rt.post {
		method = http.MethodGet
	}
	out, err := h.up.Request(ctx, method, upstreamPath, ps, r.Header, upstream.Forwarded)
	if err != nil {
		return nil, err
	}
	h.setOrgID(out)
	return out, nil
}

func (h *Handler) setOrgID(out *http.Request) {
	if h.opts.OrgID != "" {
		out.Header.Set("X-Scope-OrgID", h.opts.OrgID)
	}
}

// forward streams the upstream response to the client unchanged.
func (h *Handler) forward(w http.ResponseWriter, r *http.Request, rt route, upstreamPath string, ps url.Values) {
	ctx, cancel := upstream.WithTimeout(r.Context(), h.opts.Timeout)
	defer cancel()
	out, err := h.upstreamRequest(ctx, r, rt, upstreamPath, ps)
	if err != nil {
		WriteError(w, http.StatusInternalServerError, ErrInternal, err.Error())
		return
	}
	h.up.ProxyConfined(w, out)
}

// forwardAdmin passes an admin's request unrewritten, with the same header
// allowlist, so that identity headers never reach the upstream.
func (h *Handler) forwardAdmin(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := upstream.WithTimeout(r.Context(), h.opts.Timeout)
	defer cancel()
	target := h.up.URL(r.URL.Path)
	target.RawQuery = r.URL.RawQuery
	out, err := http.NewRequestWithContext(ctx, r.Method, target.String(), r.Body)
	if err != nil {
		WriteError(w, http.StatusBadRequest, ErrBadData, err.Error())
		return
	}
	out.ContentLength = r.ContentLength
	upstream.CopyHeaders(out.Header, r.Header, upstream.Forwarded)
	upstream.CopyHeaders(out.Header, r.Header, adminHeaders)
	h.setOrgID(out)
	h.up.Proxy(w, out)
}
