package logqlenforce

import "testing"

// BenchmarkQuery measures the whole rewrite of typical Explore and dashboard
// queries: parse, enforce, print, and the validating re-parse.
func BenchmarkQuery(b *testing.B) {
	queries := map[string]string{
		"selector":     `{app="api"}`,
		"filter-json":  `{app="api", level="error"} |= "timeout" | json | line_format "{{.msg}}"`,
		"rate-by":      `sum by (namespace, level) (rate({app=~"api|web"} | logfmt [5m]))`,
		"quantile-bin": `quantile_over_time(0.99, {app="api"} | json | unwrap latency_ms [5m]) by (pod) / on(pod) sum by (pod) (rate({app="api"}[5m]))`,
	}
	for name, q := range queries {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Query(q, many); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
