package spec_test

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/slo/plugins"
	"github.com/tollgate-dev/tollgate/slo/spec"
)

func chainIDs(ps []plugins.Plugin) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.ID)
	}
	return out
}

// A group's chain comes before an SLO's own; an SLO's overridePrevious
// drops the group's, and an override at either level drops the defaults.
// Both spec formats read the same chains.
func TestPluginChainsAreAssembledAsSlothDoes(t *testing.T) {
	const v1 = `version: prometheus/v1
service: svc
slo_plugins:
  overridePrevious: OVERRIDE
  chain:
    - id: sloth.dev/contrib/rule_intervals/v1
      priority: 10
      config: {interval: {default: 2m, alert: 30s}}
slos:
  - name: inherits
    objective: 99
    plugins:
      chain:
        - id: sloth.dev/contrib/info_labels/v1
          config: {labels: {owner: me}}
    sli: {raw: {error_ratio_query: "x[{{.window}}]"}}
    alerting: {name: A}
  - name: overrides
    objective: 99
    plugins:
      overridePrevious: true
      chain:
        - id: sloth.dev/core/sli_rules/v1
          config: {disableOptimized: true}
    sli: {raw: {error_ratio_query: "x[{{.window}}]"}}
    alerting: {name: A}
`
	const k8s = `apiVersion: sloth.slok.dev/v1
kind: PrometheusServiceLevel
metadata: {name: svc}
spec:
  service: svc
  sloPlugins:
    overridePrevious: OVERRIDE
    chain:
      - id: sloth.dev/contrib/rule_intervals/v1
        priority: 10
        config: {interval: {default: 2m, alert: 30s}}
  slos:
    - name: inherits
      objective: 99
      plugins:
        chain:
          - id: sloth.dev/contrib/info_labels/v1
            config: {labels: {owner: me}}
      sli: {raw: {errorRatioQuery: "x[{{.window}}]"}}
      alerting: {name: A}
    - name: overrides
      objective: 99
      plugins:
        overridePrevious: true
        chain:
          - id: sloth.dev/core/sli_rules/v1
            config: {disableOptimized: true}
      sli: {raw: {errorRatioQuery: "x[{{.window}}]"}}
      alerting: {name: A}
`
	dir := t.TempDir()
	for name, content := range map[string]string{"v1.yaml": v1, "k8s.yaml": k8s} {
		for _, override := range []string{"false", "true"} {
			set, ps, err := spec.Load(write(t, dir, name, strings.ReplaceAll(content, "OVERRIDE", override)))
			if err != nil {
				t.Fatalf("%s: %v", name, ps)
			}
			slos := set.SLOs()
			inherits, overrides := slos[0].Plugins, slos[1].Plugins
			if got := chainIDs(inherits.Chain); !slices.Equal(got, []string{plugins.RuleIntervals, plugins.InfoLabels}) || inherits.Override != (override == "true") {
				t.Errorf("%s override=%s: inheriting SLO: %v override %v", name, override, got, inherits.Override)
			}
			if got := chainIDs(overrides.Chain); !slices.Equal(got, []string{plugins.SLIRules}) || !overrides.Override {
				t.Errorf("%s override=%s: overriding SLO: %v override %v", name, override, got, overrides.Override)
			}
			iv := inherits.Chain[0]
			if cfg, ok := iv.Config.(*plugins.RuleIntervalsConfig); !ok || cfg.Default != 2*time.Minute || cfg.Alert != 30*time.Second || iv.Priority != 10 {
				t.Errorf("%s: rule_intervals decoded as %+v, priority %d", name, iv.Config, iv.Priority)
			}
			if cfg, ok := overrides.Chain[0].Config.(*plugins.SLIRulesConfig); !ok || !cfg.DisableOptimized {
				t.Errorf("%s: sli_rules decoded as %+v", name, overrides.Chain[0].Config)
			}
		}
	}
}

// Each plugin Tollgate does not run is refused at its line, saying why and
// what to use instead; so is every mistake in a configuration, with the fix.
func TestPluginProblemsAtTheirLines(t *testing.T) {
	const head = "version: prometheus/v1\nservice: svc\nslos:\n  - name: ab\n    objective: 99\n    sli: {raw: {error_ratio_query: \"x[{{.window}}]\"}}\n    alerting: {name: A}\n    plugins:\n      chain:\n"
	for _, c := range []struct{ entry, want string }{
		{"        - id: acme.io/slo/team_labels/v1\n",
			`x.yaml:10:11: slos[0].plugins.chain[0].id (SLO svc-ab): "acme.io/slo/team_labels/v1" is not a built-in plugin: Tollgate does not run plugins given as Go source (Sloth's --plugins-path) (fix: use the built-in plugins`},
		{"        - id: sloth.dev/contrib/validate_victoria_metrics/v1\n",
			`x.yaml:10:11: slos[0].plugins.chain[0].id (SLO svc-ab): sloth.dev/contrib/validate_victoria_metrics/v1 is not supported: Tollgate writes PromQL and checks every query with Prometheus's own parser, which VictoriaMetrics' vmalert also runs (fix: remove it (in an overridePrevious chain, sloth.dev/core/validate/v1 is the default check))`},
		{"        - id: sloth.dev/contrib/info_labels/v2\n",
			`x.yaml:10:11: slos[0].plugins.chain[0].id (SLO svc-ab): unknown plugin "sloth.dev/contrib/info_labels/v2" (fix: the built-in plugins are sloth.dev/core/noop/v1,`},
		{"        - id: sloth.dev/contrib/info_labels/v2\n", `did you mean "sloth.dev/contrib/info_labels/v1"?)`},
		{"        - id: sloth.dev/k8stransform/prom-operator-prometheus-rule/v1\n",
			`is a Kubernetes transform plugin, not an SLO plugin (fix: remove it from the chain; --format prometheus-operator writes PrometheusRule objects)`},
		{"        - priority: 3\n", `x.yaml:10:11: slos[0].plugins.chain[0].id (SLO svc-ab): is missing (fix: give the plugin's ID, e.g. sloth.dev/contrib/info_labels/v1)`},
		{"        - id: sloth.dev/contrib/rule_intervals/v1\n          config: {interval: {defualt: 1m}}\n",
			`x.yaml:11:31: slos[0].plugins.chain[0].config.interval.defualt (SLO svc-ab): unknown key (fix: valid keys here are: alert, default, metadata, sliError; did you mean "default"?)`},
		{"        - id: sloth.dev/contrib/rule_intervals/v1\n          config:\n            interval: {default: 1x}\n",
			`x.yaml:12:24: slos[0].plugins.chain[0].config.interval.default (SLO svc-ab): "1x" is not a duration (fix: write it like 30s, 1m or 5m)`},
		{"        - id: sloth.dev/contrib/rule_intervals/v1\n          config: {interval: {alert: 1m}}\n",
			`x.yaml:11:20: slos[0].plugins.chain[0].config.interval.default (SLO svc-ab): is missing (fix: give the interval of every rule group, e.g. interval: {default: 1m}`},
		{"        - id: sloth.dev/contrib/info_labels/v1\n",
			`x.yaml:10:11: slos[0].plugins.chain[0].config.labels (SLO svc-ab): is missing (fix: give at least one label to add to sloth_slo_info, e.g. labels: {owner: payments})`},
		{"        - id: sloth.dev/contrib/info_labels/v1\n          config: {labels: {team-name: x, sloth_id: y}}\n",
			`x.yaml:11:29: slos[0].plugins.chain[0].config.labels.team-name (SLO svc-ab): "team-name" is not a valid label name`},
		{"        - id: sloth.dev/contrib/info_labels/v1\n          config: {labels: {team-name: x, sloth_id: y}}\n",
			`x.yaml:11:43: slos[0].plugins.chain[0].config.labels.sloth_id (SLO svc-ab): sloth_id is set by the generator`},
		{"        - id: sloth.dev/contrib/info_labels/v1\n          config: {labels: {tier: 1}}\n",
			`x.yaml:11:29: slos[0].plugins.chain[0].config.labels.tier (SLO svc-ab): 1 is not a string (fix: quote it: "1")`},
		{"        - id: sloth.dev/contrib/error_budget_exhausted_alert/v1\n          config: {for: soon}\n",
			`x.yaml:11:20: slos[0].plugins.chain[0].config.for (SLO svc-ab): "soon" is not a duration (fix: write it like 5m or 1h)`},
		{"        - id: sloth.dev/contrib/error_budget_exhausted_alert/v1\n          config: \"{}\"\n",
			`x.yaml:11:11: slos[0].plugins.chain[0].config (SLO svc-ab): is not a mapping of keys to values`},
		{"        - id: sloth.dev/core/alert_rules/v1\n          config: {x: 1}\n",
			`x.yaml:11:11: slos[0].plugins.chain[0].config (SLO svc-ab): sloth.dev/core/alert_rules/v1 takes no configuration (fix: remove config)`},
		{"        - id: sloth.dev/core/debug/v1\n          config: {1: x}\n",
			`x.yaml:11:11: slos[0].plugins.chain[0].config (SLO svc-ab): cannot be read as JSON, which is how Sloth hands a configuration to its plugin`},
	} {
		dir := t.TempDir()
		_, ps, err := spec.Load(write(t, dir, "x.yaml", head+c.entry))
		if err == nil {
			t.Errorf("%q: accepted", c.entry)
			continue
		}
		var lines []string
		for _, p := range ps {
			lines = append(lines, strings.TrimPrefix(p.String(), dir+string(filepath.Separator)))
		}
		if all := strings.Join(lines, "\n"); !strings.Contains(all, c.want) {
			t.Errorf("%q:\n%s\nwant %q", c.entry, all, c.want)
		}
	}
}

// An SLI plugin is Go code too, and refused with the SLI kinds to use.
func TestSLIPluginRefused(t *testing.T) {
	_, ps, err := spec.Load(write(t, t.TempDir(), "x.yaml", "version: prometheus/v1\nservice: svc\nslos:\n  - name: ab\n    objective: 99\n    sli:\n      plugin: {id: sloth-common/availability, options: {x: y}}\n    alerting: {name: A}\n"))
	if err == nil || !strings.Contains(err.Error(), `x.yaml:7:7: slos[0].sli.plugin (SLO svc-ab): Sloth SLI plugins are not supported: they are Go code Sloth interprets at generation time (fix: write the plugin's query as a raw or events SLI, or use Tollgate's latency or ratio SLI)`) {
		t.Errorf("%v", ps)
	}
}
