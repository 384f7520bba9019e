package promproxy

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/prompb"

	"github.com/tollgate-dev/tollgate/proxy/ingest"
	"github.com/tollgate-dev/tollgate/proxy/remotewrite"
	"github.com/tollgate-dev/tollgate/tenancy"
)

func confinedView(t *testing.T, groups ...string) view {
	t.Helper()
	tn, err := tenancy.New(tenancy.Config{
		Label: "namespace", ClusterLabel: "k8s_cluster",
		Tenants: []tenancy.TenantConfig{
			{Name: "pci", Groups: []string{"pci"}, Namespaces: []string{"pay"}, Clusters: []string{"eu"}},
			{Name: "open", Groups: []string{"open"}, Namespaces: []string{"pay"}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return newView(tn.Resolve(groups))
}

// alertsOf lists the kept alerts as "namespace/cluster" strings.
func alertsOf(t *testing.T, body []byte) string {
	t.Helper()
	var r struct {
		Data struct {
			Alerts []struct {
				Labels map[string]string `json:"labels"`
			} `json:"alerts"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, a := range r.Data.Alerts {
		out = append(out, a.Labels["namespace"]+"/"+a.Labels["k8s_cluster"])
	}
	return strings.Join(out, " ")
}

func TestFilterAlertsClusters(t *testing.T) {
	body := []byte(`{"status":"success","data":{"alerts":[
		{"labels":{"namespace":"pay","k8s_cluster":"eu"},"state":"firing"},
		{"labels":{"namespace":"pay","k8s_cluster":"us"},"state":"firing"},
		{"labels":{"namespace":"pay"},"state":"firing"},
		{"labels":{"namespace":"other","k8s_cluster":"eu"},"state":"firing"}]}}`)
	for groups, want := range map[string]string{
		"pci":  "pay/eu",             // its cluster only; no cluster label: dropped
		"open": "pay/eu pay/us pay/", // not confined: every cluster
	} {
		out, err := filterBody("/api/v1/alerts", body, confinedView(t, groups))
		if err != nil {
			t.Fatal(err)
		}
		if got := alertsOf(t, out); got != want {
			t.Errorf("%s: alerts %q, want %q", groups, got, want)
		}
	}
}

func TestFilterRulesClusters(t *testing.T) {
	body := []byte(`{"status":"success","data":{"groups":[{"name":"g","rules":[
		{"type":"recording","name":"mine","labels":{"namespace":"pay","k8s_cluster":"eu"}},
		{"type":"recording","name":"other-cluster","labels":{"namespace":"pay","k8s_cluster":"us"}},
		{"type":"recording","name":"no-cluster","labels":{"namespace":"pay"}},
		{"type":"alerting","name":"eu-platform","labels":{"k8s_cluster":"eu"},"state":"firing","alerts":[
			{"labels":{"namespace":"pay"},"state":"firing"},
			{"labels":{"namespace":"pay","k8s_cluster":"us"},"state":"firing"}]},
		{"type":"alerting","name":"us-platform","labels":{"k8s_cluster":"us"},"state":"firing","alerts":[
			{"labels":{"namespace":"pay","k8s_cluster":"eu"},"state":"firing"}]},
		{"type":"alerting","name":"no-cluster-platform","labels":{},"state":"firing","alerts":[
			{"labels":{"namespace":"pay"},"state":"firing"}]}]}]}}`)
	out, err := filterBody("/api/v1/rules", body, confinedView(t, "pci"))
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		Data struct {
			Groups []struct {
				Rules []struct {
					Name   string            `json:"name"`
					Alerts []json.RawMessage `json:"alerts"`
				} `json:"rules"`
			} `json:"groups"`
		} `json:"data"`
	}
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, g := range r.Data.Groups {
		for _, rule := range g.Rules {
			got = append(got, rule.Name+":"+strings.Repeat("a", len(rule.Alerts)))
		}
	}
	// other-cluster and us-platform name another cluster statically;
	// no-cluster and no-cluster-platform's alert belong to no cluster;
	// eu-platform keeps its alert inheriting eu, not the one labelled us.
	if want := "mine: eu-platform:a"; strings.Join(got, " ") != want {
		t.Errorf("rules %q, want %q", strings.Join(got, " "), want)
	}
}

// TestRemoteWriteClusterConfined: through the handler, a cluster-confined
// tenant's series in another cluster refuse the write (403, nothing
// forwarded), and one in its cluster is forwarded.
func TestRemoteWriteClusterConfined(t *testing.T) {
	up := &fakeUpstream{respond: func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }}
	srv := httptest.NewServer(up)
	t.Cleanup(srv.Close)
	target, _ := url.Parse(srv.URL + "/api/v1/push")
	h := New(Options{Upstream: target, Timeout: 5 * time.Second, Write: WriteOptions{
		URL: target, Label: "namespace", MaxBytes: 1 << 20, Concurrent: 1,
		Limits: remotewrite.Limits{Decompressed: ingest.Limit{Max: 1 << 20}, Series: ingest.Limit{Max: 10}, Samples: ingest.Limit{Max: 10}, Labels: ingest.Limit{Max: 100}},
	}})
	tn, err := tenancy.New(tenancy.Config{Label: "namespace", Tenants: []tenancy.TenantConfig{{Name: "pci", Groups: []string{"pci"}, Namespaces: []string{"pay"}, Clusters: []string{"eu"}}}})
	if err != nil {
		t.Fatal(err)
	}
	write := func(cluster string) *httptest.ResponseRecorder {
		raw, _ := (&prompb.WriteRequest{Timeseries: []prompb.TimeSeries{{
			Labels:  []prompb.Label{{Name: "__name__", Value: "up"}, {Name: "cluster", Value: cluster}, {Name: "namespace", Value: "pay"}},
			Samples: []prompb.Sample{{Value: 1, Timestamp: 1}},
		}}}).Marshal()
		r := httptest.NewRequest(http.MethodPost, "/api/v1/write", bytes.NewReader(snappy.Encode(nil, raw)))
		r.Header.Set("Content-Type", "application/x-protobuf")
		r.Header.Set("Content-Encoding", "snappy")
		w, _ := serve(h, r, tn.Resolve([]string{"pci"}))
		return w
	}
	if w := write("us"); w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), `cluster \"us\", not one of your clusters`) {
		t.Errorf("write to us: %d %s, want 403 naming the series' cluster", w.Code, w.Body)
	}
	if up.count() != 0 {
		t.Error("a refused write reached the backend")
	}
	if w := write("eu"); w.Code != http.StatusNoContent || up.count() != 1 {
		t.Errorf("write to eu: %d %s", w.Code, w.Body)
	}
}
