package plugins_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/slo/plugins"
)

func names(ps []plugins.Plugin) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Path)
	}
	return out
}

// Sloth v0.16's order (internal/app/generate): the command line's plugins
// then the spec's, sorted stably by priority; the defaults between the
// negative priorities and the rest; an override drops the command line's
// and the defaults.
func TestOrder(t *testing.T) {
	p := func(path string, prio int) plugins.Plugin {
		return plugins.Plugin{ID: plugins.Noop, Path: path, Priority: prio}
	}
	extra := []plugins.Plugin{p("cli-10", 10), p("cli-0", 0), p("cli-neg", -1)}
	declared := []plugins.Plugin{p("group-10", 10), p("slo-0", 0), p("slo-neg", -100), p("slo-10", 10)}
	defaults := []string{"", "", "", ""}
	for _, c := range []struct {
		override, noDefaults bool
		want                 []string
	}{
		{false, false, slices.Concat([]string{"slo-neg", "cli-neg"}, defaults, []string{"cli-0", "slo-0", "cli-10", "group-10", "slo-10"})},
		{false, true, []string{"slo-neg", "cli-neg", "cli-0", "slo-0", "cli-10", "group-10", "slo-10"}},
		{true, false, []string{"slo-neg", "slo-0", "group-10", "slo-10"}},
	} {
		got := plugins.Order(extra, declared, c.override, c.noDefaults)
		if !slices.Equal(names(got), c.want) {
			t.Errorf("override %v, no defaults %v: %v, want %v", c.override, c.noDefaults, names(got), c.want)
		}
	}
	got := plugins.Order(nil, declared, false, false)
	var ids []string
	for _, p := range got[1:5] {
		ids = append(ids, p.ID)
	}
	if !slices.Equal(ids, []string{plugins.Validate, plugins.SLIRules, plugins.MetadataRules, plugins.AlertRules}) {
		t.Errorf("defaults: %v", ids)
	}
	if declared[0].Path != "group-10" {
		t.Error("Order sorted its argument")
	}
}

func TestDecodeDefaults(t *testing.T) {
	cfg, ps := plugins.Decode(plugins.ErrorBudgetExhaustedAlert, nil)
	if c := cfg.(*plugins.ErrorBudgetExhaustedConfig); len(ps) != 0 || c.For != 5*time.Minute || c.AlertName != "ErrorBudgetExhausted" || c.Threshold != 0 {
		t.Errorf("%+v %v", cfg, ps)
	}
	// Sloth takes a `for` of zero as its default.
	cfg, _ = plugins.Decode(plugins.ErrorBudgetExhaustedAlert, json.RawMessage(`{"for": "0s", "threshold": -0.5}`))
	if c := cfg.(*plugins.ErrorBudgetExhaustedConfig); c.For != 5*time.Minute || c.Threshold != -0.5 {
		t.Errorf("%+v", cfg)
	}
	cfg, _ = plugins.Decode(plugins.InfoLabels, json.RawMessage(`{"labels": {"a": "b"}}`))
	if c := cfg.(*plugins.InfoLabelsConfig); c.MetricName != "sloth_slo_info" {
		t.Errorf("%+v", cfg)
	}
	cfg, _ = plugins.Decode(plugins.RuleIntervals, json.RawMessage(`{"interval": {"default": "1m", "alert": "15s"}}`))
	if c := cfg.(*plugins.RuleIntervalsConfig); c.Default != time.Minute || c.Alert != 15*time.Second || c.SLIError != 0 {
		t.Errorf("%+v", cfg)
	}
	if cfg, ps := plugins.Decode(plugins.MetadataRules, json.RawMessage(`{}`)); cfg != nil || len(ps) != 0 {
		t.Errorf("metadata_rules with {}: %v %v", cfg, ps)
	}
}

func TestCheckID(t *testing.T) {
	for _, id := range plugins.IDs() {
		if msg, _ := plugins.CheckID(id); msg != "" {
			t.Errorf("%s: %s", id, msg)
		}
	}
	for id, want := range map[string]string{
		"sloth.dev/contrib/remove_label/v1":                       `did you mean "sloth.dev/contrib/remove_labels/v1"?`,
		"sloth.dev/contrib/validate_victoria_metrics/v1":          "Prometheus's own parser",
		"github.com/acme/sloth-plugins/teams/v1":                  "Tollgate does not run plugins given as Go source (Sloth's --plugins-path)",
		"sloth.dev/k8stransform/prom-operator-prometheus-rule/v1": "Kubernetes transform plugin",
	} {
		msg, fix := plugins.CheckID(id)
		if !strings.Contains(msg+" (fix: "+fix, want) || fix == "" {
			t.Errorf("%s: %s (fix: %s), want %q", id, msg, fix, want)
		}
	}
}
