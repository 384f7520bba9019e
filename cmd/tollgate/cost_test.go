package main

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/cost/report"
	"github.com/tollgate-dev/tollgate/internal/demo/synth"
	"github.com/tollgate-dev/tollgate/internal/testkit/testenv"
)

// `tollgate cost report` against a real Prometheus holding two days of the
// cost fixture (synth.CostFixture): the last two days add up to the
// nodes' $0.192/h × 48, in every format.
func TestCostReport(t *testing.T) {
	end := synth.WithinOneMonth(time.Now(), 50*time.Hour)
	var om bytes.Buffer
	if err := synth.WriteOpenMetrics(&om, synth.CostFixture(), synth.Window{Start: end.Add(-50 * time.Hour), End: end, Step: time.Minute}); err != nil {
		t.Fatal(err)
	}
	prom := testenv.StartPrometheus(t, testenv.PrometheusOptions{OpenMetrics: om.Bytes()})
	prices := filepath.Join(t.TempDir(), "prices.csv")
	if err := os.WriteFile(prices, []byte(synth.FixturePricing), 0o600); err != nil {
		t.Fatal(err)
	}
	window := end.Add(-48*time.Hour).Format(time.RFC3339) + "," + end.Format(time.RFC3339)
	args := []string{"cost", "report", "--prometheus", prom.URL, "--window", window, "--resolution", "1h", "--step", "12h",
		"--pricing-file", prices, "--discount", "aws=25", "--aggregate", "namespace", "--include-idle", "--progress", "always"}

	stdout, stderr, err := run(t, "", append(args, "--format", "json", "--accumulate")...)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	var r report.Response
	if err := json.Unmarshal([]byte(stdout), &r); err != nil || len(r.Data) != 1 {
		t.Fatalf("json: %v\n%s", err, stdout)
	}
	// Default prices differ from the fixture's (OpenCost's, not 0.04 and
	// 0.005), so the split differs; but the node totals do not: $0.192/h.
	var sum float64
	for _, a := range r.Data[0] {
		sum += a.TotalCost
	}
	if math.Abs(sum-.192*48) > 1e-6 {
		t.Errorf("the two days add up to %v, want %v", sum, .192*48)
	}
	if !strings.Contains(stderr, "reading Prometheus [") || !strings.Contains(stderr, "2/2 chunks") {
		t.Errorf("no progress bar on stderr:\n%q", stderr)
	}

	stdout, _, err = run(t, "", append(args, "--format", "table")...)
	if err != nil || !strings.Contains(stdout, "team-payments-prod") || !strings.Contains(stdout, "__idle__") || strings.Count(stdout, ", by namespace, USD") != 4 {
		t.Errorf("table (4 periods of 12h): %v\n%s", err, stdout)
	}
	stdout, _, err = run(t, "", append(args, "--format", "focus", "--progress", "never")...)
	if err != nil || !strings.HasPrefix(stdout, "BilledCost,") || !strings.Contains(stdout, "x_Namespace") {
		t.Errorf("focus: %v\n%s", err, stdout)
	}
	if _, _, err := run(t, "", append(args, "--share-split", "fair")...); err == nil || !strings.Contains(err.Error(), "--share-split") {
		t.Errorf("a bad flag value is not named: %v", err)
	}
	if _, _, err := run(t, "", append(args, "--progress", "yes")...); err == nil || !strings.Contains(err.Error(), "--progress") {
		t.Errorf("a bad --progress is accepted: %v", err)
	}
	if _, _, err := run(t, "", "cost", "report"); err == nil || !strings.Contains(err.Error(), "--prometheus") {
		t.Errorf("without a Prometheus: %v", err)
	}
}
