package proxy_test

import (
	"fmt"
	"net/http"
	"runtime"
	"testing"
	"time"

	"github.com/prometheus/prometheus/prompb"
)

// BenchmarkRemoteWriteThroughput compares remote writes straight to a real
// Prometheus (remote-write receiver on) with writes through Tollgate,
// interleaved in the same run. Each request carries 1,000 series of one
// sample each, as protobuf+snappy; through Tollgate each is also decoded,
// checked series by series and re-encoded. Only the HTTP exchange is
// timed; bodies are built before.
func BenchmarkRemoteWriteThroughput(b *testing.B) {
	const seriesPerRequest = 1000
	e := setupRemoteWrite(b)
	start := time.Now()
	body := func(path string, n int) []byte {
		req := &prompb.WriteRequest{Timeseries: make([]prompb.TimeSeries, 0, seriesPerRequest)}
		ts := start.Add(time.Duration(n) * time.Millisecond).UnixMilli()
		for i := range seriesPerRequest {
			s := series("__name__", "rw_bench", "namespace", "team-payments-prod", "path", path, "pod", fmt.Sprintf("pod-%04d", i))
			s.Samples[0] = prompb.Sample{Value: float64(n), Timestamp: ts}
			req.Timeseries = append(req.Timeseries, s)
		}
		return encodeWrite(b, req)
	}
	send := func(base, _ string, data []byte, cs ...caller) time.Duration {
		c := caller{}
		if len(cs) > 0 {
			c = cs[0]
		}
		t0 := time.Now()
		code, msg := e.write(b, base, c, data)
		d := time.Since(t0)
		if code != http.StatusNoContent {
			b.Fatalf("write to %s: %d %s", base, code, msg)
		}
		return d
	}
	for n := range 8 { // warm up both paths
		send(e.direct, "direct", body("direct", n))
		send(e.gateway, "tollgate", body("tollgate", n), rwPayments)
	}
	// Bodies are built before the clock starts, so that building them
	// (and the garbage it leaves) weighs on neither path.
	direct, gateway := make([][]byte, b.N), make([][]byte, b.N)
	for i := range b.N {
		direct[i], gateway[i] = body("direct", 8+i), body("tollgate", 8+i)
	}
	runtime.GC()
	var tDirect, tGateway time.Duration
	b.ResetTimer()
	for i := range b.N {
		tDirect += send(e.direct, "direct", direct[i])
		tGateway += send(e.gateway, "tollgate", gateway[i], rwPayments)
	}
	iters := b.N
	samples := float64(iters * seriesPerRequest)
	b.ReportMetric(samples/tDirect.Seconds(), "direct-samples/s")
	b.ReportMetric(samples/tGateway.Seconds(), "tollgate-samples/s")
	b.ReportMetric(tDirect.Seconds()/tGateway.Seconds(), "throughput-ratio")
}
