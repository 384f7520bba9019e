package proxy_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/gateway"
	"github.com/tollgate-dev/tollgate/internal/config"
)

// answering is an upstream transport that answers every request at once
// with a small Prometheus vector: the audit benchmark measures Tollgate's
// own request path, which a network round trip's jitter (milliseconds)
// would hide.
type answering struct{}

func (answering) RoundTrip(r *http.Request) (*http.Response, error) {
	body := `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1700000000,"1"]}]}}`
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body)), Request: r}, nil
}

// BenchmarkAuditOverhead serves the same tenant query through the whole
// pipeline (ServeHTTP: authentication, tenancy, parameters, confinement,
// forwarding) by two gateways, without and with the audit trail (whose
// writer appends to a file in the background), interleaved so that both
// see the same machine load. added-p50-us is what the audit trail adds
// to a request's median time.
func BenchmarkAuditOverhead(b *testing.B) {
	base := "upstreams: {prometheus: \"http://prometheus.test\"}\n" + paymentsOnly
	plain := benchGateway(b, base)
	audited := benchGateway(b, base+fmt.Sprintf("audit: {file: %q}\n", filepath.Join(b.TempDir(), "audit.jsonl")))
	serve := func(h http.Handler) time.Duration {
		req := httptest.NewRequest(http.MethodGet, `/api/v1/query?query=sum(rate(http_requests_total%5B5m%5D))&time=1700000000`, nil)
		req.RemoteAddr = "127.0.0.1:40000"
		req.Header.Set("X-Forwarded-User", "alice")
		req.Header.Set("X-Forwarded-Groups", "team-payments")
		w := httptest.NewRecorder()
		start := time.Now()
		h.ServeHTTP(w, req)
		d := time.Since(start)
		if w.Code != 200 {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
		return d
	}
	for range 200 {
		serve(plain)
		serve(audited)
	}
	var without, with []time.Duration
	for b.Loop() {
		without = append(without, serve(plain))
		with = append(with, serve(audited))
	}
	slices.Sort(without)
	slices.Sort(with)
	p50 := func(ds []time.Duration) float64 { return float64(ds[len(ds)/2].Nanoseconds()) / 1000 }
	b.ReportMetric(p50(without), "without-p50-us")
	b.ReportMetric(p50(with), "with-p50-us")
	b.ReportMetric(p50(with)-p50(without), "added-p50-us")
}

func benchGateway(b *testing.B, yaml string) http.Handler {
	b.Helper()
	cfg, _, err := config.Parse("bench.yaml", []byte(yaml))
	if err != nil {
		b.Fatal(err)
	}
	srv, err := gateway.FromConfig(cfg, answering{}, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = srv.Close(b.Context()) })
	return srv
}
