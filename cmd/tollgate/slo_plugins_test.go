package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/internal/testkit/slotest"
)

const pluginsSpec = `version: prometheus/v1
service: payments-api
labels: {team: payments}
slo_plugins:
  chain:
    - id: sloth.dev/contrib/error_budget_exhausted_alert/v1
      config: {for: 10m}
slos:
  - name: availability
    objective: 99.9
    plugins:
      chain:
        - id: sloth.dev/contrib/info_labels/v1
          config: {labels: {runbook: wiki-42}}
    sli:
      events:
        error_query: sum(rate(http_requests_total{code=~"5.."}[{{.window}}]))
        total_query: sum(rate(http_requests_total[{{.window}}]))
    alerting: {name: PaymentsAPIAvailability}
`

// A spec with SLO plugins validates and generates rules promtool accepts;
// --slo-plugins adds a plugin for every SLO.
func TestSloPlugins(t *testing.T) {
	dir := t.TempDir()
	specPath := writeFile(t, dir, "specs/payments.yaml", pluginsSpec)
	out, _, err := run(t, "", "slo", "validate", specPath)
	if err != nil || !strings.Contains(out, "valid: 1 SLO, 3 rule groups") {
		t.Fatalf("validate: %v\n%s", err, out)
	}
	rulesPath := filepath.Join(dir, "rules.yml")
	_, _, err = run(t, "", "slo", "generate", "--out", rulesPath,
		"--slo-plugins", `{"id": "sloth.dev/contrib/rule_intervals/v1", "config": {"interval": {"default": "1m"}}}`, specPath)
	if err != nil {
		t.Fatal(err)
	}
	slotest.CheckRules(t, rulesPath)
	raw, err := os.ReadFile(rulesPath)
	if err != nil {
		t.Fatal(err)
	}
	data := string(raw)
	for _, want := range []string{"interval: 1m", "alert: ErrorBudgetExhausted", "for: 10m", "runbook: wiki-42"} {
		if !strings.Contains(data, want) {
			t.Errorf("rules lack %q:\n%s", want, data)
		}
	}
}

// A plugin's configuration error is reported at its line with the fix;
// Go-source plugins are refused, naming what to use instead.
func TestSloPluginRefusals(t *testing.T) {
	dir := t.TempDir()
	bad := writeFile(t, dir, "bad.yaml", strings.Replace(pluginsSpec, "config: {for: 10m}", "config: {for: 10m, treshold: 0.1}", 1))
	out, _, err := run(t, "", "slo", "validate", bad)
	if exitStatus(err) != 1 || !strings.Contains(out, bad+`:7:26: slo_plugins.chain[0].config.treshold: unknown key (fix: valid keys here are: alert_labels, alert_name, annotations, for, selector_labels, threshold; did you mean "threshold"?)`) {
		t.Errorf("config error: exit %d\n%s", exitStatus(err), out)
	}
	good := writeFile(t, dir, "good.yaml", pluginsSpec)
	_, _, err = run(t, "", "slo", "generate", "--plugins-path", "./plugins", good)
	if err == nil || !strings.Contains(err.Error(), "--plugins-path: Tollgate does not run plugins given as Go source") ||
		!strings.Contains(err.Error(), "built in and are declared in the specs' chains or with --slo-plugins") {
		t.Errorf("--plugins-path: %v", err)
	}
	_, _, err = run(t, "", "slo", "generate", "-s", `{"id": "sloth.dev/contrib/validate_victoria_metrics/v1"}`, good)
	if err == nil || !strings.Contains(err.Error(), "command line: --slo-plugins[0].id: sloth.dev/contrib/validate_victoria_metrics/v1 is not supported") {
		t.Errorf("victoria metrics: %v", err)
	}
}
