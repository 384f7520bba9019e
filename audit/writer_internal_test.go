package audit

import (
	"net/url"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkAuditWriter measures the writer's work per record, off the
// request path: encoding a batch of 500 typical records and appending it
// to a file.
func BenchmarkAuditWriter(b *testing.B) {
	tr, err := New(Config{File: filepath.Join(b.TempDir(), "audit.jsonl")}, Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = tr.Close(b.Context()) })
	rec := Record{Time: time.Now(), RequestID: "bee1d2a555d3-5", User: "alice", Groups: []string{"team-payments"}, Tenants: []string{"payments"},
		Source: "10.0.3.7:51234", Authenticator: "oidc", API: "prometheus", Route: "/api/v1/query", Method: "GET", Path: "/api/v1/query",
		QuerySent:     url.Values{"query": {"sum(rate(http_requests_total[5m]))"}, "time": {"1700000000"}},
		QueryEnforced: url.Values{"query": {`sum(rate(http_requests_total{namespace=~"team-payments-prod|team-payments-staging"}[5m]))`}, "time": {"1700000000"}},
		Decision:      Allowed, Status: 200, Bytes: 119, Duration: 0.0114, Upstream: "http://prometheus:9090/api/v1/query"}
	batch := make([]Record, DefaultBatchSize)
	for i := range batch {
		batch[i] = rec
	}
	b.ReportAllocs()
	for b.Loop() {
		tr.writeBatch(batch, false)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(batch)), "ns/record")
}
