package proxy

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/audit"
	"github.com/tollgate-dev/tollgate/identity"
	"github.com/tollgate-dev/tollgate/tenancy"
)

// BenchmarkAuditRequestPath measures exactly what the audit trail adds to
// a request's path, apart from the rest of the pipeline: the request ID,
// the passage in the context, the notes of the parameters as sent and as
// enforced and of the upstream, the fail-closed check, and building and
// queueing the record in finish. "without" runs the same begin and
// finish (metrics, access log) with no trail; the difference is the
// audit's. The writer, whose work is off the request path, is kept from
// running while the clock runs (its batch is the whole queue and its
// interval an hour); every 1,000 requests the trail is swapped for a
// fresh one with the clock stopped. BenchmarkAuditWriter measures the
// writer.
func BenchmarkAuditRequestPath(b *testing.B) {
	tn, err := tenancy.New(tenancy.Config{Label: "namespace", Tenants: []tenancy.TenantConfig{
		{Name: "payments", Groups: []string{"team-payments"}, Namespaces: []string{"team-payments-prod", "team-payments-staging"}}}})
	if err != nil {
		b.Fatal(err)
	}
	access := tn.Resolve([]string{"team-payments"})
	id := identity.Identity{User: "alice", Groups: []string{"team-payments"}, Method: "header"}
	sent := url.Values{"query": {"sum(rate(http_requests_total[5m]))"}, "time": {"1700000000"}}
	enforced := url.Values{"query": {`sum(rate(http_requests_total{namespace=~"team-payments-prod|team-payments-staging"}[5m]))`}, "time": {"1700000000"}}
	backend := &Backend{Upstream: NewUpstream(&url.URL{Scheme: "http", Host: "prometheus:9090"}, "Prometheus", nil, nil, nil)}
	const perTrail = 1_000
	newTrail := func(b *testing.B) *audit.Trail {
		trail, err := audit.New(audit.Config{File: filepath.Join(b.TempDir(), "audit.jsonl"), QueueSize: perTrail + 1, BatchSize: perTrail + 1, FlushInterval: audit.Duration(time.Hour)}, audit.Options{})
		if err != nil {
			b.Fatal(err)
		}
		return trail
	}
	for _, auditing := range []bool{false, true} {
		name := map[bool]string{false: "without", true: "with"}[auditing]
		b.Run(name, func(b *testing.B) {
			opts := Options{Tenancy: tn, Auth: identity.Chain{}}
			if auditing {
				opts.Audit = newTrail(b)
			}
			s, err := New(opts)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = s.Close(b.Context()) })
			r := httptest.NewRequest(http.MethodGet, "/api/v1/query", nil)
			w := httptest.NewRecorder()
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				if n++; auditing && n%perTrail == 0 {
					b.StopTimer()
					_ = s.Close(b.Context())
					s.opts.Audit = newTrail(b)
					b.StartTimer()
				}
				rec := s.begin(w, r, nil, "/api/v1/query")
				if err := s.auditRefusing(); err != nil {
					b.Fatal(err)
				}
				rec.id, rec.access = id, access
				p := passageOf(rec.r)
				p.noteSent(sent)
				p.noteEnforced(enforced)
				p.noteUpstream(backend, "/api/v1/query")
				rec.finish()
			}
		})
	}
}
