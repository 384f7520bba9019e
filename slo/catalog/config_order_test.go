package catalog_test

import (
	"slices"
	"testing"

	"github.com/tollgate-dev/tollgate/slo/catalog"
)

// Keys that do not fit an SLI's kind are reported in one order, run after
// run, even when they share a line (a flow mapping): the order a user reads
// and a CI log diffs does not change by itself.
func TestConfigProblemsOnOneLineComeInKeyOrder(t *testing.T) {
	cfg := []byte("slos:\n" +
		"  tollgate-latency: {total: y, errors: x}\n" +
		"  platform-deployment-success: {buckets: [1], threshold: 1, metric: m}\n")
	want := []string{
		"slos.tollgate-latency.errors", "slos.tollgate-latency.total",
		"slos.platform-deployment-success.metric", "slos.platform-deployment-success.threshold", "slos.platform-deployment-success.buckets",
	}
	// The order used to follow map iteration, which Go randomises: 20 runs
	// in the wanted order by chance is less likely than one in 10^15.
	for range 20 {
		_, ps, err := catalog.ParseConfig("catalog.yaml", cfg)
		if err == nil {
			t.Fatal("bad configuration accepted")
		}
		var got []string
		for _, p := range ps {
			got = append(got, p.Path)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("problems in the order %q, want %q", got, want)
		}
	}
}
