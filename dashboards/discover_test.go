package dashboards_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/dashboards"
)

// Discovery asks for the preset's service label on the team's request
// metric within the window, with the configured headers, under the URL's
// path prefix; it returns the values sorted and distinct, and a refusal
// names the tenant, the URL and Prometheus's own error.
func TestDiscovererAsksAndReports(t *testing.T) {
	var got *http.Request
	status, body := 200, `{"status":"success","data":["b","a","b"]}`
	prom := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Clone(context.Background())
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	defer prom.Close()
	p, err := dashboards.LookupPreset(dashboards.DefaultPreset)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1793491200, 0)
	d := dashboards.Discoverer{URL: prom.URL + "/prom/", Header: http.Header{"Authorization": {"Bearer admin"}, "X-Scope-OrgID": {"org"}},
		Window: time.Hour, Now: func() time.Time { return now }}
	team := dashboards.Team{Tenant: "payments", Namespaces: []string{"pay"}, Preset: p}

	services, err := d.Services(context.Background(), "namespace", team)
	if err != nil || strings.Join(services, ",") != "a,b" {
		t.Fatalf("services %v, %v", services, err)
	}
	q := got.URL.Query()
	if got.Method != http.MethodGet || got.URL.Path != "/prom/api/v1/label/"+p.ServiceLabel+"/values" ||
		!strings.Contains(q.Get("match[]"), p.Requests) || !strings.Contains(q.Get("match[]"), "pay") ||
		q.Get("start") != "1793487600" || q.Get("end") != "1793491200" {
		t.Errorf("asked %s %s", got.Method, got.URL)
	}
	if got.Header.Get("Authorization") != "Bearer admin" || got.Header.Get("X-Scope-OrgID") != "org" {
		t.Errorf("headers %v", got.Header)
	}

	status, body = 400, `{"status":"error","errorType":"bad_data","error":"invalid parameter \"match[]\""}`
	_, err = d.Services(context.Background(), "namespace", team)
	want := "discovering the services of tenant payments from " + d.URL + `: Prometheus answered 400 Bad Request: bad_data: invalid parameter "match[]"`
	if err == nil || err.Error() != want {
		t.Errorf("error\n got %v\nwant %s", err, want)
	}
}
