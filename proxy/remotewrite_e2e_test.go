package proxy_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/prompb"
	writev2 "github.com/prometheus/prometheus/prompb/io/prometheus/write/v2"

	"github.com/tollgate-dev/tollgate/identity"
	"github.com/tollgate-dev/tollgate/internal/testkit/testenv"
)

// The remote-write end-to-end tests write through Tollgate into a real
// Prometheus with its remote-write receiver on, and read back what landed
// as an admin, straight from Prometheus.

type rwEnv struct {
	gateway, direct string
	client          *http.Client
}

const rwGatewayYAML = `
upstreams: {prometheus: %q}
tenancy:
  label: namespace
  admin_groups: [platform-sre]
  tenants:
    - {name: payments, groups: [team-payments], namespaces: [team-payments-prod, team-payments-staging], default_namespace: team-payments-prod}
    - {name: search, groups: [team-search], namespaces: ["team-search-*"]}
auth:
  trusted_headers: {user: X-Forwarded-User, groups: X-Forwarded-Groups, trusted_cidrs: [127.0.0.1/32]}
  tokens:
    - {name: ci, sha256: %q, groups: [platform-sre]}
proxy:
  max_push_decompressed_bytes: 1048576
`

func setupRemoteWrite(tb testing.TB) *rwEnv {
	tb.Helper()
	prom := testenv.StartPrometheus(tb, testenv.PrometheusOptions{Args: []string{"--web.enable-remote-write-receiver"}})
	gw := startGateway(tb, fmt.Sprintf(rwGatewayYAML, prom.URL, identity.HashToken(adminToken)))
	return &rwEnv{gateway: gw, direct: prom.URL, client: &http.Client{Timeout: 60 * time.Second}}
}

// series builds a series of one sample at now from alternating names and
// values; the labels are sorted as remote write requires.
func series(kv ...string) prompb.TimeSeries {
	var ls []prompb.Label
	for i := 0; i+1 < len(kv); i += 2 {
		ls = append(ls, prompb.Label{Name: kv[i], Value: kv[i+1]})
	}
	slices.SortFunc(ls, func(a, b prompb.Label) int { return strings.Compare(a.Name, b.Name) })
	return prompb.TimeSeries{Labels: ls, Samples: []prompb.Sample{{Value: 42, Timestamp: time.Now().UnixMilli()}}}
}

func encodeWrite(tb testing.TB, req *prompb.WriteRequest) []byte {
	tb.Helper()
	raw, err := req.Marshal()
	if err != nil {
		tb.Fatal(err)
	}
	return snappy.Encode(nil, raw)
}

// write sends a snappy body to base's /api/v1/write as c, with remote
// write 1.0's headers.
func (e *rwEnv) write(tb testing.TB, base string, c caller, body []byte) (int, string) {
	tb.Helper()
	req, err := http.NewRequest(http.MethodPost, base+"/api/v1/write", bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set("Content-Encoding", "snappy")
	req.Header.Set("X-Prometheus-Remote-Write-Version", "0.1.0")
	req.Header.Set("User-Agent", "Prometheus/2.42.0")
	for i := 0; i+1 < len(c.headers); i += 2 {
		req.Header.Set(c.headers[i], c.headers[i+1])
	}
	resp, err := e.client.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	return resp.StatusCode, b.String()
}

// landed returns the namespaces of the series named metric, read from
// base as c (direct: no caller).
func (e *rwEnv) landed(t *testing.T, base string, c caller, metric string) []string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+"/api/v1/query?"+url.Values{"query": {metric}}.Encode(), nil)
	for i := 0; i+1 < len(c.headers); i += 2 {
		req.Header.Set(c.headers[i], c.headers[i+1])
	}
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r struct {
		Status string `json:"status"`
		Data   struct {
			Result []struct {
				Metric map[string]string `json:"metric"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || r.Status != "success" {
		t.Fatalf("query %s: %d %v %+v", metric, resp.StatusCode, err, r)
	}
	var out []string
	for _, s := range r.Data.Result {
		out = append(out, s.Metric["namespace"])
	}
	slices.Sort(out)
	return out
}

var (
	rwPayments = caller{name: "payments", headers: []string{"X-Forwarded-User", "alice", "X-Forwarded-Groups", "team-payments"}}
	rwSearch   = caller{name: "search", headers: []string{"X-Forwarded-User", "bob", "X-Forwarded-Groups", "team-search"}}
)

func TestRemoteWriteOwnSeriesLand(t *testing.T) {
	e := setupRemoteWrite(t)
	req := &prompb.WriteRequest{Timeseries: []prompb.TimeSeries{
		series("__name__", "rw_own", "namespace", "team-payments-prod", "pod", "a"),
		series("__name__", "rw_own", "namespace", "team-payments-staging", "pod", "b"),
	}}
	if code, b := e.write(t, e.gateway, rwPayments, encodeWrite(t, req)); code != http.StatusNoContent {
		t.Fatalf("payments' own write: %d %s", code, b)
	}
	if got := e.landed(t, e.gateway, rwPayments, "rw_own"); !slices.Equal(got, []string{"team-payments-prod", "team-payments-staging"}) {
		t.Errorf("payments reads back %v through Tollgate", got)
	}
	if got := e.landed(t, e.gateway, rwSearch, "rw_own"); len(got) != 0 {
		t.Errorf("search reads payments' written series: %v", got)
	}
	// A glob tenant writes to a namespace its glob covers.
	req = &prompb.WriteRequest{Timeseries: []prompb.TimeSeries{series("__name__", "rw_glob", "namespace", "team-search-canary")}}
	if code, b := e.write(t, e.gateway, rwSearch, encodeWrite(t, req)); code != http.StatusNoContent {
		t.Fatalf("search's write to team-search-canary: %d %s", code, b)
	}
	if got := e.landed(t, e.direct, caller{}, "rw_glob"); !slices.Equal(got, []string{"team-search-canary"}) {
		t.Errorf("rw_glob landed as %v", got)
	}
}

func TestRemoteWriteForeignWritesNothing(t *testing.T) {
	e := setupRemoteWrite(t)
	for _, tc := range []struct {
		name   string
		c      caller
		series []prompb.TimeSeries
		says   string
	}{
		{"foreign series", rwPayments, []prompb.TimeSeries{series("__name__", "rw_foreign", "namespace", "team-search-prod")}, `team-search-prod`},
		{"mixed request", rwPayments, []prompb.TimeSeries{
			series("__name__", "rw_mixed", "namespace", "team-payments-prod"),
			series("__name__", "rw_mixed", "namespace", "team-search-prod", "pod", "x"),
		}, `rw_mixed`},
		{"no namespace and no default", rwSearch, []prompb.TimeSeries{series("__name__", "rw_nodefault", "pod", "y")}, "default_namespace"},
		{"namespace twice", rwPayments, []prompb.TimeSeries{{
			Labels:  []prompb.Label{{Name: "__name__", Value: "rw_twice"}, {Name: "namespace", Value: "team-payments-prod"}, {Name: "namespace", Value: "team-search-prod"}},
			Samples: []prompb.Sample{{Value: 1, Timestamp: time.Now().UnixMilli()}},
		}}, "2 times"},
		{"exemplar naming another namespace", rwPayments, []prompb.TimeSeries{func() prompb.TimeSeries {
			s := series("__name__", "rw_exemplar", "namespace", "team-payments-prod")
			s.Exemplars = []prompb.Exemplar{{Labels: []prompb.Label{{Name: "namespace", Value: "team-search-prod"}}, Value: 1, Timestamp: time.Now().UnixMilli()}}
			return s
		}()}, "exemplar"},
	} {
		code, b := e.write(t, e.gateway, tc.c, encodeWrite(t, &prompb.WriteRequest{Timeseries: tc.series}))
		if code != http.StatusForbidden || !strings.Contains(b, tc.says) || !strings.Contains(b, "nothing was written") {
			t.Errorf("%s: %d %s, want 403 naming %s", tc.name, code, b, tc.says)
		}
		metric := tc.series[0].Labels[0].Value
		if got := e.landed(t, e.direct, caller{}, metric); len(got) != 0 {
			t.Errorf("%s: %s landed in Prometheus: %v", tc.name, metric, got)
		}
	}
	// Eleven foreign series: ten are named.
	var many []prompb.TimeSeries
	for i := range 11 {
		many = append(many, series("__name__", "rw_many", "namespace", "team-search-prod", "i", fmt.Sprint(i)))
	}
	code, b := e.write(t, e.gateway, rwPayments, encodeWrite(t, &prompb.WriteRequest{Timeseries: many}))
	if code != http.StatusForbidden || strings.Count(b, "rw_many") != 10 || !strings.Contains(b, "and 1 more") {
		t.Errorf("eleven foreign series: %d %s, want 403 naming ten", code, b)
	}
}

func TestRemoteWriteDefaultNamespace(t *testing.T) {
	e := setupRemoteWrite(t)
	req := &prompb.WriteRequest{Timeseries: []prompb.TimeSeries{
		series("__name__", "rw_default", "pod", "a"),
		series("__name__", "rw_default", "namespace", "", "pod", "b"),
	}}
	if code, b := e.write(t, e.gateway, rwPayments, encodeWrite(t, req)); code != http.StatusNoContent {
		t.Fatalf("write without namespace: %d %s", code, b)
	}
	if got := e.landed(t, e.direct, caller{}, "rw_default"); !slices.Equal(got, []string{"team-payments-prod", "team-payments-prod"}) {
		t.Errorf("series without a namespace landed as %v, want payments' default namespace", got)
	}
	// Metadata names no namespace: a tenant's is dropped, the series pass.
	req = &prompb.WriteRequest{
		Timeseries: []prompb.TimeSeries{series("__name__", "rw_meta", "namespace", "team-payments-prod")},
		Metadata:   []prompb.MetricMetadata{{Type: prompb.MetricMetadata_GAUGE, MetricFamilyName: "rw_meta", Help: "spoofed help"}},
	}
	if code, b := e.write(t, e.gateway, rwPayments, encodeWrite(t, req)); code != http.StatusNoContent {
		t.Fatalf("write with metadata: %d %s", code, b)
	}
	// An admin writes platform series, without a namespace.
	req = &prompb.WriteRequest{Timeseries: []prompb.TimeSeries{series("__name__", "rw_platform", "node", "n1")}}
	if code, b := e.write(t, e.gateway, caller{name: "admin", headers: []string{"Authorization", "Bearer " + adminToken}}, encodeWrite(t, req)); code != http.StatusNoContent {
		t.Fatalf("admin's platform write: %d %s", code, b)
	}
	if got := e.landed(t, e.direct, caller{}, "rw_platform"); !slices.Equal(got, []string{""}) {
		t.Errorf("admin's platform series landed as %v", got)
	}
}

func TestRemoteWriteRefusesBombsAndOtherFormats(t *testing.T) {
	e := setupRemoteWrite(t)
	// 8 MiB of zeros compress to a few hundred KB; decompressed they are
	// over the test's 1 MiB bound.
	bomb := snappy.Encode(nil, make([]byte, 8<<20))
	if code, b := e.write(t, e.gateway, rwPayments, bomb); code != http.StatusRequestEntityTooLarge || !strings.Contains(b, "proxy.max_push_decompressed_bytes") {
		t.Errorf("decompression bomb: %d %s, want 413 naming the key", code, b)
	}
	// A block that only claims 4 GiB is refused from its header.
	claim := []byte{0x80, 0x80, 0x80, 0x80, 0x0f, 0x00}
	if code, b := e.write(t, e.gateway, rwPayments, claim); code != http.StatusRequestEntityTooLarge {
		t.Errorf("4 GiB claim: %d %s, want 413", code, b)
	}
	if code, b := e.write(t, e.gateway, rwPayments, []byte("not snappy at all")); code != http.StatusBadRequest {
		t.Errorf("garbage: %d %s, want 400", code, b)
	}
	req, _ := http.NewRequest(http.MethodPost, e.gateway+"/api/v1/write", strings.NewReader("x"))
	req.Header.Set("Content-Type", "application/x-protobuf;proto=io.prometheus.write.v3.Request")
	req.Header.Set("Content-Encoding", "snappy")
	req.Header.Set("X-Forwarded-User", "alice")
	req.Header.Set("X-Forwarded-Groups", "team-payments")
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("an unknown remote-write message: %d, want 415", resp.StatusCode)
	}
}

// writeV2 sends a remote write 2.0 request as c and returns the answer.
func (e *rwEnv) writeV2(t *testing.T, c caller, req *writev2.Request) *http.Response {
	t.Helper()
	raw, err := req.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	hr, _ := http.NewRequest(http.MethodPost, e.gateway+"/api/v1/write", bytes.NewReader(snappy.Encode(nil, raw)))
	hr.Header.Set("Content-Type", "application/x-protobuf;proto=io.prometheus.write.v2.Request")
	hr.Header.Set("Content-Encoding", "snappy")
	hr.Header.Set("X-Prometheus-Remote-Write-Version", "2.0.0")
	for i := 0; i+1 < len(c.headers); i += 2 {
		hr.Header.Set(c.headers[i], c.headers[i+1])
	}
	resp, err := e.client.Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// TestRemoteWrite2 sends remote write 2.0, which Tollgate checks the same
// way and forwards as 1.0 (Prometheus 2.42 receives only 1.0).
func TestRemoteWrite2(t *testing.T) {
	e := setupRemoteWrite(t)
	now := time.Now().UnixMilli()
	symbols := []string{"", "__name__", "rw2_own", "namespace", "team-payments-staging", "pod", "a", "team-search-prod", "rw2_foreign", "trace_id", "abc"}
	own := writev2.TimeSeries{LabelsRefs: []uint32{1, 2, 3, 4, 5, 6}, Samples: []writev2.Sample{{Value: 7, Timestamp: now}},
		Exemplars: []writev2.Exemplar{{LabelsRefs: []uint32{9, 10}, Value: 7, Timestamp: now}},
		Metadata:  writev2.Metadata{Type: writev2.Metadata_METRIC_TYPE_GAUGE, HelpRef: 6}}
	noNS := writev2.TimeSeries{LabelsRefs: []uint32{1, 2, 5, 10}, Samples: []writev2.Sample{{Value: 8, Timestamp: now}}}
	resp := e.writeV2(t, rwPayments, &writev2.Request{Symbols: symbols, Timeseries: []writev2.TimeSeries{own, noNS}})
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("X-Prometheus-Remote-Write-Samples-Written") != "2" || resp.Header.Get("X-Prometheus-Remote-Write-Exemplars-Written") != "1" {
		t.Fatalf("payments' 2.0 write: %d, written headers %v", resp.StatusCode, resp.Header)
	}
	if got := e.landed(t, e.gateway, rwPayments, "rw2_own"); !slices.Equal(got, []string{"team-payments-prod", "team-payments-staging"}) {
		t.Errorf("2.0 series landed as %v, want team-payments-staging and the default namespace", got)
	}
	foreign := writev2.TimeSeries{LabelsRefs: []uint32{1, 8, 3, 7}, Samples: []writev2.Sample{{Value: 9, Timestamp: now}}}
	mixedOwn := writev2.TimeSeries{LabelsRefs: []uint32{1, 8, 3, 4}, Samples: []writev2.Sample{{Value: 9, Timestamp: now}}}
	if resp := e.writeV2(t, rwPayments, &writev2.Request{Symbols: symbols, Timeseries: []writev2.TimeSeries{mixedOwn, foreign}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("mixed 2.0 write: %d, want 403", resp.StatusCode)
	}
	if got := e.landed(t, e.direct, caller{}, "rw2_foreign"); len(got) != 0 {
		t.Errorf("a refused 2.0 write landed: %v", got)
	}
	// A label reference past the symbols is malformed.
	bad := writev2.TimeSeries{LabelsRefs: []uint32{1, 2, 3, 99}, Samples: []writev2.Sample{{Value: 1, Timestamp: now}}}
	if resp := e.writeV2(t, rwPayments, &writev2.Request{Symbols: symbols, Timeseries: []writev2.TimeSeries{bad}}); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("2.0 write with a dangling reference: %d, want 400", resp.StatusCode)
	}
}
