package rules_test

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/tollgate-dev/tollgate/promenforce"
	"github.com/tollgate-dev/tollgate/slo/plugins"
	"github.com/tollgate-dev/tollgate/slo/rules"
	"github.com/tollgate-dev/tollgate/slo/spec"
	"github.com/tollgate-dev/tollgate/tenancy"
)

func withChain(chain string) string { return pluginSpec("availability", chain, "") }

func findRule(rs []rules.Rule, name string) *rules.Rule {
	for i := range rs {
		if rs[i].Record == name || rs[i].Alert == name {
			return &rs[i]
		}
	}
	return nil
}

// A plugin that runs before the default plugins, which write its rules
// again, does nothing: the generator says so, and where.
func TestPluginBeforeTheDefaultsWarns(t *testing.T) {
	files, ps := generate(t, rules.Options{}, withChain(`        - id: sloth.dev/contrib/info_labels/v1
          priority: -5
          config: {labels: {gone: "yes"}}`))
	if ps.Err() != nil || len(ps) != 1 || !strings.Contains(ps[0].String(), `:9:11: warning: slos[0].plugins.chain[0] (SLO api-availability): runs before sloth.dev/core/metadata_rules/v1, which writes its rules again: what it does is lost (fix: give it a priority of 0 or more (it has -5)`) {
		t.Errorf("problems: %v", ps)
	}
	if info := findRule(files[0].SLOs[0].Meta, "sloth_slo_info"); info.Labels["gone"] != "" {
		t.Errorf("info labels survived the metadata rules: %v", info.Labels)
	}
}

func TestInfoLabelsOnAMetricThatIsNotThereWarns(t *testing.T) {
	_, ps := generate(t, rules.Options{}, withChain(`        - id: sloth.dev/contrib/info_labels/v1
          config: {metricName: slo_info, labels: {a: b}}`))
	if len(ps) != 1 || !strings.Contains(ps[0].String(), "warning: slos[0].plugins.chain[0] (SLO api-availability): no metadata rule records slo_info: the plugin changes nothing") {
		t.Errorf("problems: %v", ps)
	}
}

// Without --sloth-compat the budget-exhausted alert is routed like the
// burn alerts: a severity the routes know (the configuration's "info"
// replaced, with a warning) and the team; it selects the SLO's series by
// its ID, so that remove_labels cannot leave it matching nothing. With
// --sloth-compat it is Sloth's: the configured labels only, and the
// selector of every SLO label.
func TestBudgetExhaustedAlertModes(t *testing.T) {
	spec := withChain(`        - id: sloth.dev/contrib/remove_labels/v1
        - id: sloth.dev/contrib/error_budget_exhausted_alert/v1
          config: {threshold: 0.25, alert_labels: {severity: info, freeze: "true"}}`)
	files, ps := generate(t, rules.Options{}, spec)
	if ps.Err() != nil || len(ps) != 1 || !strings.Contains(ps[0].String(), `warning: slos[0].plugins.chain[1].config.alert_labels.severity (SLO api-availability): severity "info" is replaced by "ticket"`) {
		t.Errorf("problems: %v", ps)
	}
	a := findRule(files[0].SLOs[0].Alerts, "ErrorBudgetExhausted")
	if a.Expr != `slo:period_error_budget_remaining:ratio{sloth_id="api-availability", sloth_service="api", sloth_slo="availability"} <= 0.25` ||
		a.Labels["severity"] != "ticket" || a.Labels["team"] != "payments" || a.Labels["freeze"] != "true" || a.For != 5*time.Minute ||
		!strings.Contains(a.Annotations["title"], "error budget is nearly exhausted") {
		t.Errorf("default mode: %+v", a)
	}
	files, _ = generate(t, rules.Options{SlothCompat: true}, spec)
	a = findRule(files[0].SLOs[0].Alerts, "ErrorBudgetExhausted")
	if a.Expr != `slo:period_error_budget_remaining:ratio{build="42", owner="payments-oncall", sloth_id="api-availability", sloth_service="api", sloth_slo="availability", team="payments"} <= 0.25` ||
		len(a.Labels) != 2 || len(a.Annotations) != 0 {
		t.Errorf("--sloth-compat: %+v", a)
	}
}

// With a tenant the alert carries the tenant's team, and a configuration
// naming another team is refused, as for the burn alerts.
func TestBudgetExhaustedAlertTenant(t *testing.T) {
	opts, _ := tenantOptions()
	files, ps := generate(t, opts, withChain(`        - id: sloth.dev/contrib/error_budget_exhausted_alert/v1`))
	if ps.Err() != nil {
		t.Fatal(ps)
	}
	if a := findRule(files[0].SLOs[0].Alerts, "ErrorBudgetExhausted"); a.Labels["team"] != "payments" {
		t.Errorf("team %q", a.Labels["team"])
	}
	_, ps = generate(t, opts, withChain(`        - id: sloth.dev/contrib/error_budget_exhausted_alert/v1
          config: {alert_labels: {team: search}}`))
	if err := ps.Err(); err == nil || !strings.Contains(err.Error(), `slos[0].plugins.chain[0].config.alert_labels.team (SLO api-availability): team "search", but tenant payments is team "payments"`) {
		t.Errorf("foreign team: %v", err)
	}
}

// remove_labels keeps the tenant's label, which the gateway shows a
// tenant its SLO series by; the contrib plugins' queries are confined.
func TestPluginsUnderATenant(t *testing.T) {
	opts, m := tenantOptions()
	files, ps := generate(t, opts, withChain(`        - id: sloth.dev/contrib/denominator_corrected_rules/v1
        - id: sloth.dev/contrib/remove_labels/v1`))
	if ps.Err() != nil {
		t.Fatal(ps)
	}
	s := files[0].SLOs[0]
	for _, r := range append(append([]rules.Rule{}, s.SLI...), s.Meta...) {
		if r.Record != "sloth_slo_info" && (r.Labels["namespace"] != "team-payments-prod" || r.Labels["owner"] != "") {
			t.Errorf("%s: labels %v", r.Record, r.Labels)
		}
		// Every selector of the SLI's metric is confined; the corrections
		// are read back by the SLO's ID, as the period's SLI reads the
		// 5-minute one.
		for _, sel := range requestsSelector.FindAllString(r.Expr, -1) {
			if !strings.Contains(sel, m.String()) {
				t.Errorf("%s: %s is not confined", r.Record, sel)
			}
		}
	}
	if findRule(s.Meta, "slo:numerator_correction:ratio5m") == nil {
		t.Error("no correction rules")
	}
}

var requestsSelector = regexp.MustCompile(`requests_total\{[^}]*\}`)

func tenantOptions() (rules.Options, *labels.Matcher) {
	scope := tenancy.NewScope("namespace", []string{"team-payments-prod"})
	return rules.Options{
		Scoper: rules.NewScoper(promenforce.New(), scope.Matcher()), Tenant: "payments", Team: "payments",
		TenantLabel: "namespace", TenantNamespace: "team-payments-prod", OwnsNamespace: scope.Matches,
	}, scope.Matcher()
}

func pluginFromCommandLine(t *testing.T, value string) []plugins.Plugin {
	t.Helper()
	p, ps := spec.CommandLinePlugin("--slo-plugins[0]", value)
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	return []plugins.Plugin{p}
}

func TestDenominatorCorrectionNeedsEvents(t *testing.T) {
	_, ps := generate(t, rules.Options{}, `version: prometheus/v1
service: api
labels: {team: payments}
slos:
  - name: availability
    objective: 99
    plugins:
      chain:
        - id: sloth.dev/contrib/denominator_corrected_rules/v1
    sli:
      raw: {error_ratio_query: "avg_over_time(error_ratio[{{.window}}])"}
    alerting: {name: A}
`)
	if err := ps.Err(); err == nil || !strings.Contains(err.Error(), ":9:11: slos[0].plugins.chain[0] (SLO api-availability): needs an SLI of bad and total events, and this SLO's SLI is raw (fix: give the SLO an events, ratio or latency SLI, or remove the plugin)") {
		t.Errorf("%v", err)
	}
}

// Sloth's PrometheusRule writer leaves out `for:`, so the budget-exhausted
// alert fires on its first evaluation there; --sloth-compat writes the
// same, and only there: its rule files, and Tollgate's own output, keep it.
func TestBudgetExhaustedForInPrometheusRule(t *testing.T) {
	spec := withChain(`        - id: sloth.dev/contrib/error_budget_exhausted_alert/v1`)
	for _, c := range []struct {
		compat bool
		format rules.Format
		want   bool
	}{{true, rules.FormatOperator, false}, {true, rules.FormatPrometheus, true}, {false, rules.FormatOperator, true}} {
		files, _ := generate(t, rules.Options{SlothCompat: c.compat}, spec)
		var b bytes.Buffer
		if err := rules.Write(&b, files, rules.WriteOptions{Format: c.format}); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		alert := out[strings.Index(out, "alert: ErrorBudgetExhausted"):]
		if got := strings.Contains(alert, "for: 5m"); got != c.want {
			t.Errorf("compat %v, %s: for: 5m written %v\n%s", c.compat, c.format, got, alert)
		}
	}
}

// --disable-alerts drops the budget alert with the burn alerts and asks for
// no team; --disable-recordings drops the corrections with the other
// recordings.
func TestDisabledGroupsDropPluginRules(t *testing.T) {
	spec := strings.Replace(withChain(`        - id: sloth.dev/contrib/error_budget_exhausted_alert/v1
        - id: sloth.dev/contrib/denominator_corrected_rules/v1`), "team: payments, ", "", 1)
	files, ps := generate(t, rules.Options{DisableAlerts: true}, spec)
	if len(ps) != 0 || len(files[0].SLOs[0].Alerts) != 0 {
		t.Errorf("--disable-alerts: %v %v", ps, files[0].SLOs[0].Alerts)
	}
	files, _ = generate(t, rules.Options{DisableRecordings: true, Team: "t"}, spec)
	if s := files[0].SLOs[0]; len(s.SLI)+len(s.Meta) != 0 || findRule(s.Alerts, "ErrorBudgetExhausted") == nil {
		t.Errorf("--disable-recordings: %d SLI, %d meta, alerts %v", len(s.SLI), len(s.Meta), s.Alerts)
	}
}

// Plugins given for every SLO (Sloth's --slo-plugins) run where an SLO's
// chain does not override them; without the defaults there are only the
// plugins' own rules.
func TestPluginsForEverySLO(t *testing.T) {
	set := load(t, eventsSpec+`  - name: own
    objective: 99
    plugins:
      overridePrevious: true
      chain: [{id: sloth.dev/core/sli_rules/v1}]
    sli:
      events:
        error_query: sum(rate(http_requests_total{code="500"}[{{.window}}]))
        total_query: sum(rate(http_requests_total[{{.window}}]))
    alerting: {name: Own}
`)
	intervals := pluginFromCommandLine(t, `{"id": "sloth.dev/contrib/rule_intervals/v1", "config": {"interval": {"default": "1m"}}}`)
	files, ps := generator(t, rules.Options{Plugins: intervals}).Generate(set)
	if ps.Err() != nil {
		t.Fatal(ps)
	}
	if a, o := files[0].SLOs[0], files[0].SLOs[1]; a.Intervals.SLI != time.Minute || o.Intervals.SLI != 0 || len(o.Meta) != 0 {
		t.Errorf("intervals %v and %v; overriding SLO has %d metadata rules", a.Intervals, o.Intervals, len(o.Meta))
	}
	files, _ = generator(t, rules.Options{Plugins: intervals, DisableDefaultPlugins: true}).Generate(set)
	if a := files[0].SLOs[0]; len(a.SLI)+len(a.Meta)+len(a.Alerts) != 0 || a.Intervals.SLI != time.Minute {
		t.Errorf("without the defaults: %+v", a)
	}
}

// The output is the same bytes on every run: plugins that build label
// maps and selectors iterate over maps.
func TestPluginOutputIsDeterministic(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "plugins", "combined.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	first := map[bool][]byte{}
	for range 20 {
		for _, compat := range []bool{false, true} {
			files, ps := generate(t, rules.Options{SlothCompat: compat, Team: "t"}, string(data))
			if ps.Err() != nil {
				t.Fatal(ps)
			}
			var b bytes.Buffer
			if err := rules.Write(&b, files, rules.WriteOptions{Format: rules.FormatOperator}); err != nil {
				t.Fatal(err)
			}
			if first[compat] == nil {
				first[compat] = b.Bytes()
			} else if !bytes.Equal(first[compat], b.Bytes()) {
				t.Fatalf("compat %v: two runs differ", compat)
			}
		}
	}
}

// A core plugin declared before the defaults is overwritten by the
// default of the same name (Sloth's integration test relies on that); one
// declared after them replaces the default's rules, without a warning.
func TestCorePluginBeforeItsDefaultWarns(t *testing.T) {
	for prio, warn := range map[string]bool{"-1": true, "0": false} {
		files, ps := generate(t, rules.Options{}, withChain(`        - id: sloth.dev/core/sli_rules/v1
          priority: `+prio+`
          config: {disableOptimized: true}`))
		if got := len(ps) == 1 && strings.Contains(ps[0].String(), "runs before sloth.dev/core/sli_rules/v1"); got != warn || len(ps) > 1 {
			t.Errorf("priority %s: %v", prio, ps)
		}
		period := findRule(files[0].SLOs[0].SLI, "slo:sli_error:ratio_rate30d")
		if optimized := strings.HasPrefix(period.Expr, "sum_over_time("); optimized != warn {
			t.Errorf("priority %s: period rule %s", prio, period.Expr)
		}
	}
}
