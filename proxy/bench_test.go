package proxy_test

import (
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"testing"
	"time"
)

// BenchmarkQueryRangeOverhead measures what Tollgate adds to a query_range
// against a real Prometheus. Each iteration sends the same query twice,
// interleaved: once straight to Prometheus (already confined, so that both
// do the same upstream work) and once through Tollgate as a tenant. The
// reported percentiles compare the two within the same run.
func BenchmarkQueryRangeOverhead(b *testing.B) {
	gatewayURL, promURL, end := startStack(b, "", `
upstreams: {prometheus: %[1]q}
tenancy:
  label: namespace
  tenants:
    - {name: payments, groups: [team-payments], namespaces: [team-payments-prod, team-payments-staging]}
auth:
  trusted_headers: {user: X-Forwarded-User, groups: X-Forwarded-Groups, trusted_cidrs: [127.0.0.1/32]}
`)

	params := func(q string) string {
		return url.Values{
			"query": {q},
			"start": {strconv.FormatInt(end.Add(-time.Hour).Unix(), 10)},
			"end":   {strconv.FormatInt(end.Unix(), 10)},
			"step":  {"60"},
		}.Encode()
	}
	directURL := promURL + "/api/v1/query_range?" + params(`sum by (service) (rate(http_requests_total{namespace=~"team-payments-prod|team-payments-staging"}[5m]))`)
	proxyURL := gatewayURL + "/api/v1/query_range?" + params(`sum by (service) (rate(http_requests_total[5m]))`)
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
