package promenforce

import "testing"

// BenchmarkQuery measures the whole rewrite of a typical dashboard query:
// parse, enforce, print, and the verifying re-parse.
func BenchmarkQuery(b *testing.B) {
	queries := map[string]string{
		"simple":   `up`,
		"red-rate": `sum by (service, code) (rate(http_requests_total{service="api"}[5m]))`,
		"quantile": `histogram_quantile(0.99, sum by (le, service) (rate(http_request_duration_seconds_bucket[5m])))`,
		"subquery": `max_over_time(sum by (service) (rate(http_requests_total{code=~"5.."}[5m]))[1h:1m]) / on(service) group_left() sum by (service) (rate(http_requests_total[5m]))`,
	}
	e := New()
	for name, q := range queries {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := e.Query(q, many); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
