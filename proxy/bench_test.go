package proxy_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/grafana/loki/pkg/push"

	"github.com/tollgate-dev/tollgate/internal/testkit/testenv"
)

// BenchmarkQueryRangeOverhead measures what Tollgate adds to a query_range
// against a real Prometheus. Each iteration sends the same query twice,
// interleaved: once straight to Prometheus (already confined, so that both
// do the same upstream work) and once through Tollgate as a tenant. The
// reported percentiles compare the two within the same run.
func BenchmarkQueryRangeOverhead(b *testing.B) {
	gatewayURL, promURL, end := startStack(b, "", "upstreams: {prometheus: %[1]q}\n"+paymentsOnly)

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

// BenchmarkLokiPushThroughput compares pushes straight to a real Loki with
// pushes through Tollgate, interleaved in the same run. Each push carries
// 1000 lines of about 100 bytes in one stream, as protobuf+snappy, the
// format Promtail and Alloy send. Through Tollgate each push is also
// decoded, checked stream by stream and re-encoded.
func BenchmarkLokiPushThroughput(b *testing.B) {
	const linesPerPush = 1000
	loki := testenv.StartLoki(b)
	gatewayURL := startGateway(b, fmt.Sprintf(`
upstreams: {prometheus: "http://127.0.0.1:1", loki: %q}
tenancy:
  label: namespace
  tenants:
    - {name: payments, groups: [team-payments], namespaces: [team-payments-prod, team-payments-staging]}
auth:
  trusted_headers: {user: X-Forwarded-User, groups: X-Forwarded-Groups, trusted_cidrs: [127.0.0.1/32]}
`, loki.URL))

	// Distinct bodies, so that Loki's deduplication of identical entries
	// does not make one path cheaper than the other.
	const bodies = 64
	makeBody := func(k int) []byte {
		var req push.PushRequest
		s := push.Stream{Labels: fmt.Sprintf(`{namespace="team-payments-prod", app="bench", path="%d"}`, k%2)}
		base := time.Now().Add(-time.Minute).Add(time.Duration(k) * time.Millisecond)
		for i := 0; i < linesPerPush; i++ {
			s.Entries = append(s.Entries, push.Entry{Timestamp: base.Add(time.Duration(i) * time.Microsecond),
				Line: fmt.Sprintf("level=info method=GET path=/api/pay/%06d status=200 duration_ms=%d trace=%016x", i, i%97, k*linesPerPush+i)})
		}
		req.Streams = []push.Stream{s}
		raw, err := req.Marshal()
		if err != nil {
			b.Fatal(err)
		}
		return snappy.Encode(nil, raw)
	}
	direct, gateway := make([][]byte, bodies), make([][]byte, bodies)
	for k := range bodies {
		direct[k], gateway[k] = makeBody(2*k), makeBody(2*k+1)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	push := func(url string, body []byte, headers ...string) time.Duration {
		req, _ := http.NewRequest(http.MethodPost, url+"/loki/api/v1/push", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/x-protobuf")
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		msg, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			b.Fatalf("push to %s: %d %s", url, resp.StatusCode, msg)
		}
		return time.Since(start)
	}
	for k := range 8 { // warm up both paths
		push(loki.URL, direct[k], "X-Scope-OrgID", "payments")
		push(gatewayURL, gateway[k], "X-Forwarded-User", "agent", "X-Forwarded-Groups", "team-payments")
	}
	var tDirect, tGateway time.Duration
	n := 0
	for b.Loop() {
		tDirect += push(loki.URL, direct[n%bodies], "X-Scope-OrgID", "payments")
		tGateway += push(gatewayURL, gateway[n%bodies], "X-Forwarded-User", "agent", "X-Forwarded-Groups", "team-payments")
		n++
	}
	lines := float64(n * linesPerPush)
	b.ReportMetric(lines/tDirect.Seconds(), "direct-lines/s")
	b.ReportMetric(lines/tGateway.Seconds(), "tollgate-lines/s")
	b.ReportMetric(tDirect.Seconds()/tGateway.Seconds(), "throughput-ratio")
}
