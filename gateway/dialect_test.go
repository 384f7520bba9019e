package gateway

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/tollgate-dev/tollgate/internal/config"
	"github.com/tollgate-dev/tollgate/promenforce"
)

// upstreams.prometheus_dialect: auto reads status/buildinfo; a configured
// dialect is used as is, without asking; an unreadable backend is taken for
// prometheus3. The detection against the real backends is TestE2E's
// "dialect" in proxy/.
func TestPromDialect(t *testing.T) {
	var asked int
	var answer string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked++
		if r.URL.Path != "/prefix/api/v1/status/buildinfo" || r.Header.Get("X-Scope-OrgID") != "org-1" {
			http.NotFound(w, r)
			return
		}
		_, _ = io.WriteString(w, answer)
	}))
	t.Cleanup(srv.Close)
	up, _ := url.Parse(srv.URL + "/prefix")
	cfg := func(dialect string) *config.File {
		f := &config.File{Upstreams: config.Upstreams{Prometheus: up.String(), PrometheusOrgID: "org-1", PrometheusDialect: dialect}}
		f.ApplyDefaults()
		return f
	}
	for _, tc := range []struct {
		dialect, answer string
		want            promenforce.Dialect
		asks            int
	}{
		{"auto", `{"status":"success","data":{"version":"2.42.0","revision":"x"}}`, promenforce.DialectPrometheus2, 1},
		{"auto", `{"status":"success","data":{"version":"3.16.0"}}`, promenforce.DialectPrometheus3, 1},
		{"auto", `{"status":"success","data":{"version":"0.42.5"}}`, promenforce.DialectThanos, 1},
		{"auto", `{"status":"success","data":{"application":"Grafana Mimir","version":"2.17.1"}}`, promenforce.DialectMimir, 1},
		{"auto", `{"status":"success","data":{"version":"1.8.2"}}`, promenforce.DialectPrometheus3, 1},
		{"auto", `not json`, promenforce.DialectPrometheus3, 1},
		{"", `{"status":"success","data":{"version":"2.42.0"}}`, promenforce.DialectPrometheus2, 1},
		{"prometheus2", `{"status":"success","data":{"version":"3.16.0"}}`, promenforce.DialectPrometheus2, 0},
		{"thanos", `{"status":"success","data":{"version":"2.42.0"}}`, promenforce.DialectThanos, 0},
	} {
		asked, answer = 0, tc.answer
		if got := promDialect(cfg(tc.dialect), up, http.DefaultTransport, nil); got != tc.want || asked != tc.asks {
			t.Errorf("dialect %q, buildinfo %s: %q after %d requests, want %q after %d", tc.dialect, tc.answer, got, asked, tc.want, tc.asks)
		}
	}
	dead, _ := url.Parse("http://127.0.0.1:1")
	if got := promDialect(cfg("auto"), dead, http.DefaultTransport, nil); got != promenforce.DialectPrometheus3 {
		t.Errorf("unreachable backend: %q, want prometheus3", got)
	}
}
