package lokiproxy

import (
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

type received struct {
	method, path string
	params       url.Values
	header       http.Header
	body         []byte
}

type fakeLoki struct {
	mu       sync.Mutex
	requests []received
}

func (f *fakeLoki) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rec := received{method: r.Method, path: r.URL.Path, header: r.Header.Clone(), body: body}
	rec.params, _ = url.ParseQuery(r.URL.RawQuery)
	if r.Header.Get("Content-Type") == "application/x-www-form-urlencoded" {
		form, _ := url.ParseQuery(string(body))
		for k, vs := range form {
			rec.params[k] = append(rec.params[k], vs...)
		}
	}
	f.mu.Lock()
	f.requests = append(f.requests, rec)
	f.mu.Unlock()
	if r.URL.Path == "/loki/api/v1/push" {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	_, _ = io.WriteString(w, `{"status":"success","data":[]}`)
}

func (f *fakeLoki) last(t *testing.T) received {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.requests) == 0 {
		t.Fatal("no request reached Loki")
	}
	return f.requests[len(f.requests)-1]
}

func (f *fakeLoki) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.requests)
}

func testTenancy(t *testing.T, adminOrgs ...string) *tenancy.Tenancy {
	t.Helper()
	tn, err := tenancy.New(tenancy.Config{
		Label:           "namespace",
		AdminGroups:     []string{"platform-sre"},
		AdminLokiOrgIDs: adminOrgs,
		Tenants: []tenancy.TenantConfig{
			{Name: "payments", Groups: []string{"team-payments", "finance"}, Namespaces: []string{"team-payments-prod", "team-payments-staging"}, DefaultNamespace: "team-payments-prod"},
			{Name: "checkout", Groups: []string{"team-checkout", "finance"}, Namespaces: []string{"team-checkout-*"}, LokiOrgID: "checkout-org"},
			{Name: "search", Groups: []string{"team-search"}, Namespaces: []string{"team-search-prod"}, LokiOrgID: "checkout-org", DefaultNamespace: "team-search-prod"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return tn
}

func newTestHandler(t *testing.T) (*Handler, *fakeLoki) {
	t.Helper()
	f := &fakeLoki{}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	base, _ := url.Parse(srv.URL)
	return New(Options{Upstream: base, Label: "namespace", MaxBodyBytes: 1 << 12, MaxPushBytes: 1 << 12, MaxPushDecompressed: 1 << 14, Timeout: 5 * time.Second}), f
}

func serve(h *Handler, r *http.Request, a tenancy.Access) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.Serve(w, r, a)
	return w
}

func TestEveryQueryEndpointIsConfined(t *testing.T) {
	h, f := newTestHandler(t)
	a := testTenancy(t).Resolve([]string{"team-payments"})
	const mine = `namespace=~"team-payments-prod|team-payments-staging"`
	for _, p := range []string{
		"/loki/api/v1/query", "/loki/api/v1/query_range", "/loki/api/v1/labels", "/loki/api/v1/label",
		"/loki/api/v1/label/app/values", "/loki/api/v1/index/stats", "/loki/api/v1/index/volume",
		"/loki/api/v1/index/volume_range", "/loki/api/v1/patterns", "/loki/api/v1/detected_labels",
		"/loki/api/v1/detected_fields", "/loki/api/v1/detected_field/level/values",
	} {
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			v := url.Values{"query": {`{namespace="victim"} |= "x"`}}
			if strings.Contains(p, "stats") || strings.Contains(p, "volume") {
				v.Set("query", `{namespace="victim"}`)
			}
			var r *http.Request
			if method == http.MethodGet {
				r = httptest.NewRequest(method, p+"?"+v.Encode(), nil)
			} else {
				r = httptest.NewRequest(method, p, strings.NewReader(v.Encode()))
				r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			r.Header.Set("X-Scope-OrgID", "checkout-org") // forged
			if w := serve(h, r, a); w.Code != 200 {
				t.Fatalf("%s %s: %d %s", method, p, w.Code, w.Body)
			}
			got := f.last(t)
			if q := got.params["query"]; len(q) != 1 || !strings.Contains(q[0], mine) || !strings.Contains(q[0], `namespace="victim"`) {
				t.Errorf("%s %s: upstream query %q", method, p, q)
			}
			if org := got.header.Values(OrgHeader); len(org) != 1 || org[0] != "payments" {
				t.Errorf("%s %s: X-Scope-OrgID %q, want payments", method, p, org)
			}
			if got.path != p {
				t.Errorf("%s: upstream path %s", p, got.path)
			}
		}
	}
}

func TestOptionalQueryIsAdded(t *testing.T) {
	h, f := newTestHandler(t)
	a := testTenancy(t).Resolve([]string{"team-search"})
	for _, p := range []string{"/loki/api/v1/labels", "/loki/api/v1/label/app/values", "/loki/api/v1/detected_labels"} {
		if w := serve(h, httptest.NewRequest(http.MethodGet, p, nil), a); w.Code != 200 {
			t.Fatalf("%s: %d", p, w.Code)
		}
		if q := f.last(t).params.Get("query"); q != `{namespace="team-search-prod"}` {
			t.Errorf("%s: query %q", p, q)
		}
	}
	if w := serve(h, httptest.NewRequest(http.MethodGet, "/loki/api/v1/series", nil), a); w.Code != 200 {
		t.Fatal(w.Code)
	}
	if m := f.last(t).params["match[]"]; len(m) != 1 || m[0] != `{namespace="team-search-prod"}` {
		t.Errorf("series without match[]: %q", m)
	}
	r := httptest.NewRequest(http.MethodGet, "/loki/api/v1/series?"+url.Values{"match[]": {`{app="a"}`, `{namespace="victim"}`}}.Encode(), nil)
	serve(h, r, a)
	if m := f.last(t).params["match[]"]; strings.Join(m, " ") != `{app="a", namespace="team-search-prod"} {namespace="victim", namespace="team-search-prod"}` {
		t.Errorf("series match[]: %q", m)
	}
}

func TestOrgIDs(t *testing.T) {
	cases := []struct {
		name   string
		tn     *tenancy.Tenancy
		groups []string
		want   string
	}{
		{"one tenant", testTenancy(t), []string{"team-payments"}, "payments"},
		{"two tenants, two orgs: Loki's multi-tenant form", testTenancy(t), []string{"finance"}, "checkout-org|payments"},
		{"two tenants sharing one org", testTenancy(t), []string{"team-checkout", "team-search"}, "checkout-org"},
		{"admin default: every tenant's org", testTenancy(t), []string{"platform-sre"}, "checkout-org|payments"},
		{"admin with an explicit list", testTenancy(t, "platform", "payments"), []string{"platform-sre"}, "payments|platform"},
	}
	for _, tc := range cases {
		h, f := newTestHandler(t)
		r := httptest.NewRequest(http.MethodGet, "/loki/api/v1/labels", nil)
		r.Header.Set("X-Scope-OrgID", "forged")
		if w := serve(h, r, tc.tn.Resolve(tc.groups)); w.Code != 200 {
			t.Fatalf("%s: %d %s", tc.name, w.Code, w.Body)
		}
		if got := f.last(t).header.Values(OrgHeader); len(got) != 1 || got[0] != tc.want {
			t.Errorf("%s: X-Scope-OrgID %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestRefusals(t *testing.T) {
	h, f := newTestHandler(t)
	a := testTenancy(t).Resolve([]string{"team-payments"})
	cases := []struct {
		path   string
		status int
		substr string
	}{
		{"/api/prom/query?query=%7Bapp%3D%22a%22%7D", 403, "/loki/api/v1/query_range"},
		{"/api/prom/label/app/values", 403, "legacy"},
		{"/api/prom/tail", 403, "/loki/api/v1/tail"},
		{"/loki/api/v1/delete", 403, "not available"},
		{"/loki/api/v1/index/shards", 403, "not available"},
		{"/otlp/v1/logs", 403, "not available"},
		{"/loki/api/v1/query", 400, "missing"},
		{"/loki/api/v1/query?query=up", 400, "parse error"},
		{"/loki/api/v1/query?query=%7Bapp%3D%22a%22%7D&query=%7Bb%3D%22c%22%7D", 400, "2 times"},
		{"/loki/api/v1/query_range?query=%7Bapp%3D%22a%22%7D&org_id=checkout", 400, "org_id"},
		{"/loki/api/v1/label/a-b/values", 403, "not available"},
		{"/loki/api/v1/../v1/push", 400, "canonical"},
	}
	for _, tc := range cases {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		u, _ := url.Parse(tc.path)
		r.URL = u
		w := serve(h, r, a)
		if w.Code != tc.status || !strings.Contains(w.Body.String(), tc.substr) || w.Header().Get("Content-Type") != "text/plain; charset=utf-8" {
			t.Errorf("%s: %d %q, want %d mentioning %q as Loki's plain text", tc.path, w.Code, w.Body, tc.status, tc.substr)
		}
	}
	if f.count() != 0 {
		t.Errorf("%d refused requests reached Loki", f.count())
	}
}

func TestTailIsConfinedAndUpgradesPass(t *testing.T) {
	h, f := newTestHandler(t)
	a := testTenancy(t).Resolve([]string{"team-payments"})
	r := httptest.NewRequest(http.MethodGet, "/loki/api/v1/tail?"+url.Values{"query": {`{app="a"}`}, "limit": {"10"}}.Encode(), nil)
	r.Header.Set("Connection", "Upgrade")
	r.Header.Set("Upgrade", "websocket")
	r.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	r.Header.Set("Sec-WebSocket-Version", "13")
	r.Header.Set("X-Forwarded-User", "alice")
	serve(h, r, a)
	got := f.last(t)
	if q := got.params.Get("query"); q != `{app="a", namespace=~"team-payments-prod|team-payments-staging"}` {
		t.Errorf("tail query %q", q)
	}
	if got.header.Get("Upgrade") != "websocket" || got.header.Get("Sec-Websocket-Key") == "" || got.header.Get("X-Forwarded-User") != "" {
		t.Errorf("tail headers: %v", got.header)
	}
}
