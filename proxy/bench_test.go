package proxy_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/internal/config"
	"github.com/tollgate-dev/tollgate/internal/synth"
	"github.com/tollgate-dev/tollgate/internal/testenv"
	"github.com/tollgate-dev/tollgate/proxy"
)

// BenchmarkQueryRangeOverhead measures what Tollgate adds to a query_range
// against a real Prometheus. Each iteration sends the same query twice,
// interleaved: once straight to Prometheus (already confined, so that both
// do the same upstream work) and once through Tollgate as a tenant. The
// reported percentiles compare the two within the same run.
func BenchmarkQueryRangeOverhead(b *testing.B) {
	end := time.Now().Truncate(time.Minute)
	var om bytes.Buffer
	if err := synth.WriteOpenMetrics(&om, synth.Default().Series(), synth.Window{Start: end.Add(-2 * time.Hour), End: end, Step: 30 * time.Second}); err != nil {
		b.Fatal(err)
	}
	prom := testenv.StartPrometheus(b, testenv.PrometheusOptions{OpenMetrics: om.Bytes()})
	cfg, _, err := config.Parse("bench.yaml", []byte(fmt.Sprintf(`
upstreams: {prometheus: %q}
tenancy:
  label: namespace
  tenants:
    - {name: payments, groups: [team-payments], namespaces: [team-payments-prod, team-payments-staging]}
auth:
  trusted_headers: {user: X-Forwarded-User, groups: X-Forwarded-Groups, trusted_cidrs: [127.0.0.1/32]}
`, prom.URL)))
	if err != nil {
		b.Fatal(err)
	}
	srv, err := proxy.FromConfig(cfg, nil, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	gw := httptest.NewServer(srv)
	defer gw.Close()

	params := func(q string) string {
		return url.Values{
			"query": {q},
			"start": {strconv.FormatInt(end.Add(-time.Hour).Unix(), 10)},
			"end":   {strconv.FormatInt(end.Unix(), 10)},
			"step":  {"60"},
		}.Encode()
	}
	directURL := prom.URL + "/api/v1/query_range?" + params(`sum by (service) (rate(http_requests_total{namespace=~"team-payments-prod|team-payments-staging"}[5m]))`)
	proxyURL := gw.URL + "/api/v1/query_range?" + params(`sum by (service) (rate(http_requests_total[5m]))`)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	get := func(u string, tenant bool) time.Duration {
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		if tenant {
			req.Header.Set("X-Forwarded-User", "bench")
			req.Header.Set("X-Forwarded-Groups", "team-payments")
		}
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		d := time.Since(start)
		if resp.StatusCode != 200 {
			b.Fatalf("%s: status %d", u, resp.StatusCode)
		}
		return d
	}
	for range 20 { // warm connections and caches on both paths
		get(directURL, false)
		get(proxyURL, true)
	}
	var direct, proxied []time.Duration
	for b.Loop() {
		direct = append(direct, get(directURL, false))
		proxied = append(proxied, get(proxyURL, true))
	}
	slices.Sort(direct)
	slices.Sort(proxied)
	pct := func(ds []time.Duration, p float64) float64 {
		return float64(ds[int(p*float64(len(ds)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(direct, .5), "direct-p50-ms")
	b.ReportMetric(pct(proxied, .5), "tollgate-p50-ms")
	b.ReportMetric(pct(proxied, .5)-pct(direct, .5), "added-p50-ms")
	b.ReportMetric(pct(direct, .99), "direct-p99-ms")
	b.ReportMetric(pct(proxied, .99), "tollgate-p99-ms")
	b.ReportMetric(pct(proxied, .99)-pct(direct, .99), "added-p99-ms")
	b.ReportMetric(pct(proxied, .5)/pct(direct, .5), "p50-ratio")
}
