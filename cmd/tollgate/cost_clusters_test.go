package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/internal/demo/synth"
	"github.com/tollgate-dev/tollgate/internal/testkit/testenv"
)

// An expected cluster (cost.clusters) without data in the window is a
// warning in `tollgate cost report`: atop the table, on stderr for CSV.
// The fixture's series carry no cluster label, so they are cost.cluster's.
func TestCostReportWarnsOfMissingCluster(t *testing.T) {
	end := synth.WithinOneMonth(time.Now(), 4*time.Hour)
	var om bytes.Buffer
	if err := synth.WriteOpenMetrics(&om, synth.CostFixture(), synth.Window{Start: end.Add(-4 * time.Hour), End: end, Step: time.Minute}); err != nil {
		t.Fatal(err)
	}
	prom := testenv.StartPrometheus(t, testenv.PrometheusOptions{OpenMetrics: om.Bytes()})
	cfg := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`
upstreams: {prometheus: %q}
tenancy: {label: namespace, tenants: [{name: payments, groups: [g], namespaces: [ns]}]}
auth: {tokens: [{name: ci, sha256: "83be5447375907e352eccf262f47a288924102f4e031dc650e189322653103d4", groups: [g]}]}
cost: {cluster: prod-eu, clusters: [prod-eu, prod-us]}
`, prom.URL)), 0o600); err != nil {
		t.Fatal(err)
	}
	window := end.Add(-2*time.Hour).Format(time.RFC3339) + "," + end.Format(time.RFC3339)
	args := []string{"cost", "report", "--config", cfg, "--window", window, "--resolution", "1h", "--aggregate", "cluster", "--progress", "never"}
	stdout, stderr, err := run(t, "", append(args, "--format", "table")...)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	first, _, _ := strings.Cut(stdout, "\n")
	if !strings.HasPrefix(first, "WARNING: ") || !strings.Contains(first, `"prod-us"`) || strings.Contains(first, `"prod-eu"`) || !strings.Contains(stdout, "prod-eu ") {
		t.Errorf("table without the warning for prod-us:\n%s", stdout)
	}
	stdout, stderr, err = run(t, "", append(args, "--format", "csv")...)
	if err != nil || strings.Contains(stdout, "WARNING") || !strings.Contains(stderr, `warning: cluster "prod-us"`) {
		t.Errorf("csv: %v\nstdout %s\nstderr %s", err, stdout, stderr)
	}
}
