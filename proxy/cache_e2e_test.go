package proxy_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gogo/protobuf/proto"
	"github.com/golang/snappy"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/prompb"

	"github.com/tollgate-dev/tollgate/gateway"
	"github.com/tollgate-dev/tollgate/internal/config"
	"github.com/tollgate-dev/tollgate/internal/testkit/testenv"
)

// cacheYAML is a gateway with the results cache; %[1]q is Prometheus's
// URL and %[2]s the cache section's body.
const cacheYAML = "upstreams: {prometheus: %[1]q}\n" + suiteTenancy + "cache:\n%[2]s\n"

// rangeAnswer is a query_range answer as a user compares it: each series'
// labels and its points, and where it came from.
type rangeAnswer struct {
	series map[string][][2]string
	cache  string
}

func queryRange(t *testing.T, base string, c caller, q string, start, end time.Time, step string, headers ...string) rangeAnswer {
	t.Helper()
	ps := url.Values{"query": {q}, "start": {fmt.Sprint(start.Unix())}, "end": {fmt.Sprint(end.Unix())}, "step": {step}}
	resp := c.get(t, http.DefaultClient, base+"/api/v1/query_range?"+ps.Encode(), headers...)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %q: %d %s", c.name, q, resp.StatusCode, body)
	}
	var a struct {
		Data struct {
			ResultType string `json:"resultType"`
			Result     []struct {
				Metric map[string]string `json:"metric"`
				Values [][2]any          `json:"values"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &a); err != nil || a.Data.ResultType != "matrix" {
		t.Fatalf("%q: not a matrix (%v): %s", q, err, body)
	}
	out := rangeAnswer{series: map[string][][2]string{}, cache: resp.Header.Get("X-Tollgate-Cache")}
	for _, s := range a.Data.Result {
		keys := make([]string, 0, len(s.Metric))
		for k, v := range s.Metric {
			keys = append(keys, k+"="+v)
		}
		sort.Strings(keys)
		var pts [][2]string
		for _, p := range s.Values {
			pts = append(pts, [2]string{strconv.FormatFloat(p[0].(float64), 'f', 3, 64), p[1].(string)})
		}
		out.series[strings.Join(keys, ",")] = pts
	}
	return out
}

// onlyValue is the single value every point of a one-series answer has.
func onlyValue(t *testing.T, a rangeAnswer) string {
	t.Helper()
	if len(a.series) != 1 {
		t.Fatalf("want one series, got %v", a.series)
	}
	seen := map[string]bool{}
	for _, pts := range a.series {
		for _, p := range pts {
			seen[p[1]] = true
		}
	}
	if len(seen) != 1 {
		t.Fatalf("want one value over the range, got %v", seen)
	}
	for v := range seen {
		return v
	}
	return ""
}

// sre is an admin by group.
var sre = caller{name: "admin", headers: []string{"X-Forwarded-User", "root", "X-Forwarded-Groups", "platform-sre"}}

// Two tenants (and an admin) send the same original query, each more than
// once: every answer, cached or not, is computed for the caller's own
// scope.
func TestCacheTenantsNeverShareAnswers(t *testing.T) {
	testCacheTenantsNeverShareAnswers(t, "  backend: memory")
}

func testCacheTenantsNeverShareAnswers(t *testing.T, cacheSection string) {
	gw, _, end := startStack(t, "", cacheYAML, cacheSection)
	q := `sum(tollgate_demo_namespace_marker)`
	start, stop := end.Add(-100*time.Minute), end.Add(-20*time.Minute)
	want := map[string]string{"payments": "3", "checkout": "4", "admin": "127"}
	var states []string
	for round := range 3 {
		for _, c := range []caller{sre, payments, checkout} {
			a := queryRange(t, gw, c, q, start, stop, "60")
			if got := onlyValue(t, a); got != want[c.name] {
				t.Fatalf("round %d: %s got %s, want %s (cache: %s)", round, c.name, got, want[c.name], a.cache)
			}
			if c.name != "admin" {
				states = append(states, a.cache)
			}
		}
	}
	// Each tenant missed once, then hit: the cache was in use, and still
	// kept the two scopes apart.
	if want := []string{"miss", "miss", "hit", "hit", "hit", "hit"}; !reflect.DeepEqual(states, want) {
		t.Errorf("cache states %v, want %v", states, want)
	}
	a := queryRange(t, gw, payments, q, start, stop, "60", "Cache-Control", "no-cache")
	if a.cache != "miss" || onlyValue(t, a) != "3" {
		t.Errorf("Cache-Control: no-cache: %s %v, want a miss with 3", a.cache, a.series)
	}
}

// Answers served partly or wholly from the cache equal the backend's own
// for the same request: windows moving by 30 s, offset, @, a step that
// does not divide the split interval and a start off the step grid.
func TestCachedAnswersEqualTheBackends(t *testing.T) {
	gw, direct, end := startStack(t, "", cacheYAML, "  split_interval: 7m\n  max_freshness: 3m")
	scope := `{namespace=~"team-payments-prod|team-payments-staging"}`
	queries := []struct{ tenant, direct string }{
		{`sum by (namespace) (rate(http_requests_total[5m]))`, `sum by (namespace) (rate(http_requests_total` + scope + `[5m]))`},
		{`sum by (namespace) (rate(http_requests_total[5m] offset 10m))`, `sum by (namespace) (rate(http_requests_total` + scope + `[5m] offset 10m))`},
		{`sum by (namespace) (rate(http_requests_total[5m] @ end()))`, `sum by (namespace) (rate(http_requests_total` + scope + `[5m] @ end()))`},
		{fmt.Sprintf(`sum(tollgate_demo_namespace_marker @ %d)`, end.Add(-time.Hour).Unix()), fmt.Sprintf(`sum(tollgate_demo_namespace_marker`+scope+` @ %d)`, end.Add(-time.Hour).Unix())},
	}
	states := map[string]int{}
	for _, q := range queries {
		for _, step := range []string{"45", "60"} {
			for k := range 7 {
				// Grafana's moving window (the 7 s start is off the grid),
				// then the last window again.
				start := end.Add(-110*time.Minute + time.Duration(min(k, 5))*30*time.Second + 7*time.Second)
				stop := start.Add(time.Hour + time.Duration(min(k, 5))*40*time.Minute/6)
				got := queryRange(t, gw, payments, q.tenant, start, stop, step)
				want := queryRange(t, direct, anonymous, q.direct, start, stop, step)
				if !reflect.DeepEqual(got.series, want.series) {
					t.Fatalf("%q step %s window %d (%s): cached answer differs from the backend's\n got %v\nwant %v", q.tenant, step, k, got.cache, got.series, want.series)
				}
				if len(want.series) == 0 {
					t.Fatalf("%q: empty answer; the test compares nothing", q.tenant)
				}
				states[got.cache]++
			}
		}
	}
	t.Logf("cache states %v", states)
	// The comparisons covered answers merged from the cache and fetched
	// parts, and answers wholly from the cache.
	if states["partial"] == 0 || states["hit"] == 0 {
		t.Errorf("cache states %v: want partial and whole hits among them", states)
	}
}

// remoteWrite pushes samples of one series to Prometheus's remote write
// receiver.
func remoteWrite(t *testing.T, promURL string, lbls map[string]string, samples map[time.Time]float64) {
	t.Helper()
	var ts prompb.TimeSeries
	for k, v := range lbls {
		ts.Labels = append(ts.Labels, prompb.Label{Name: k, Value: v})
	}
	sort.Slice(ts.Labels, func(i, j int) bool { return ts.Labels[i].Name < ts.Labels[j].Name })
	for at, v := range samples {
		ts.Samples = append(ts.Samples, prompb.Sample{Timestamp: at.UnixMilli(), Value: v})
	}
	sort.Slice(ts.Samples, func(i, j int) bool { return ts.Samples[i].Timestamp < ts.Samples[j].Timestamp })
	raw, err := proto.Marshal(&prompb.WriteRequest{Timeseries: []prompb.TimeSeries{ts}})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, promURL+"/api/v1/write", bytes.NewReader(snappy.Encode(nil, raw)))
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set("Content-Encoding", "snappy")
	req.Header.Set("X-Prometheus-Remote-Write-Version", "0.1.0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("remote write: %d %s", resp.StatusCode, msg)
	}
}

// A sample newer than max_freshness when a range was first asked for
// shows in the next answer: the fresh end of a range is never cached.
func TestCacheKeepsFreshSamplesOut(t *testing.T) {
	prom := testenv.StartPrometheus(t, testenv.PrometheusOptions{Args: []string{"--web.enable-remote-write-receiver"}})
	gw := startGateway(t, fmt.Sprintf(cacheYAML, prom.URL, "  max_freshness: 20s"))
	t0 := time.Now().Truncate(time.Second)
	series := map[string]string{"__name__": "fresh_metric", "namespace": "team-payments-prod"}
	old := map[time.Time]float64{}
	for s := 120; s >= 60; s -= 5 {
		old[t0.Add(-time.Duration(s)*time.Second)] = 1
	}
	remoteWrite(t, prom.URL, series, old)
	start, end := t0.Add(-120*time.Second), t0
	first := queryRange(t, gw, payments, `max(fresh_metric)`, start, end, "5")
	if onlyValue(t, first) != "1" || first.cache != "miss" {
		t.Fatalf("first answer %s %v, want a miss with 1 throughout", first.cache, first.series)
	}
	// A sample written after the first answer, 5 s before its end: inside
	// max_freshness, so the end of the range was not cached.
	remoteWrite(t, prom.URL, series, map[time.Time]float64{t0.Add(-5 * time.Second): 2})
	second := queryRange(t, gw, payments, `max(fresh_metric)`, start, end, "5")
	for _, pts := range second.series {
		last := pts[len(pts)-1]
		if last[1] != "2" || second.cache != "partial" {
			t.Fatalf("second answer ends with %v (%s); want the new sample's 2, the older part from the cache (partial)", last, second.cache)
		}
	}
}

// The same tenant-safety property with the cache in a real Redis, which
// replicas share.
func TestCacheTenantsNeverShareAnswersInRedis(t *testing.T) {
	redis := testenv.StartRedis(t, testenv.RedisOptions{Password: "e2e-redis"})
	pw := t.TempDir() + "/redis-password"
	if err := os.WriteFile(pw, []byte("e2e-redis\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	testCacheTenantsNeverShareAnswers(t, fmt.Sprintf("  backend: redis\n  redis: {address: %q, password_file: %q, db: 2}", redis.Addr, pw))
}

// Redis killed in the middle: every answer stays correct, served without
// the cache, and none is an error.
func TestCacheSurvivesRedisKilled(t *testing.T) {
	redis := testenv.StartRedis(t, testenv.RedisOptions{})
	_, promURL, end := startStack(t, "", cacheYAML, "  backend: memory")
	gw, reg := startGatewayWithRegistry(t, fmt.Sprintf(cacheYAML, promURL, fmt.Sprintf("  backend: redis\n  redis: {address: %q}", redis.Addr)))
	q := `sum(tollgate_demo_namespace_marker)`
	start, stop := end.Add(-100*time.Minute), end.Add(-20*time.Minute)
	ask := func(c caller, want, wantCache string) {
		t.Helper()
		a := queryRange(t, gw, c, q, start, stop, "60")
		if got := onlyValue(t, a); got != want || a.cache != wantCache {
			t.Fatalf("%s: %s (%s), want %s (%s)", c.name, got, a.cache, want, wantCache)
		}
	}
	ask(payments, "3", "miss")
	ask(payments, "3", "hit") // Redis holds it
	redis.Kill()
	for range 3 {
		ask(payments, "3", "miss")
		ask(checkout, "4", "miss")
	}
	// The failures are counted for whoever watches the gateway.
	if n := counter(t, reg, "tollgate_cache_backend_errors_total"); n < 1 {
		t.Errorf("tollgate_cache_backend_errors_total is %v after Redis was killed", n)
	}
}

// startGatewayWithRegistry is startGateway with its metrics registered.
func startGatewayWithRegistry(tb testing.TB, yaml string) (string, *prometheus.Registry) {
	tb.Helper()
	cfg, _, err := config.Parse("test.yaml", []byte(yaml))
	if err != nil {
		tb.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	srv, err := gateway.FromConfig(cfg, nil, nil, reg)
	if err != nil {
		tb.Fatal(err)
	}
	return serveGateway(tb, srv, cfg), reg
}

// counter sums a counter's series.
func counter(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	total := 0.0
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				total += m.GetCounter().GetValue()
			}
		}
	}
	return total
}

// Label values, which Grafana's variables ask for on every dashboard load,
// come from the cache the second time, and each tenant's from its own
// entry.
func TestCacheMetadataPerScope(t *testing.T) {
	gw, _, end := startStack(t, "", cacheYAML, "  metadata_ttl: 1h")
	want := map[string][]string{"payments": paymentsNS, "checkout": checkoutNS}
	for round, wantCache := range []string{"miss", "hit"} {
		for _, c := range []caller{payments, checkout} {
			// The range moves by seconds, as Grafana's does.
			ps := url.Values{"start": {fmt.Sprint(end.Add(-time.Hour).Unix() + int64(round))}, "end": {fmt.Sprint(end.Unix() + int64(round))}}
			req, _ := http.NewRequest(http.MethodGet, gw+"/api/v1/label/namespace/values?"+ps.Encode(), nil)
			for i := 0; i+1 < len(c.headers); i += 2 {
				req.Header.Set(c.headers[i], c.headers[i+1])
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var a struct {
				Data []string `json:"data"`
			}
			err = json.NewDecoder(resp.Body).Decode(&a)
			resp.Body.Close()
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("%s: %d %v", c.name, resp.StatusCode, err)
			}
			sort.Strings(a.Data)
			if !reflect.DeepEqual(a.Data, want[c.name]) || resp.Header.Get("X-Tollgate-Cache") != wantCache {
				t.Errorf("round %d, %s: %v (%s), want %v (%s)", round, c.name, a.Data, resp.Header.Get("X-Tollgate-Cache"), want[c.name], wantCache)
			}
		}
	}
}

// TestCacheMetadataLargerThanAnItem: a metadata answer over
// cache.max_item_bytes is not cached and arrives whole (it was cut at the
// bound), the same as the backend's for the tenant's scope.
func TestCacheMetadataLargerThanAnItem(t *testing.T) {
	gw, prom, end := startStack(t, "", cacheYAML, "  max_item_bytes: 300")
	ps := url.Values{"match[]": {"http_requests_total"}, "start": {fmt.Sprint(end.Add(-time.Hour).Unix())}, "end": {fmt.Sprint(end.Unix())}}
	series := func(base string, c caller) ([]map[string]string, string) {
		resp := c.get(t, http.DefaultClient, base+"/api/v1/series?"+ps.Encode())
		defer resp.Body.Close()
		var a struct {
			Data []map[string]string `json:"data"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&a); err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s: %d %v", base, resp.StatusCode, err)
		}
		return a.Data, resp.Header.Get("X-Tollgate-Cache")
	}
	ps.Set("match[]", `http_requests_total{namespace=~"team-payments-prod|team-payments-staging"}`)
	want, _ := series(prom, caller{name: "direct"})
	ps.Set("match[]", "http_requests_total")
	for range 2 {
		got, state := series(gw, payments)
		if !reflect.DeepEqual(got, want) || state != "miss" || len(want) < 3 {
			t.Fatalf("%d series (%s), want the backend's %d (miss: over max_item_bytes)", len(got), state, len(want))
		}
	}
}
