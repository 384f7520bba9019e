package promproxy

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/promenforce"
)

// Thanos parameters are forwarded only with a value Tollgate understood;
// the end-to-end matrix against a real Thanos Query is TestE2E's
// "thanos parameters".
func TestThanosParameterValues(t *testing.T) {
	up := &fakeUpstream{respond: func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/api/v1/rules":
			_, _ = io.WriteString(w, `{"status":"success","data":{"groups":[]}}`)
		case "/api/v1/alerts":
			_, _ = io.WriteString(w, `{"status":"success","data":{"alerts":[]}}`)
		default:
			_, _ = io.WriteString(w, `{"status":"success","data":{"resultType":"vector","result":[]}}`)
		}
	}}
	srv := httptest.NewServer(up)
	t.Cleanup(srv.Close)
	base, _ := url.Parse(srv.URL)
	h := New(Options{Upstream: base, MaxBodyBytes: 1 << 10, Timeout: 5 * time.Second, Label: "namespace"})
	a := tenantAccess("team-a")
	for _, tc := range []struct {
		path   string
		kv     []string
		status int
	}{
		{"/api/v1/query", []string{"dedup", "false"}, 200},
		{"/api/v1/query", []string{"dedup", "maybe"}, 400},
		{"/api/v1/query", []string{"partial_response", "true"}, 200},
		{"/api/v1/query", []string{"partial_response", "1x"}, 400},
		{"/api/v1/query", []string{"analyze", "true", "engine", "thanos"}, 200},
		{"/api/v1/query", []string{"analyze", "yes"}, 400},
		{"/api/v1/query", []string{"engine", "prometheus"}, 200},
		{"/api/v1/query", []string{"engine", "victoriametrics"}, 400},
		{"/api/v1/query_range", []string{"max_source_resolution", "auto"}, 200},
		{"/api/v1/query_range", []string{"max_source_resolution", "1h"}, 200},
		{"/api/v1/query_range", []string{"max_source_resolution", "300"}, 200},
		{"/api/v1/query_range", []string{"max_source_resolution", "-5m"}, 400},
		{"/api/v1/query_range", []string{"max_source_resolution", "NaN"}, 400},
		{"/api/v1/query", []string{"replicaLabels[]", "replica"}, 200},
		{"/api/v1/query", []string{"replicaLabels[]", "replica", "replicaLabels[]", "namespace"}, 403},
		{"/api/v1/series", []string{"replicaLabels[]", "__name__"}, 403},
		{"/api/v1/labels", []string{"replicaLabels[]", "bad\xff"}, 400},
		{"/api/v1/query", []string{"storeMatch[]", `{cluster="prod-eu"}`}, 200},
		{"/api/v1/query", []string{"storeMatch[]", `{cluster=~"prod-.*"}`, "storeMatch[]", `{cluster="x"}`}, 200},
		{"/api/v1/query", []string{"storeMatch[]", `{cluster=`}, 400},
		{"/api/v1/label/namespace/values", []string{"dedup", "no"}, 400},
		{"/api/v1/alerts", []string{"partial_response", "perhaps"}, 400},
		{"/api/v1/rules", []string{"type", "alert"}, 200},
		{"/api/v1/rules", []string{"type", "RECORD"}, 200},
		{"/api/v1/rules", []string{"type", "all"}, 400},
		{"/api/v1/query", []string{"shard_info", `{"shardIndex":0}`}, 400},
	} {
		ps := form(tc.kv...)
		if tc.path == "/api/v1/query" || tc.path == "/api/v1/query_range" {
			ps.Set("query", "up")
		}
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			r := get(tc.path, ps)
			if method == http.MethodPost {
				r = post(tc.path, ps)
			}
			before := up.count()
			w, e := serve(h, r, a)
			if w.Code != tc.status {
				t.Errorf("%s %s %v: %d %s, want %d", method, tc.path, tc.kv, w.Code, w.Body, tc.status)
				continue
			}
			if tc.status != 200 {
				if up.count() != before || e.Status != "error" {
					t.Errorf("%s %s %v: refused but forwarded, or not in Prometheus' error format: %s", method, tc.path, tc.kv, w.Body)
				}
				continue
			}
			got := up.last(t).params
			for k, vs := range ps {
				if k != "query" && len(got[k]) != len(vs) {
					t.Errorf("%s %s: %s forwarded as %v, want %v", method, tc.path, k, got[k], vs)
				}
			}
		}
	}
}

func TestDialectOfBuildInfo(t *testing.T) {
	for _, tc := range []struct {
		app, version string
		want         promenforce.Dialect
	}{
		{"", "2.42.0", promenforce.DialectPrometheus2},
		{"", "3.16.0", promenforce.DialectPrometheus3},
		{"", "0.42.5", promenforce.DialectThanos},
		{"Grafana Mimir", "2.17.0", promenforce.DialectMimir},
	} {
		if got, err := dialectOf(tc.app, tc.version); err != nil || got != tc.want {
			t.Errorf("dialectOf(%q, %q) = %q, %v; want %q", tc.app, tc.version, got, err, tc.want)
		}
	}
	if d, err := dialectOf("", "1.8.2"); err == nil {
		t.Errorf("Prometheus 1.8 taken for %s", d)
	}
}
