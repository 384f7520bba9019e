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
	"net/http/httputil"
	"net/url"
	"path"
	"regexp"
	"strings"
	"time"

	"github.com/tollgate-dev/tollgate/proxy/promenforce"
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
	OrgID  string
	Logger *slog.Logger
}

// Handler is the Prometheus API for one upstream. Construct it with New.
type Handler struct {
	opts     Options
	enforcer *promenforce.Enforcer
	rp       *httputil.ReverseProxy
	client   *http.Client
}

// New builds a Handler.
func New(opts Options) *Handler {
	if opts.Transport == nil {
		opts.Transport = http.DefaultTransport
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	h := &Handler{
		opts:     opts,
		enforcer: promenforce.New(),
		client:   &http.Client{Transport: opts.Transport},
	}
	h.rp = &httputil.ReverseProxy{
		// Rewrite (not Director) so that X-Forwarded-* and hop-by-hop headers
		// from the client are never forwarded; the outbound request is built
		// by forward() from an allowlist.
		Rewrite:   func(*httputil.ProxyRequest) {},
		Transport: opts.Transport,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			h.upstreamError(w, r, err)
		},
	}
	return h
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
	params, err := readParams(r, h.opts.MaxBodyBytes)
	if err == nil {
		err = checkParams(params, rt.params, h.opts.ExtraParams)
	}
	if err != nil {
		var pe *paramError
		if errors.As(err, &pe) {
			WriteError(w, pe.status, ErrBadData, pe.msg)
			return
		}
		WriteError(w, http.StatusBadRequest, ErrBadData, err.Error())
		return
	}
	m := a.Scope.Matcher()
	switch rt.kind {
	case kindQuery:
		q := params.Get("query")
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
		params.Set("query", enforced)
	case kindMatch:
		sels := params["match[]"]
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
		params["match[]"] = sels
	case kindFilterRules, kindFilterAlerts:
		h.serveFiltered(w, r, rt, upstreamPath, params, a.Scope)
		return
	}
	h.forward(w, r, rt, upstreamPath, params)
}

func (h *Handler) enforceError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, promenforce.ErrRefused):
		WriteError(w, http.StatusForbidden, ErrForbidden, err.Error())
	default:
		WriteError(w, http.StatusBadRequest, ErrBadData, err.Error())
	}
}

// forwardedHeaders are the only request headers sent upstream. An allowlist,
// not a blocklist: identity headers, X-Scope-OrgID, label-policy headers and
// whatever a future backend starts to trust are dropped by default.
var forwardedHeaders = []string{"Accept", "Accept-Encoding", "User-Agent", "Traceparent", "Tracestate"}

// adminHeaders are also forwarded for admins, whose bodies pass unchanged.
var adminHeaders = []string{"Content-Type", "Content-Encoding", "X-Prometheus-Remote-Write-Version", "X-Prometheus-Remote-Read-Version"}

// upstreamRequest builds the outbound request from the enforced parameter
// set alone: nothing of the client's URL or body survives except through it.
func (h *Handler) upstreamRequest(ctx context.Context, r *http.Request, rt route, upstreamPath string, params url.Values) (*http.Request, error) {
	u := *h.opts.Upstream
	u.Path = strings.TrimSuffix(u.Path, "/") + upstreamPath
	u.RawPath = ""
	encoded := params.Encode()
	var out *http.Request
	var err error
	if r.Method == http.MethodPost && rt.post {
		out, err = http.NewRequestWithContext(ctx, http.MethodPost, u.String(), strings.NewReader(encoded))
		if err == nil {
			out.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	} else {
		u.RawQuery = encoded
		method := r.Method
		if method == http.MethodPost {
			method = http.MethodGet
		}
		out, err = http.NewRequestWithContext(ctx, method, u.String(), nil)
	}
	if err != nil {
		return nil, fmt.Errorf("building upstream request: %w", err)
	}
	copyHeaders(out.Header, r.Header, forwardedHeaders)
	h.setOrgID(out)
	return out, nil
}

func (h *Handler) setOrgID(out *http.Request) {
	if h.opts.OrgID != "" {
		out.Header.Set("X-Scope-OrgID", h.opts.OrgID)
	}
}

func copyHeaders(dst, src http.Header, names []string) {
	for _, k := range names {
		if vs := src.Values(k); len(vs) > 0 {
			dst[k] = append([]string(nil), vs...)
		}
	}
}

// forward streams the upstream response to the client unchanged.
func (h *Handler) forward(w http.ResponseWriter, r *http.Request, rt route, upstreamPath string, params url.Values) {
	ctx, cancel := context.WithTimeout(r.Context(), h.opts.Timeout)
	defer cancel()
	out, err := h.upstreamRequest(ctx, r, rt, upstreamPath, params)
	if err != nil {
		WriteError(w, http.StatusInternalServerError, ErrInternal, err.Error())
		return
	}
	h.rp.ServeHTTP(w, out)
}

// forwardAdmin passes an admin's request unrewritten, with the same header
// allowlist, so that identity headers never reach the upstream.
func (h *Handler) forwardAdmin(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), h.opts.Timeout)
	defer cancel()
	u := *h.opts.Upstream
	u.Path = strings.TrimSuffix(u.Path, "/") + r.URL.Path
	u.RawPath = ""
	u.RawQuery = r.URL.RawQuery
	out, err := http.NewRequestWithContext(ctx, r.Method, u.String(), r.Body)
	if err != nil {
		WriteError(w, http.StatusBadRequest, ErrBadData, err.Error())
		return
	}
	out.ContentLength = r.ContentLength
	copyHeaders(out.Header, r.Header, forwardedHeaders)
	copyHeaders(out.Header, r.Header, adminHeaders)
	h.setOrgID(out)
	h.rp.ServeHTTP(w, out)
}

func (h *Handler) upstreamError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		WriteError(w, http.StatusGatewayTimeout, ErrTimeout, "upstream did not answer within "+h.opts.Timeout.String()+" (proxy.upstream_timeout)")
	case errors.Is(err, context.Canceled):
		// The client went away; nobody reads this answer.
		w.WriteHeader(499)
	default:
		h.opts.Logger.ErrorContext(r.Context(), "upstream request failed", "path", r.URL.Path, "err", err)
		WriteError(w, http.StatusBadGateway, ErrUnavailable, "the upstream Prometheus API is unreachable; Tollgate's log has the details")
	}
}
