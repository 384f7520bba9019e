package logql

import "testing"

// BenchmarkParsePerByte parses a 10 KB and a 1 MB query (the bounds raised
// out of the way): the cost per byte, in ns/B, stays within 2× (issue 11).
func BenchmarkParsePerByte(b *testing.B) {
	for _, size := range []struct {
		name string
		n    int
	}{{"10KB", 10 << 10}, {"1MB", 1 << 20}} {
		q := longQuery(size.n)
		b.Run(size.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(q)))
			for b.Loop() {
				if _, err := (Parser{Limits: unbounded}).ParseExpr(q); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(q)), "ns/B")
		})
	}
}

// BenchmarkParse parses and prints a typical dashboard query.
func BenchmarkParse(b *testing.B) {
	q := `quantile_over_time(0.99, {app="api"} | json | unwrap latency_ms [5m]) by (pod) / on(pod) sum by (pod) (rate({app="api"}[5m]))`
	b.ReportAllocs()
	for b.Loop() {
		e, err := ParseExpr(q)
		if err != nil {
			b.Fatal(err)
		}
		_ = e.String()
	}
}
