// Package lokiproxy serves the Loki HTTP API to tenants: every LogQL query
// and stream selector is confined to the tenant's namespaces, live tail is
// proxied with its confined query, pushes are checked stream by stream, and
// X-Scope-OrgID is always set by Tollgate from the tenant's Loki org IDs.
// Every other endpoint is refused.
package lokiproxy

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/tollgate-dev/tollgate/proxy/ingest"
	"github.com/tollgate-dev/tollgate/proxy/logqlenforce"
	"github.com/tollgate-dev/tollgate/proxy/params"
	"github.com/tollgate-dev/tollgate/proxy/querybounds"
	"github.com/tollgate-dev/tollgate/proxy/upstream"
	"github.com/tollgate-dev/tollgate/tenancy"
)

// OrgHeader is Loki's tenant header. Tollgate always sets it; a client's
// copy is never forwarded.
const OrgHeader = "X-Scope-OrgID"

type kind int

const (
	kindQuery         kind = iota // `query` required and confined
	kindOptionalQuery             // `query` confined, or set to the tenant's streams when absent
	kindMatch                     // every `match[]` confined, one added when absent
	kindTail                      // websocket; `query` confined
	kindPush                      // streams checked, re-encoded
	kindNoData                    // reads no logs
)

type route struct {
	name   string
	kind   kind
	params []string
	// post is true where Loki accepts POST; a tenant's POST elsewhere is
	// sent upstream as GET.
	post bool
}

var (
	rangeParams  = []string{"query", "start", "end", "since", "step", "interval", "limit", "direction"}
	labelParams  = []string{"query", "start", "end", "since"}
	volumeParams = []string{"query", "start", "end", "since", "step", "limit", "targetLabels", "aggregateBy"}
)

var routes = map[string]route{
	"/loki/api/v1/query":              {"/loki/api/v1/query", kindQuery, []string{"query", "time", "limit", "direction"}, true},
	"/loki/api/v1/query_range":        {"/loki/api/v1/query_range", kindQuery, rangeParams, true},
	"/loki/api/v1/labels":             {"/loki/api/v1/labels", kindOptionalQuery, labelParams, true},
	"/loki/api/v1/label":              {"/loki/api/v1/label", kindOptionalQuery, labelParams, true},
	"/loki/api/v1/series":             {"/loki/api/v1/series", kindMatch, []string{"match[]", "start", "end", "since"}, true},
	"/loki/api/v1/index/stats":        {"/loki/api/v1/index/stats", kindQuery, []string{"query", "start", "end", "since"}, true},
	"/loki/api/v1/index/volume":       {"/loki/api/v1/index/volume", kindQuery, volumeParams, true},
	"/loki/api/v1/index/volume_range": {"/loki/api/v1/index/volume_range", kindQuery, volumeParams, true},
	"/loki/api/v1/patterns":           {"/loki/api/v1/patterns", kindQuery, []string{"query", "start", "end", "since", "step"}, true},
	"/loki/api/v1/detected_labels":    {"/loki/api/v1/detected_labels", kindOptionalQuery, labelParams, true},
	"/loki/api/v1/detected_fields":    {"/loki/api/v1/detected_fields", kindOptionalQuery, []string{"query", "start", "end", "since", "step", "limit", "line_limit", "field_limit"}, true},
	"/loki/api/v1/tail":               {"/loki/api/v1/tail", kindTail, []string{"query", "start", "limit", "delay_for"}, false},
	"/loki/api/v1/push":               {"/loki/api/v1/push", kindPush, nil, true},
	"/loki/api/v1/status/buildinfo":   {"/loki/api/v1/status/buildinfo", kindNoData, nil, false},
	"/loki/api/v1/format_query":       {"/loki/api/v1/format_query", kindNoData, []string{"query"}, true},
}

// Routes with a name in the path.
var (
	labelValuesRoute = route{"/loki/api/v1/label/:name/values", kindOptionalQuery, labelParams, true}
	fieldValuesRoute = route{"/loki/api/v1/detected_field/:name/values", kindOptionalQuery, []string{"query", "start", "end", "since", "limit", "line_limit"}, true}
)

// Loki's legacy paths. Grafana has used /loki/api/v1 since Loki 1.0; these
// are answered with an explicit 403 pointing at the replacement rather than
// confined twice.
var legacy = map[string]string{
	"/api/prom/query":  "/loki/api/v1/query_range",
	"/api/prom/label":  "/loki/api/v1/labels",
	"/api/prom/series": "/loki/api/v1/series",
	"/api/prom/tail":   "/loki/api/v1/tail",
	"/api/prom/push":   "/loki/api/v1/push",
}

var nameRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_.]*$`)

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
}

// Handler is the Loki API for one Loki. Construct it with New.
type Handler struct {
	opts     Options
	up       *upstream.Upstream
	pushGate *ingest.Gate
	enforcer *logqlenforce.Enforcer
}

// New builds a Handler.
func New(opts Options) *Handler {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Handler{opts: opts, pushGate: newPushGate(opts), enforcer: logqlenforce.New(opts.QueryLimits), up: upstream.New(upstream.Options{
		Base:       opts.Upstream,
		Name:       "Loki",
		Transport:  opts.Transport,
		Logger:     opts.Logger,
		WriteError: func(w http.ResponseWriter, status int, msg string) { WriteError(w, status, "", msg) },
	})}
}

// Name implements proxy.API.
func (h *Handler) Name() string { return "loki" }

// Match implements proxy.API.
func (h *Handler) Match(p string) (string, bool) {
	if rt, ok := h.lookup(p); ok {
		return rt.name, true
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

func (h *Handler) lookup(p string) (route, bool) {
	if rt, ok := routes[p]; ok {
		return rt, true
	}
	if name, ok := pathName(p, "/loki/api/v1/label/", "/values"); ok && nameRE.MatchString(name) {
		return labelValuesRoute, true
	}
	if name, ok := pathName(p, "/loki/api/v1/detected_field/", "/values"); ok && nameRE.MatchString(name) {
		return fieldValuesRoute, true
	}
	return route{}, false
}

func pathName(p, prefix, suffix string) (string, bool) {
	rest, ok := strings.CutPrefix(p, prefix)
	if !ok {
		return "", false
	}
	return strings.CutSuffix(rest, suffix)
}

// WriteError implements proxy.API with Loki's error format: the message as
// plain text, which is what Grafana, logcli and the agents read.
func (h *Handler) WriteError(w http.ResponseWriter, status int, _ string, msg string) {
	WriteError(w, status, "", msg)
}

// WriteError writes an error the way Loki does.
func WriteError(w http.ResponseWriter, status int, _ string, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="tollgate"`)
	}
	w.WriteHeader(status)
	_, _ = fmt.Fprintln(w, msg)
}

// Serve implements proxy.API.
func (h *Handler) Serve(w http.ResponseWriter, r *http.Request, a tenancy.Access) {
	p := r.URL.Path
	if path.Clean(p) != p {
		WriteError(w, http.StatusBadRequest, "", "the request path is not canonical")
		return
	}
	if len(a.LokiOrgIDs) == 0 {
		WriteError(w, http.StatusForbidden, "", "no Loki org ID is configured for you")
		return
	}
	if isWebsocket(r) && !originAllowed(r, h.opts.AllowedOrigins) {
		// A page on another site could otherwise open a user's tail with
		// the browser's cookies (behind a cookie-session auth proxy).
		WriteError(w, http.StatusForbidden, "", fmt.Sprintf("live tail from origin %q is not allowed; add it to proxy.allowed_origins if that site is yours", r.Header.Get("Origin")))
		return
	}
	rt, known := h.lookup(p)
	if a.Admin && (!known || rt.kind != kindPush) {
		h.forwardAdmin(w, r, a)
		return
	}
	if !known {
		if repl, ok := legacy[strings.TrimSuffix(strings.TrimSuffix(p, "/values"), "/")]; ok || strings.HasPrefix(p, "/api/prom/") {
			if repl == "" {
				repl = "/loki/api/v1"
			}
			WriteError(w, http.StatusForbidden, "", fmt.Sprintf("%s is Loki's legacy API and is not served by Tollgate; use %s", p, repl))
			return
		}
		WriteError(w, http.StatusForbidden, "", fmt.Sprintf("%s is not available to tenants; it is not confined to namespaces", p))
		return
	}
	if rt.kind == kindPush {
		h.servePush(w, r, a)
		return
	}
	ps, err := params.Read(r, h.opts.MaxBodyBytes)
	if err == nil {
		err = params.Check(ps, rt.params, h.opts.ExtraParams)
	}
	if err != nil {
		WriteError(w, params.Status(err), "", err.Error())
		return
	}
	if err := h.confine(r, rt, ps, a.Scope.Matcher()); err != nil {
		enforceError(w, err)
		return
	}
	if rt.kind == kindTail {
		h.serveTail(w, r, p, ps, a)
		return
	}
	method := r.Method
	if method == http.MethodPost && !rt.post {
		method = http.MethodGet
	}
	ctx, cancel := upstream.WithTimeout(r.Context(), h.opts.Timeout)
	defer cancel()
	out, err := h.up.Request(ctx, method, p, ps, r.Header, upstream.Forwarded)
	if err != nil {
		WriteError(w, http.StatusInternalServerError, "", err.Error())
		return
	}
	setOrgs(out, a.LokiOrgIDs)
	h.up.ProxyConfined(w, out)
}

// confine rewrites the LogQL parameters of a tenant's request in place:
// `query` confined (or set to the tenant's streams where it is optional),
// every `match[]` confined, and the query of format_query, which Loki
// parses but Tollgate forwards as is, held to the bounds.
func (h *Handler) confine(r *http.Request, rt route, ps url.Values, m *labels.Matcher) error {
	switch rt.kind {
	case kindQuery, kindOptionalQuery, kindTail:
		q := ps.Get("query")
		if err := h.keepVolumeGrouping(rt, ps); err != nil {
			return err
		}
		switch {
		case q == "" && rt.kind == kindOptionalQuery:
			ps.Set("query", logqlenforce.MatchAll(m))
		case q == "":
			return errors.New(`parameter "query" is missing`) // 400, as is
		default:
			enforced, err := h.enforcer.Query(q, m)
			if err != nil {
				return err
			}
			h.opts.Logger.DebugContext(r.Context(), "query confined", "route", rt.name, "query", q, "enforced", enforced)
			ps.Set("query", enforced)
		}
	case kindMatch:
		sels := ps["match[]"]
		for i, s := range sels {
			var err error
			if sels[i], err = h.enforcer.Selector(s, m); err != nil {
				return err
			}
		}
		if len(sels) == 0 {
			sels = []string{logqlenforce.MatchAll(m)}
		}
		ps["match[]"] = sels
	case kindNoData:
		if q := ps.Get("query"); q != "" {
			return h.enforcer.CheckBounds(q)
		}
	}
	return nil
}

// volumeRoutes group their answer by the selector's labels unless
// targetLabels says otherwise.
var volumeRoutes = map[string]bool{"/loki/api/v1/index/volume": true, "/loki/api/v1/index/volume_range": true}

// keepVolumeGrouping pins a volume request's grouping to the labels of the
// query as the tenant wrote it. Loki groups a volume answer by the labels
// its selector matches on, so the tenant matcher would otherwise split
// Grafana's log-volume histogram by namespace.
func (h *Handler) keepVolumeGrouping(rt route, ps url.Values) error {
	q := ps.Get("query")
	if !volumeRoutes[rt.name] || q == "" || ps.Get("targetLabels") != "" {
		return nil
	}
	names, err := h.enforcer.SelectorLabels(q)
	if err != nil {
		return err
	}
	if len(names) > 0 {
		ps.Set("targetLabels", strings.Join(names, ","))
	}
	return nil
}

// tailHeaders are the websocket handshake headers live tail needs.
var tailHeaders = []string{"Connection", "Upgrade", "Sec-Websocket-Key", "Sec-Websocket-Version", "Sec-Websocket-Extensions", "Sec-Websocket-Protocol"}

// serveTail proxies the websocket both ways. The query was confined before
// the handshake and cannot change afterwards: Loki reads it only from the
// upgrade request.
func (h *Handler) serveTail(w http.ResponseWriter, r *http.Request, p string, ps url.Values, a tenancy.Access) {
	out, err := h.up.Request(r.Context(), http.MethodGet, p, ps, r.Header, upstream.Forwarded, tailHeaders)
	if err != nil {
		WriteError(w, http.StatusInternalServerError, "", err.Error())
		return
	}
	setOrgs(out, a.LokiOrgIDs)
	h.up.ProxyConfined(w, out)
}

// adminHeaders are also forwarded for admins, whose requests pass unchanged.
var adminHeaders = []string{"Content-Type", "Content-Encoding"}

// forwardAdmin passes an admin's request unrewritten, with the admin org IDs.
func (h *Handler) forwardAdmin(w http.ResponseWriter, r *http.Request, a tenancy.Access) {
	timeout := h.opts.Timeout
	if r.URL.Path == "/loki/api/v1/tail" {
		timeout = 0
	}
	ctx, cancel := upstream.WithTimeout(r.Context(), timeout)
	defer cancel()
	target := h.up.URL(r.URL.Path)
	target.RawQuery = r.URL.RawQuery
	out, err := http.NewRequestWithContext(ctx, r.Method, target.String(), r.Body)
	if err != nil {
		WriteError(w, http.StatusBadRequest, "", err.Error())
		return
	}
	out.ContentLength = r.ContentLength
	upstream.CopyHeaders(out.Header, r.Header, upstream.Forwarded)
	upstream.CopyHeaders(out.Header, r.Header, adminHeaders)
	upstream.CopyHeaders(out.Header, r.Header, tailHeaders)
	setOrgs(out, a.LokiOrgIDs)
	h.up.Proxy(w, out)
}

// setOrgs sets X-Scope-OrgID; several org IDs use Loki's multi-tenant
// query form "a|b" (querier.multi_tenant_queries_enabled).
func setOrgs(out *http.Request, orgs []string) {
	out.Header.Set(OrgHeader, strings.Join(orgs, "|"))
}

func enforceError(w http.ResponseWriter, err error) {
	if errors.Is(err, logqlenforce.ErrRefused) {
		WriteError(w, http.StatusForbidden, "", err.Error())
		return
	}
	WriteError(w, http.StatusBadRequest, "", err.Error())
}
