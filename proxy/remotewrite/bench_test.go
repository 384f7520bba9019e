package remotewrite

import (
	"fmt"
	"testing"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/prompb"
)

func BenchmarkRewrite1000(b *testing.B) {
	var ts []prompb.TimeSeries
	for i := range 1000 {
		ts = append(ts, prompb.TimeSeries{Labels: ls("__name__", "rw_bench", "namespace", "team-payments-prod", "path", "tollgate", "pod", fmt.Sprintf("pod-%04d", i)), Samples: []prompb.Sample{{Value: 1, Timestamp: 1}}})
	}
	block := snappy.Encode(nil, seed(b, ts...))
	a := testAccess(b, "payments")
	lim := testLimits()
	lim.Samples.Max, lim.Labels.Max = 1e7, 1e7
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Rewrite(block, V1, "namespace", a, lim); err != nil {
			b.Fatal(err)
		}
	}
}
