package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/tollgate-dev/tollgate/internal/demo/synth"
	"github.com/tollgate-dev/tollgate/internal/testkit/testenv"
)

const bucketSpecs = `version: prometheus/v1
service: api
labels: {team: payments}
slos:
  - name: fast
    objective: 99
    sli:
      latency: {metric: http_request_duration_seconds, selector: '{job="api"}', threshold: 0.25}
    alerting: {name: ApiFast}
  - name: off-boundary
    objective: 99
    sli:
      latency: {metric: http_request_duration_seconds, selector: '{job="api"}', threshold: 0.3}
    alerting: {name: ApiOffBoundary}
  - name: not-deployed
    objective: 99
    sli:
      latency: {metric: http_request_duration_seconds, selector: '{job="not-deployed"}', threshold: 0.25}
    alerting: {name: ApiNotDeployed}
`

// validate --prometheus asks a real Prometheus for the le values of each
// latency SLI's series: a threshold between two boundaries is an error at
// its line, naming the boundaries and the nearest one; a selector matching
// nothing is a warning; without --prometheus the same specs are valid.
func TestSloValidateChecksBucketsInPrometheus(t *testing.T) {
	end := time.Now().Truncate(time.Minute)
	var series []synth.Series
	for _, le := range []string{"0.1", "0.25", "0.5", "1", "+Inf"} {
		series = append(series, synth.Series{Type: "counter",
			Labels: labels.FromStrings("__name__", "http_request_duration_seconds_bucket", "job", "api", "le", le),
			Value:  func(t time.Time) float64 { return float64(t.Unix() % 100000) }})
	}
	var om bytes.Buffer
	if err := synth.WriteOpenMetrics(&om, series, synth.Window{Start: end.Add(-10 * time.Minute), End: end, Step: time.Minute}); err != nil {
		t.Fatal(err)
	}
	prom := testenv.StartPrometheus(t, testenv.PrometheusOptions{OpenMetrics: om.Bytes()})
	specs := writeFile(t, t.TempDir(), "api.yaml", bucketSpecs)

	if out, _, err := run(t, "", "slo", "validate", specs); err != nil {
		t.Fatalf("offline, the specs are valid: %v\n%s", err, out)
	}
	out, _, err := run(t, "", "slo", "validate", "--prometheus", prom.URL, specs)
	if exitStatus(err) != 1 {
		t.Fatalf("exit status %d (%v), want 1\n%s", exitStatus(err), err, out)
	}
	for _, want := range []string{
		specs + ":13:81:", `(SLO api-off-boundary): 0.3 is not a bucket boundary of http_request_duration_seconds_bucket{job="api"}`,
		"whose boundaries are [0.1, 0.25, 0.5, 1]", "use a boundary, e.g. 0.25",
		specs + ":18:90:", `warning: slos[2].sli.latency.threshold (SLO api-not-deployed): `, `holds no series for count by (le) (http_request_duration_seconds_bucket{job="not-deployed"})`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "api-fast") {
		t.Errorf("the SLO on a boundary was reported:\n%s", out)
	}
	if _, _, err := run(t, "", "slo", "validate", "--prometheus", "prometheus:9090", specs); err == nil || !strings.Contains(err.Error(), "--prometheus") {
		t.Errorf("a URL without scheme: %v", err)
	}
}
