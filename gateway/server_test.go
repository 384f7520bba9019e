package gateway

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/tollgate-dev/tollgate/identity"
	"github.com/tollgate-dev/tollgate/internal/config"
	"github.com/tollgate-dev/tollgate/proxy"
)

func testServer(t *testing.T) (*proxy.Server, *prometheus.Registry, *int) {
	t.Helper()
	hits := new(int)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		*hits++
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"status":"success","data":{"resultType":"vector","result":[]}}`)
	}))
	t.Cleanup(up.Close)
	cfg, _, err := config.Parse("test.yaml", []byte(`
upstreams: {prometheus: "`+up.URL+`", prometheus_dialect: prometheus3}
tenancy:
  label: namespace
  admin_groups: [platform-sre]
  tenants:
    - {name: payments, groups: [team-payments], namespaces: [team-payments-prod]}
auth:
  trusted_headers: {user: X-Forwarded-User, groups: X-Forwarded-Groups, trusted_cidrs: [192.0.2.0/24]}
  tokens:
    - {name: ci, sha256: "`+identity.HashToken("secret")+`", groups: [platform-sre]}
`))
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	s, err := FromConfig(cfg, nil, nil, reg)
	if err != nil {
		t.Fatal(err)
	}
	return s, reg, hits
}

func do(s http.Handler, remote, path string, headers ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, path, nil)
	r.RemoteAddr = remote
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Set(headers[i], headers[i+1])
	}
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	return w
}

func TestAuthFlow(t *testing.T) {
	s, reg, hits := testServer(t)
	const trusted, untrusted = "192.0.2.7:4000", "127.0.0.1:4000"
	cases := []struct {
		name    string
		remote  string
		headers []string
		status  int
		errType string
	}{
		{"unauthenticated", trusted, nil, 401, "unauthorized"},
		{"forged headers from an untrusted address", untrusted, []string{"X-Forwarded-User", "mallory", "X-Forwarded-Groups", "platform-sre"}, 401, "unauthorized"},
		{"authenticated, no tenant", trusted, []string{"X-Forwarded-User", "intern", "X-Forwarded-Groups", "interns"}, 403, "forbidden"},
		{"tenant", trusted, []string{"X-Forwarded-User", "alice", "X-Forwarded-Groups", "team-payments"}, 200, ""},
		{"admin by token from anywhere", untrusted, []string{"Authorization", "Bearer secret"}, 200, ""},
		{"bad token with forged headers", untrusted, []string{"Authorization", "Bearer wrong", "X-Forwarded-User", "alice", "X-Forwarded-Groups", "platform-sre"}, 401, "unauthorized"},
		{"bad token", trusted, []string{"Authorization", "Bearer wrong"}, 401, "unauthorized"},
	}
	for _, tc := range cases {
		w := do(s, tc.remote, "/api/v1/query?query=up", tc.headers...)
		if w.Code != tc.status {
			t.Errorf("%s: status %d, want %d: %s", tc.name, w.Code, tc.status, w.Body)
			continue
		}
		if tc.errType != "" {
			var e struct{ Status, ErrorType, Error string }
			if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Status != "error" || e.ErrorType != tc.errType || e.Error == "" {
				t.Errorf("%s: body %s is not a Prometheus %s error", tc.name, w.Body, tc.errType)
			}
		}
		if tc.status == 401 && w.Header().Get("WWW-Authenticate") == "" {
			t.Errorf("%s: 401 without WWW-Authenticate", tc.name)
		}
	}
	if *hits != 2 {
		t.Errorf("%d requests reached the upstream, want 2", *hits)
	}
	for labels, want := range map[[3]string]float64{
		{"_unauthenticated", "401", "/api/v1/query"}: 4,
		{"_none", "403", "/api/v1/query"}:            1,
		{"payments", "200", "/api/v1/query"}:         1,
		{"_admin", "200", "/api/v1/query"}:           1,
	} {
		if got := requestCount(t, reg, "prometheus", labels[2], labels[0], labels[1]); got != want {
			t.Errorf("requests%v = %v, want %v", labels, got, want)
		}
	}
	if n, err := testutil.GatherAndCount(reg, "tollgate_http_request_duration_seconds"); err != nil || n != 4 {
		t.Errorf("duration series = %d (%v), want 4", n, err)
	}
}

func TestOperationalEndpoints(t *testing.T) {
	s, _, hits := testServer(t)
	if w := do(s, "192.0.2.1:1", "/-/healthy"); w.Code != 200 {
		t.Errorf("healthy: %d", w.Code)
	}
	if w := do(s, "192.0.2.1:1", "/-/ready"); w.Code != 200 {
		t.Errorf("ready: %d", w.Code)
	}
	s.SetReady(false)
	if w := do(s, "192.0.2.1:1", "/-/ready"); w.Code != 503 {
		t.Errorf("ready while draining: %d", w.Code)
	}
	do(s, "192.0.2.1:1", "/api/v1/query?query=up", "Authorization", "Bearer secret")
	w := do(s, "192.0.2.1:1", "/metrics", "Authorization", "Bearer secret")
	if w.Code != 200 || !strings.Contains(w.Body.String(), `tollgate_http_requests_total{api="prometheus",code="200",route="/api/v1/query",tenant="_admin"} 1`) {
		t.Errorf("metrics: %d\n%s", w.Code, w.Body)
	}
	for _, p := range []string{"/", "/graph", "/loki/api/v1/query", "/api/v2/alerts"} {
		w := do(s, "192.0.2.1:1", p, "Authorization", "Bearer secret")
		if w.Code != 404 || !strings.Contains(w.Body.String(), `"errorType":"not_found"`) {
			t.Errorf("%s: %d %s, want 404 not_found", p, w.Code, w.Body)
		}
	}
	if *hits != 1 {
		t.Errorf("%d requests reached the upstream, want 1", *hits)
	}
}

// The gateway's /metrics names every tenant and, with the cost engine,
// every namespace's spend: on the gateway's address only admins read it;
// on metrics_listen's handler the scraper and probes need no identity,
// and nothing else is served there.
func TestMetricsOnlyForAdmins(t *testing.T) {
	s, _, hits := testServer(t)
	for _, c := range []struct {
		name    string
		headers []string
		code    int
	}{
		{"anonymous", nil, http.StatusUnauthorized},
		{"bad token", []string{"Authorization", "Bearer wrong"}, http.StatusUnauthorized},
		{"tenant", []string{"X-Forwarded-User", "alice", "X-Forwarded-Groups", "team-payments"}, http.StatusForbidden},
		{"no tenant", []string{"X-Forwarded-User", "mallory", "X-Forwarded-Groups", "marketing"}, http.StatusForbidden},
		{"admin by header", []string{"X-Forwarded-User", "sre", "X-Forwarded-Groups", "platform-sre"}, http.StatusOK},
		{"admin token", []string{"Authorization", "Bearer secret"}, http.StatusOK},
	} {
		w := do(s, "192.0.2.1:1", "/metrics", c.headers...)
		if w.Code != c.code {
			t.Errorf("%s: /metrics answered %d, want %d: %s", c.name, w.Code, c.code, w.Body)
		}
		if c.code != http.StatusOK && (strings.Contains(w.Body.String(), "tollgate_") || !strings.Contains(w.Body.String(), `"status":"error"`)) {
			t.Errorf("%s: the refusal is not a JSON error or carries metrics: %s", c.name, w.Body)
		}
	}

	do(s, "192.0.2.1:1", "/api/v1/query?query=up", "Authorization", "Bearer secret")
	ops := s.Operations()
	if w := do(ops, "198.51.100.1:1", "/metrics"); w.Code != 200 || !strings.Contains(w.Body.String(), "tollgate_http_requests_total") {
		t.Errorf("metrics_listen /metrics: %d\n%s", w.Code, w.Body)
	}
	for _, p := range []string{"/-/healthy", "/-/ready"} {
		if w := do(ops, "198.51.100.1:1", p); w.Code != 200 {
			t.Errorf("metrics_listen %s: %d", p, w.Code)
		}
	}
	for _, p := range []string{"/api/v1/query?query=up", "/allocation", "/loki/api/v1/query", "/"} {
		if w := do(ops, "198.51.100.1:1", p, "Authorization", "Bearer secret"); w.Code != http.StatusNotFound {
			t.Errorf("metrics_listen %s: %d, want 404 (only operations are served there)", p, w.Code)
		}
	}
	if *hits != 1 {
		t.Errorf("%d requests reached the upstream, want only the admin's query", *hits)
	}
}

// A gateway in front of Loki alone serves Loki's API and answers
// Prometheus paths as unknown, in the gateway's own format.
func TestLokiOnlyGateway(t *testing.T) {
	loki := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"status":"success","data":{"resultType":"streams","result":[]}}`)
	}))
	t.Cleanup(loki.Close)
	cfg, _, err := config.Parse("loki-only.yaml", []byte(`
upstreams: {loki: "`+loki.URL+`"}
tenancy:
  label: namespace
  tenants:
    - {name: payments, groups: [team-payments], namespaces: [team-payments-prod]}
auth:
  tokens:
    - {name: ci, sha256: "`+identity.HashToken("secret")+`", groups: [team-payments]}
`))
	if err != nil {
		t.Fatal(err)
	}
	s, err := FromConfig(cfg, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if w := do(s, "127.0.0.1:1", `/loki/api/v1/query?query={app="a"}`, "Authorization", "Bearer secret"); w.Code != http.StatusOK {
		t.Fatalf("Loki query: %d %s", w.Code, w.Body)
	}
	w := do(s, "127.0.0.1:1", "/api/v1/query?query=up", "Authorization", "Bearer secret")
	if w.Code != http.StatusNotFound || !strings.Contains(w.Body.String(), `"errorType":"not_found"`) || !strings.Contains(w.Body.String(), "it serves these APIs: loki") {
		t.Fatalf("Prometheus path: %d %s", w.Code, w.Body)
	}
}

// requestCount reads tollgate_http_requests_total{api,route,tenant,code}
// from the registry.
func requestCount(t *testing.T, reg *prometheus.Registry, api, route, tenant, code string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"api": api, "route": route, "tenant": tenant, "code": code}
	for _, mf := range mfs {
		if mf.GetName() != "tollgate_http_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			match := true
			for _, l := range m.GetLabel() {
				if want[l.GetName()] != l.GetValue() {
					match = false
				}
			}
			if match {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}
