package rules_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/internal/testkit/slotest"
	"github.com/tollgate-dev/tollgate/slo/rules"
	"github.com/tollgate-dev/tollgate/slo/windows"
)

// pluginSpec is an events SLO of service api, objective 99 (a budget of
// 0.01), over requests_total{code="ok"|"error"}, with the plugin chain
// given (YAML, indented for the SLO's plugins: key) and more SLO keys.
func pluginSpec(name, chain, more string) string {
	return `version: prometheus/v1
service: api
labels: {team: payments, owner: payments-oncall, build: "42"}
slos:
  - name: ` + name + `
    objective: 99
    plugins:
      chain:
` + chain + `
    sli:
      events:
        error_query: sum(rate(requests_total{code="error"}[{{.window}}]))
        total_query: sum(rate(requests_total[{{.window}}]))
    alerting: {name: ApiAvailability}
` + more
}

// requests are the two counters over n+1 minutes: ok and errors per
// minute, each counter started long ago (so that rate never extrapolates
// it to below zero, and errors and totals extrapolate alike).
func requests(okPerMin, errPerMin, minutes int) []slotest.InputSeries {
	return []slotest.InputSeries{
		{Series: `requests_total{code="ok"}`, Values: series(100000, okPerMin, minutes)},
		{Series: `requests_total{code="error"}`, Values: series(1000, errPerMin, minutes)},
	}
}

func series(start, step, n int) string {
	return strconv.Itoa(start) + "+" + strconv.Itoa(step) + "x" + strconv.Itoa(n)
}

// promtoolRun generates the spec's rules in default mode (30-day windows),
// checks them with promtool and runs the unit tests on them.
func promtoolRun(t *testing.T, specYAML string, tests ...slotest.UnitTest) {
	t.Helper()
	promtoolRunWindows(t, windows.Windows{}, specYAML, tests...)
}

// hourWindows are alert windows of a one-hour period, for a test whose
// input must cover the period.
func hourWindows() windows.Windows {
	return windows.Windows{
		Period:      time.Hour,
		PageQuick:   windows.Window{ErrorBudgetPercent: 5, Short: 5 * time.Minute, Long: 10 * time.Minute},
		PageSlow:    windows.Window{ErrorBudgetPercent: 10, Short: 10 * time.Minute, Long: 20 * time.Minute},
		TicketQuick: windows.Window{ErrorBudgetPercent: 20, Short: 20 * time.Minute, Long: 30 * time.Minute},
		TicketSlow:  windows.Window{ErrorBudgetPercent: 40, Short: 30 * time.Minute, Long: 45 * time.Minute},
	}
}

// promtoolRunWindows is promtoolRun with other windows (zero: 30 days).
func promtoolRunWindows(t *testing.T, ws windows.Windows, specYAML string, tests ...slotest.UnitTest) {
	t.Helper()
	g := generator(t, rules.Options{})
	if ws.Period > 0 {
		var err error
		if g, err = rules.New(rules.Options{Windows: ws}); err != nil {
			t.Fatal(err)
		}
	}
	files, ps := g.Generate(load(t, specYAML))
	if err := ps.Err(); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	slotest.CheckRules(t, writeRules(t, dir, files))
	slotest.TestRules(t, dir, slotest.UnitTests{RuleFiles: []string{"rules.yml"}, EvaluationInterval: "1m", Tests: tests})
}

const idLabels = `sloth_id="api-%s", sloth_service="api", sloth_slo="%s"`

func ids(name string) string { return strings.ReplaceAll(idLabels, "%s", name) }

// The default-mode output of each plugin passes promtool check rules, and
// promtool unit tests show what each plugin changes.
func TestPluginsPromtool(t *testing.T) {
	slotest.Promtool(t)
	t.Run("sli_rules disableOptimized", testPromtoolSLIRules)
	t.Run("error_budget_exhausted_alert", testPromtoolExhausted)
	t.Run("info_labels", testPromtoolInfoLabels)
	t.Run("remove_labels", testPromtoolRemoveLabels)
	t.Run("denominator_corrected_rules", testPromtoolDenominator)
	t.Run("rule_intervals and debug", testPromtoolIntervalsDebug)
}

// The period's SLI without the optimization is the period's error ratio,
// weighted by traffic: an hour of 10 req/s without errors then an hour of
// 1 req/s at 50% errors is 1800 errors in 39600 requests, 4.5%, where the
// optimized rule averages the 5-minute ratios to about 25%.
func testPromtoolSLIRules(t *testing.T) {
	t.Parallel()
	spec := pluginSpec("weighted", `        - id: sloth.dev/core/sli_rules/v1
          config: {disableOptimized: true}`, `  - name: averaged
    objective: 99
    sli:
      events:
        error_query: sum(rate(requests_total{code="error"}[{{.window}}]))
        total_query: sum(rate(requests_total[{{.window}}]))
    alerting: {name: ApiAvailability}
`)
	input := []slotest.InputSeries{
		{Series: `requests_total{code="ok"}`, Values: series(100000, 600, 60) + " " + series(136030, 30, 59)},
		{Series: `requests_total{code="error"}`, Values: series(1000, 0, 60) + " " + series(1030, 30, 59)},
	}
	promtoolRun(t, spec, slotest.UnitTest{
		Name: "the period's own ratio", Interval: "1m", InputSeries: input,
		Exprs: []slotest.ExprTest{
			{Expr: `round(slo:sli_error:ratio_rate30d{sloth_slo="weighted"} * 1000000)`, EvalTime: "2h",
				ExpSamples: []slotest.ExpSample{{Labels: `{` + ids("weighted") + `, sloth_window="30d", team="payments", owner="payments-oncall", build="42"}`, Value: 45455}}},
			{Expr: `slo:sli_error:ratio_rate30d{sloth_slo="averaged"} > bool 0.2`, EvalTime: "2h",
				ExpSamples: []slotest.ExpSample{{Labels: `{` + ids("averaged") + `, sloth_window="30d", team="payments", owner="payments-oncall", build="42"}`, Value: 1}}},
		},
	})
}

// At 2% errors against a 1% budget the budget is spent (-100% left): the
// alert fires after its `for:` as a ticket for the SLO's team; at 0.5%
// half the budget is left and it stays quiet.
func testPromtoolExhausted(t *testing.T) {
	t.Parallel()
	spec := pluginSpec("availability", `        - id: sloth.dev/contrib/error_budget_exhausted_alert/v1`, "")
	exp := slotest.ExpAlert{
		ExpLabels: map[string]string{
			// sloth_window comes with the period's SLI, through the burn
			// rate's group_left, as it does in Sloth.
			"sloth_id": "api-availability", "sloth_service": "api", "sloth_slo": "availability", "sloth_window": "30d",
			"team": "payments", "owner": "payments-oncall", "build": "42", "severity": "ticket",
		},
		ExpAnnotations: map[string]string{
			"title":   "(ticket) api availability SLO error budget is exhausted.",
			"summary": "api availability SLO has -100% of its error budget left for the period.",
		},
	}
	promtoolRun(t, spec,
		slotest.UnitTest{
			Name: "2% errors spend a 1% budget", Interval: "1m", InputSeries: requests(588, 12, 60),
			Alerts: []slotest.AlertRuleTest{
				{EvalTime: "4m", Alertname: "ErrorBudgetExhausted", ExpAlerts: []slotest.ExpAlert{}},
				{EvalTime: "30m", Alertname: "ErrorBudgetExhausted", ExpAlerts: []slotest.ExpAlert{exp}},
			},
		},
		slotest.UnitTest{
			Name: "0.5% errors leave half of it", Interval: "1m", InputSeries: requests(597, 3, 60),
			Alerts: []slotest.AlertRuleTest{{EvalTime: "30m", Alertname: "ErrorBudgetExhausted", ExpAlerts: []slotest.ExpAlert{}}},
		})
}

// info_labels labels sloth_slo_info, and only it.
func testPromtoolInfoLabels(t *testing.T) {
	t.Parallel()
	spec := pluginSpec("availability", `        - id: sloth.dev/contrib/info_labels/v1
          config: {labels: {runbook: wiki-123, tier: gold}}`, "")
	common := ids("availability") + `, team="payments", owner="payments-oncall", build="42"`
	promtoolRun(t, spec, slotest.UnitTest{
		Name: "labels on the info metric", Interval: "1m", InputSeries: requests(590, 10, 10),
		Exprs: []slotest.ExprTest{
			{Expr: `sloth_slo_info`, EvalTime: "5m", ExpSamples: []slotest.ExpSample{{
				Labels: `sloth_slo_info{` + common + `, runbook="wiki-123", tier="gold", sloth_mode="cli-gen-prom", sloth_objective="99", sloth_spec="prometheus/v1", sloth_version="tollgate-v1"}`, Value: 1,
			}}},
			{Expr: `slo:objective:ratio`, EvalTime: "5m", ExpSamples: []slotest.ExpSample{{Labels: `slo:objective:ratio{` + common + `}`, Value: 0.99}}},
		},
	})
}

// remove_labels keeps the ID labels, the window and the preserved labels
// on the SLI and metadata series; sloth_slo_info keeps them all, and so,
// without --sloth-compat, does a skipped metadata metric.
func testPromtoolRemoveLabels(t *testing.T) {
	t.Parallel()
	spec := pluginSpec("availability", `        - id: sloth.dev/contrib/remove_labels/v1
          config: {preserveLabels: [team], skipMetrics: ["slo:objective:ratio"]}`, "")
	id := ids("availability")
	all := id + `, team="payments", owner="payments-oncall", build="42"`
	promtoolRun(t, spec, slotest.UnitTest{
		Name: "labels removed", Interval: "1m", InputSeries: requests(590, 10, 10),
		Exprs: []slotest.ExprTest{
			{Expr: `round(slo:sli_error:ratio_rate5m * 1000)`, EvalTime: "10m", ExpSamples: []slotest.ExpSample{{Labels: `{` + id + `, sloth_window="5m", team="payments"}`, Value: 17}}},
			{Expr: `slo:error_budget:ratio`, EvalTime: "10m", ExpSamples: []slotest.ExpSample{{Labels: `slo:error_budget:ratio{` + id + `, team="payments"}`, Value: 0.01}}},
			{Expr: `slo:objective:ratio`, EvalTime: "10m", ExpSamples: []slotest.ExpSample{{Labels: `slo:objective:ratio{` + all + `}`, Value: 0.99}}},
			{Expr: `count(sloth_slo_info{owner="payments-oncall", build="42"})`, EvalTime: "10m", ExpSamples: []slotest.ExpSample{{Labels: `{}`, Value: 1}}},
		},
	})
}

// With steady traffic a window's correction is 1 and the SLI its error
// ratio. When the traffic stops, the 5-minute correction is 0 and the
// 5-minute SLI gives no sample, where Sloth's divides zero by zero. (The
// correction divides by the period's rate, which only a full period of
// input gives: the test's period is an hour.)
func testPromtoolDenominator(t *testing.T) {
	t.Parallel()
	spec := pluginSpec("availability", `        - id: sloth.dev/contrib/denominator_corrected_rules/v1`, "")
	labels := ids("availability") + `, team="payments", owner="payments-oncall", build="42"`
	stopped := []slotest.InputSeries{
		{Series: `requests_total{code="ok"}`, Values: series(100000, 588, 60) + " " + series(135280, 0, 30)},
		{Series: `requests_total{code="error"}`, Values: series(1000, 12, 60) + " " + series(1720, 0, 30)},
	}
	promtoolRunWindows(t, hourWindows(), spec,
		slotest.UnitTest{
			Name: "steady traffic", Interval: "1m", InputSeries: requests(588, 12, 90),
			Exprs: []slotest.ExprTest{
				{Expr: `slo:numerator_correction:ratio5m`, EvalTime: "90m", ExpSamples: []slotest.ExpSample{{Labels: `slo:numerator_correction:ratio5m{` + labels + `}`, Value: 1}}},
				{Expr: `round(slo:sli_error:ratio_rate5m * 1000)`, EvalTime: "90m", ExpSamples: []slotest.ExpSample{{Labels: `{` + labels + `, sloth_window="5m"}`, Value: 20}}},
			},
		},
		slotest.UnitTest{
			Name: "traffic stopped", Interval: "1m", InputSeries: stopped,
			Exprs: []slotest.ExprTest{
				{Expr: `slo:numerator_correction:ratio5m`, EvalTime: "90m", ExpSamples: []slotest.ExpSample{{Labels: `slo:numerator_correction:ratio5m{` + labels + `}`, Value: 0}}},
				{Expr: `slo:sli_error:ratio_rate5m`, EvalTime: "90m", ExpSamples: []slotest.ExpSample{}},
			},
		})
}

// rule_intervals' groups pass promtool with their interval: (promtool's
// unit tests evaluate every group at the test's interval, so the interval
// itself shows only in the file) and their rules evaluate as before; debug
// changes nothing.
func testPromtoolIntervalsDebug(t *testing.T) {
	t.Parallel()
	spec := pluginSpec("availability", `        - id: sloth.dev/contrib/rule_intervals/v1
          config: {interval: {default: 2m, alert: 30s}}
        - id: sloth.dev/core/debug/v1
          config: {msg: hello, request: true, result: true}`, "")
	labels := ids("availability") + `, team="payments", owner="payments-oncall", build="42"`
	files, _ := generate(t, rules.Options{}, spec)
	for _, g := range files[0].Groups() {
		want := 2 * time.Minute
		if strings.HasPrefix(g.Name, "sloth-slo-alerts-") {
			want = 30 * time.Second
		}
		if g.Interval != want {
			t.Errorf("group %s: interval %s, want %s", g.Name, g.Interval, want)
		}
	}
	promtoolRun(t, spec, slotest.UnitTest{
		Name: "rules evaluate", Interval: "1m", InputSeries: requests(588, 12, 30),
		Exprs: []slotest.ExprTest{
			{Expr: `round(slo:sli_error:ratio_rate5m * 1000)`, EvalTime: "20m", ExpSamples: []slotest.ExpSample{{Labels: `{` + labels + `, sloth_window="5m"}`, Value: 20}}},
		},
	})
}
