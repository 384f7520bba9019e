package promproxy

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/tenancy"
)

// fakeUpstream records what reaches the backend.
type fakeUpstream struct {
	mu       sync.Mutex
	requests []received
	respond  func(w http.ResponseWriter, r *http.Request)
}

type received struct {
	method, path string
	params       url.Values
	header       http.Header
	rawQuery     string
	body         string
}

func (u *fakeUpstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rec := received{method: r.Method, path: r.URL.Path, header: r.Header.Clone(), rawQuery: r.URL.RawQuery, body: string(body)}
	rec.params, _ = url.ParseQuery(r.URL.RawQuery)
	if form, err := url.ParseQuery(string(body)); err == nil {
		for k, vs := range form {
			rec.params[k] = append(rec.params[k], vs...)
		}
	}
	u.mu.Lock()
	u.requests = append(u.requests, rec)
	u.mu.Unlock()
	if u.respond != nil {
		u.respond(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, `{"status":"success","data":{"resultType":"vector","result":[]}}`)
}

func (u *fakeUpstream) last(t *testing.T) received {
	t.Helper()
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.requests) == 0 {
		t.Fatal("no request reached the upstream")
	}
	return u.requests[len(u.requests)-1]
}

func (u *fakeUpstream) count() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.requests)
}

func newTestHandler(t *testing.T, prefix string) (*Handler, *fakeUpstream) {
	t.Helper()
	up := &fakeUpstream{}
	srv := httptest.NewServer(up)
	t.Cleanup(srv.Close)
	base, _ := url.Parse(srv.URL + prefix)
	return New(Options{Upstream: base, MaxBodyBytes: 1 << 10, Timeout: 5 * time.Second}), up
}

func tenantAccess(namespaces ...string) tenancy.Access {
	return tenancy.Access{Scope: tenancy.NewScope("namespace", namespaces)}
}

type errResp struct {
	Status    string `json:"status"`
	ErrorType string `json:"errorType"`
	Error     string `json:"error"`
}

func serve(h *Handler, r *http.Request, a tenancy.Access) (*httptest.ResponseRecorder, errResp) {
	w := httptest.NewRecorder()
	h.Serve(w, r, a)
	var e errResp
	_ = json.Unmarshal(w.Body.Bytes(), &e)
	return w, e
}

func form(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v
}

func get(path string, v url.Values) *http.Request {
	return httptest.NewRequest(http.MethodGet, path+"?"+v.Encode(), nil)
}

func post(path string, v url.Values) *http.Request {
	r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(v.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return r
}

func TestQueryIsEnforcedForGETAndPOST(t *testing.T) {
	h, up := newTestHandler(t, "")
	a := tenantAccess("team-a")
	for name, r := range map[string]*http.Request{
		"GET":  get("/api/v1/query", form("query", `up{namespace="victim"}`, "time", "1")),
		"POST": post("/api/v1/query", form("query", `up{namespace="victim"}`, "time", "1")),
	} {
		w, _ := serve(h, r, a)
		if w.Code != http.StatusOK {
			t.Fatalf("%s: status %d: %s", name, w.Code, w.Body)
		}
		got := up.last(t)
		if got.method != name {
			t.Errorf("%s: forwarded as %s", name, got.method)
		}
		if q := got.params["query"]; len(q) != 1 || q[0] != `up{namespace="team-a",namespace="victim"}` {
			t.Errorf("%s: upstream query = %q", name, q)
		}
		if got.params.Get("time") != "1" {
			t.Errorf("%s: time parameter lost: %v", name, got.params)
		}
		if name == "POST" && got.rawQuery != "" {
			t.Errorf("POST: parameters leaked into the URL: %q", got.rawQuery)
		}
	}
}

// Research note (c) 6 and 7: the URL and the body are one parameter set; a
// query in both places is a duplicate, never "the body wins" or "the URL wins".
func TestDuplicateQueryIsRejected(t *testing.T) {
	h, up := newTestHandler(t, "")
	a := tenantAccess("team-a")
	cases := map[string]*http.Request{
		"twice in URL": httptest.NewRequest(http.MethodGet, "/api/v1/query?query=up&query=secret", nil),
		"URL and body": func() *http.Request {
			r := post("/api/v1/query", form("query", "up"))
			r.URL.RawQuery = "query=secret"
			return r
		}(),
		"twice in body": post("/api/v1/query", form("query", "up", "query", "secret")),
	}
	for name, r := range cases {
		w, e := serve(h, r, a)
		if w.Code != http.StatusBadRequest || e.ErrorType != ErrBadData || !strings.Contains(e.Error, `"query"`) {
			t.Errorf("%s: got %d %+v, want 400 bad_data naming query", name, w.Code, e)
		}
	}
	if up.count() != 0 {
		t.Errorf("%d requests reached the upstream", up.count())
	}
}

func TestMatchersAreEnforcedAndAdded(t *testing.T) {
	h, up := newTestHandler(t, "")
	a := tenantAccess("team-a", "team-b")
	want := `{namespace=~"team-a|team-b"}`
	for _, p := range []string{"/api/v1/series", "/api/v1/labels", "/api/v1/label/job/values", "/federate"} {
		// No match[]: one is added.
		if w, _ := serve(h, get(p, url.Values{}), a); w.Code != http.StatusOK {
			t.Fatalf("%s: %d %s", p, w.Code, w.Body)
		}
		if got := up.last(t).params["match[]"]; len(got) != 1 || got[0] != want {
			t.Errorf("%s without match[]: upstream match[] = %q, want [%s]", p, got, want)
		}
		// Every match[], from the URL and the body, is enforced.
		r := post(p, form("match[]", `{namespace="victim"}`))
		r.URL.RawQuery = url.Values{"match[]": {`up`}}.Encode()
		if w, _ := serve(h, r, a); w.Code != http.StatusOK {
			t.Fatalf("%s: %d %s", p, w.Code, w.Body)
		}
		got := up.last(t).params["match[]"]
		wantBoth := []string{`{__name__="up",namespace=~"team-a|team-b"}`, `{namespace="victim",namespace=~"team-a|team-b"}`}
		if strings.Join(got, " ") != strings.Join(wantBoth, " ") {
			t.Errorf("%s: upstream match[] = %q, want %q", p, got, wantBoth)
		}
	}
}

func TestLabelValuesPath(t *testing.T) {
	h, up := newTestHandler(t, "/prefix")
	a := tenantAccess("team-a")
	if w, _ := serve(h, get("/api/v1/label/__name__/values", nil), a); w.Code != http.StatusOK {
		t.Fatalf("status %d", w.Code)
	}
	if got := up.last(t).path; got != "/prefix/api/v1/label/__name__/values" {
		t.Errorf("upstream path %q", got)
	}
	for _, p := range []string{
		"/api/v1/label/a/../../admin/tsdb/delete_series/values",
		"/api/v1/label//values",
		"/api/v1/label/a-b/values",
		"/api/v1//query",
		"/api/v1/query/",
	} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.URL.Path = p
		w, _ := serve(h, r, a)
		if w.Code != http.StatusBadRequest && w.Code != http.StatusForbidden {
			t.Errorf("%s: status %d, want 400 or 403", p, w.Code)
		}
	}
	if up.count() != 1 {
		t.Errorf("%d requests reached the upstream, want 1", up.count())
	}
}

func TestTenantDenials(t *testing.T) {
	h, up := newTestHandler(t, "")
	a := tenantAccess("team-a")
	for _, p := range []string{
		"/api/v1/metadata", "/api/v1/targets", "/api/v1/targets/metadata", "/api/v1/status/tsdb",
		"/api/v1/status/config", "/api/v1/status/flags", "/api/v1/admin/tsdb/delete_series",
		"/api/v1/admin/tsdb/snapshot", "/api/v1/read", "/api/v1/otlp/v1/metrics",
		"/api/v1/alertmanagers", "/api/v1/notifications", "/api/v1/unknown",
	} {
		w, e := serve(h, get(p, nil), a)
		if w.Code != http.StatusForbidden || e.Status != "error" || e.ErrorType != ErrForbidden {
			t.Errorf("%s: got %d %+v, want 403 forbidden in Prometheus format", p, w.Code, e)
		}
	}
	if up.count() != 0 {
		t.Errorf("%d denied requests reached the upstream", up.count())
	}
}

func TestParameterChecks(t *testing.T) {
	h, up := newTestHandler(t, "")
	a := tenantAccess("team-a")
	cases := []struct {
		name   string
		req    *http.Request
		status int
		substr string
	}{
		{"unknown parameter", get("/api/v1/query", form("query", "up", "extra_filters[]", `{namespace="victim"}`)), 400, "proxy.extra_params"},
		{"semicolon", httptest.NewRequest(http.MethodGet, "/api/v1/query?query=up;query=secret", nil), 400, ";"},
		{"missing query", get("/api/v1/query", form("time", "1")), 400, "missing"},
		{"unparsable query", get("/api/v1/query", form("query", "sum(")), 400, "parse error"},
		{"info refused", get("/api/v1/query", form("query", "info(up)")), 403, "target_info"},
		{"multipart", func() *http.Request {
			r := httptest.NewRequest(http.MethodPost, "/api/v1/query", strings.NewReader("--x\r\n"))
			r.Header.Set("Content-Type", "multipart/form-data; boundary=x")
			return r
		}(), 415, "x-www-form-urlencoded"},
		{"too large", post("/api/v1/query", form("query", strings.Repeat("x", 2000))), 413, "max_body_bytes"},
		{"method", httptest.NewRequest(http.MethodPut, "/api/v1/query?query=up", nil), 405, "PUT"},
		{"duplicate time", get("/api/v1/query", form("query", "up", "time", "1", "time", "2")), 400, `"time"`},
	}
	for _, tc := range cases {
		w, e := serve(h, tc.req, a)
		if w.Code != tc.status || e.Status != "error" || !strings.Contains(e.Error, tc.substr) {
			t.Errorf("%s: got %d %+v, want %d mentioning %q", tc.name, w.Code, e, tc.status, tc.substr)
		}
	}
	if up.count() != 0 {
		t.Errorf("%d refused requests reached the upstream", up.count())
	}
}

func TestExtraParamsAreForwarded(t *testing.T) {
	h, up := newTestHandler(t, "")
	opts := h.opts
	opts.ExtraParams = []string{"nocache"}
	h = New(opts)
	if w, _ := serve(h, get("/api/v1/query", form("query", "up", "nocache", "1", "dedup", "true")), tenantAccess("team-a")); w.Code != 200 {
		t.Fatalf("status %d %s", w.Code, w.Body)
	}
	if p := up.last(t).params; p.Get("nocache") != "1" || p.Get("dedup") != "true" {
		t.Errorf("extra parameters not forwarded: %v", p)
	}
}

// Research note (c) 9: identity headers, tenant headers and anything else not
// on the allowlist never reach the upstream, for tenants and admins alike.
func TestHeadersAreStripped(t *testing.T) {
	h, up := newTestHandler(t, "")
	for _, a := range []tenancy.Access{tenantAccess("team-a"), {Admin: true}} {
		r := get("/api/v1/query", form("query", "up"))
		for _, k := range []string{"X-Forwarded-User", "X-Forwarded-Groups", "Authorization", "X-Scope-OrgID", "X-Prom-Label-Policy", "X-Grafana-User", "Cookie", "X-Forwarded-For"} {
			r.Header.Set(k, "forged")
		}
		r.Header.Set("User-Agent", "Grafana/11")
		r.Header.Set("Traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
		if w, _ := serve(h, r, a); w.Code != 200 {
			t.Fatalf("status %d", w.Code)
		}
		got := up.last(t).header
		for k := range got {
			switch k {
			case "User-Agent", "Traceparent", "Accept-Encoding":
			default:
				t.Errorf("admin=%v: header %s reached the upstream: %q", a.Admin, k, got.Values(k))
			}
		}
		if got.Get("User-Agent") != "Grafana/11" || got.Get("Traceparent") == "" {
			t.Errorf("admin=%v: allowed headers were dropped: %v", a.Admin, got)
		}
	}
}

func TestAdminPassesThroughUnrewritten(t *testing.T) {
	h, up := newTestHandler(t, "")
	r := get("/api/v1/status/tsdb", form("limit", "5"))
	if w, _ := serve(h, r, tenancy.Access{Admin: true}); w.Code != 200 {
		t.Fatalf("status %d", w.Code)
	}
	r = post("/api/v1/query", form("query", `up{namespace="anything"}`, "custom", "x"))
	if w, _ := serve(h, r, tenancy.Access{Admin: true}); w.Code != 200 {
		t.Fatalf("status %d", w.Code)
	}
	got := up.last(t)
	if got.params.Get("query") != `up{namespace="anything"}` || got.params.Get("custom") != "x" {
		t.Errorf("admin request was changed: %v", got.params)
	}
}

func TestPassThroughNoDataEndpoints(t *testing.T) {
	h, up := newTestHandler(t, "")
	for _, p := range []string{"/api/v1/status/buildinfo", "/api/v1/format_query?query=up", "/api/v1/parse_query?query=up"} {
		w, _ := serve(h, httptest.NewRequest(http.MethodGet, p, nil), tenantAccess("team-a"))
		if w.Code != 200 {
			t.Errorf("%s: status %d %s", p, w.Code, w.Body)
		}
	}
	if up.count() != 3 {
		t.Errorf("%d requests reached the upstream, want 3", up.count())
	}
}

func TestResponsesStreamUnmodified(t *testing.T) {
	h, up := newTestHandler(t, "")
	body := `{"status":"success","data":{"resultType":"scalar","result":[1,"2"]},  "extra" : true}`
	up.respond = func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Upstream", "yes")
		w.WriteHeader(http.StatusTeapot)
		_, _ = io.WriteString(w, body)
	}
	w, _ := serve(h, get("/api/v1/query", form("query", "1")), tenantAccess("team-a"))
	if w.Code != http.StatusTeapot || w.Body.String() != body || w.Header().Get("X-Upstream") != "yes" {
		t.Errorf("response changed: %d %q %v", w.Code, w.Body, w.Header())
	}
}

func TestUpstreamDown(t *testing.T) {
	base, _ := url.Parse("http://127.0.0.1:1")
	h := New(Options{Upstream: base, MaxBodyBytes: 1 << 10, Timeout: time.Second})
	w, e := serve(h, get("/api/v1/query", form("query", "up")), tenantAccess("team-a"))
	if w.Code != http.StatusBadGateway || e.ErrorType != ErrUnavailable {
		t.Errorf("got %d %+v, want 502 unavailable", w.Code, e)
	}
	if strings.Contains(e.Error, "127.0.0.1") {
		t.Errorf("error exposes the upstream address to tenants: %q", e.Error)
	}
}

func TestOrgIDIsSetAndNeverForwardedFromTheClient(t *testing.T) {
	h, up := newTestHandler(t, "")
	for _, orgID := range []string{"", "platform"} {
		h.opts.OrgID = orgID
		for _, a := range []tenancy.Access{tenantAccess("team-a"), {Admin: true}} {
			r := get("/api/v1/query", form("query", "up"))
			r.Header.Set("X-Scope-OrgID", "victim|other")
			if w, _ := serve(h, r, a); w.Code != 200 {
				t.Fatalf("status %d", w.Code)
			}
			if got := up.last(t).header.Values("X-Scope-Orgid"); strings.Join(got, ",") != orgID {
				t.Errorf("org %q admin=%v: upstream X-Scope-OrgID = %q", orgID, a.Admin, got)
			}
		}
	}
}
