package rules_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/internal/problem"
	"github.com/tollgate-dev/tollgate/internal/testkit/slotest"
	"github.com/tollgate-dev/tollgate/promenforce"
	"github.com/tollgate-dev/tollgate/slo/rules"
	"github.com/tollgate-dev/tollgate/slo/spec"
	"github.com/tollgate-dev/tollgate/slo/windows"
	"github.com/tollgate-dev/tollgate/tenancy"
)

func load(t *testing.T, content string) *spec.Set {
	t.Helper()
	p := filepath.Join(t.TempDir(), "slos.yaml")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	set, ps, err := spec.Load(p)
	if err != nil {
		t.Fatalf("%v", ps)
	}
	return set
}

func generator(t testing.TB, opts rules.Options) *rules.Generator {
	t.Helper()
	ws, err := windows.Default().Get(30 * day)
	if err != nil {
		t.Fatal(err)
	}
	opts.Windows = ws
	g, err := rules.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func generate(t *testing.T, opts rules.Options, content string) ([]rules.File, problem.List) {
	t.Helper()
	return generator(t, opts).Generate(load(t, content))
}

func writeRules(t *testing.T, dir string, files []rules.File) string {
	t.Helper()
	var b bytes.Buffer
	if err := rules.Write(&b, files, rules.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "rules.yml")
	if err := os.WriteFile(p, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

const eventsSpec = `version: prometheus/v1
service: api
labels: {team: payments}
slos:
  - name: availability
    objective: 99
    sli:
      events:
        error_query: sum(rate(http_requests_total{code="500"}[{{.window}}]))
        total_query: sum(rate(http_requests_total[{{.window}}]))
    alerting: {name: ApiAvailability}
`

// Sloth's events SLI divides by zero when there is no traffic: NaN, which
// then poisons the 30-day mean for 30 days. Tollgate's gives no sample for
// a window without traffic, and 0 (not nothing) for a window with traffic
// but no error series yet.
func TestZeroTrafficGivesNoSampleInsteadOfNaN(t *testing.T) {
	for _, compat := range []bool{false, true} {
		dir := t.TempDir()
		files, ps := generate(t, rules.Options{SlothCompat: compat}, eventsSpec)
		if err := ps.Err(); err != nil {
			t.Fatal(err)
		}
		writeRules(t, dir, files)
		sli := `slo:sli_error:ratio_rate5m{sloth_id="api-availability",sloth_service="api",sloth_slo="availability",sloth_window="5m",team="payments"}`
		// NaN is the one value not equal to itself.
		const nanSamples = "count(slo:sli_error:ratio_rate5m != slo:sli_error:ratio_rate5m)"
		quiet := []slotest.ExpSample{}
		served := []slotest.ExpSample{{Labels: sli, Value: 0}}
		if compat {
			// Sloth: NaN without traffic, and no SLI at all without an
			// error series.
			quiet = []slotest.ExpSample{{Labels: "{}", Value: 1}}
			served = []slotest.ExpSample{}
		}
		slotest.TestRules(t, dir, slotest.UnitTests{
			RuleFiles:          []string{"rules.yml"},
			EvaluationInterval: "1m",
			Tests: []slotest.UnitTest{
				{
					Name: "no traffic", Interval: "1m",
					InputSeries: []slotest.InputSeries{{Series: `http_requests_total{code="200"}`, Values: "5+0x30"}, {Series: `http_requests_total{code="500"}`, Values: "1+0x30"}},
					Exprs:       []slotest.ExprTest{{Expr: nanSamples, EvalTime: "20m", ExpSamples: quiet}, {Expr: "count(slo:sli_error:ratio_rate5m)", EvalTime: "20m", ExpSamples: countOf(!compat)}},
				},
				{
					Name: "traffic, no error series yet", Interval: "1m",
					InputSeries: []slotest.InputSeries{{Series: `http_requests_total{code="200"}`, Values: "0+60x30"}},
					Exprs:       []slotest.ExprTest{{Expr: "slo:sli_error:ratio_rate5m", EvalTime: "20m", ExpSamples: served}},
				},
			},
		})
	}
}

func TestAlertsCarryTeamAndSeverity(t *testing.T) {
	files, ps := generate(t, rules.Options{}, eventsSpec)
	if err := ps.Err(); err != nil {
		t.Fatal(err)
	}
	alerts := files[0].SLOs[0].Alerts
	if len(alerts) != 2 {
		t.Fatalf("%d alerts", len(alerts))
	}
	for i, sev := range []string{"page", "ticket"} {
		ls := alerts[i].Labels
		if ls["severity"] != sev || ls["sloth_severity"] != sev || ls["team"] != "payments" {
			t.Errorf("%s alert labels %v", sev, ls)
		}
	}

	// A spec's own severity is replaced, with a warning.
	_, ps = generate(t, rules.Options{}, strings.Replace(eventsSpec, "alerting: {name: ApiAvailability}", "alerting: {name: ApiAvailability, page_alert: {labels: {severity: critical}}}", 1))
	if len(ps) != 1 || ps[0].Severity != problem.SeverityWarning || !strings.Contains(ps[0].String(), `severity "critical" is replaced by "page"`) {
		t.Errorf("problems %v", ps)
	}

	// Without a team anywhere, generation fails in default mode.
	noTeam := strings.Replace(eventsSpec, "labels: {team: payments}\n", "", 1)
	_, ps = generate(t, rules.Options{}, noTeam)
	if err := ps.Err(); err == nil || !strings.Contains(err.Error(), "no team: every alert needs a team label") {
		t.Errorf("no team: %v", err)
	}
	files, ps = generate(t, rules.Options{Team: "platform-sre"}, noTeam)
	if ps.Err() != nil || files[0].SLOs[0].Alerts[0].Labels["team"] != "platform-sre" {
		t.Errorf("--team: %v %v", ps, files[0].SLOs[0].Alerts[0].Labels)
	}
}

// With --tenant every SLI query is confined, and the spec may not route
// its alerts to another team.
func TestTenantConfinesQueriesAndOwnsTheTeam(t *testing.T) {
	scope := tenancy.NewScope("namespace", []string{"team-payments-prod", "team-payments-staging"})
	m := scope.Matcher()
	opts := rules.Options{
		Scoper: rules.NewScoper(promenforce.New(), m), Tenant: "payments", Team: "payments",
		TenantLabel: "namespace", TenantNamespace: "team-payments-prod", OwnsNamespace: scope.Matches,
	}
	files, ps := generate(t, opts, eventsSpec+`  - name: latency
    objective: 99
    sli:
      latency: {metric: http_request_duration_seconds, threshold: 0.25}
    alerting: {name: ApiLatency, absent_alert: {}}
  - name: ratio
    objective: 99
    sli:
      ratio: {errors: 'jobs_failed_total{queue="q"}', total: jobs_total, min_events: 30}
    alerting: {name: Jobs}
`)
	if err := ps.Err(); err != nil {
		t.Fatal(err)
	}
	for _, s := range files[0].SLOs {
		for _, r := range s.SLI {
			if r.Record == "slo:sli_error:ratio_rate30d" {
				continue // reads the SLO's own recording
			}
			checkConfined(t, r.Expr, m)
		}
		if ns := s.Meta[0].Labels["namespace"]; ns != "team-payments-prod" {
			t.Errorf("%s: series namespace %q, want the tenant's default", s.SLO.ID, ns)
		}
		for _, a := range s.Alerts {
			if a.Labels["team"] != "payments" {
				t.Errorf("%s: team %q", a.Alert, a.Labels["team"])
			}
			if strings.HasPrefix(a.Expr, "absent(") {
				checkConfined(t, a.Expr, m)
			}
		}
	}
	lat := files[0].SLOs[1].SLI[0].Expr
	if !strings.Contains(lat, `http_request_duration_seconds_bucket{le="0.25",namespace=~"team-payments-prod|team-payments-staging"}[5m]`) {
		t.Errorf("latency SLI: %s", lat)
	}
	// min_events 30 over 5 minutes: at least 0.1 events per second.
	if ratio := files[0].SLOs[2].SLI[0].Expr; !strings.Contains(ratio, ">= 0.1)") || !strings.Contains(ratio, "or vector(0)") {
		t.Errorf("ratio SLI: %s", ratio)
	}

	_, ps = generate(t, opts, strings.Replace(eventsSpec, "team: payments", "team: checkout", 1))
	if err := ps.Err(); err == nil || !strings.Contains(err.Error(), `labels.team (SLO api-availability): team "checkout", but tenant payments is team "payments"`) {
		t.Errorf("foreign team: %v", err)
	}
	_, ps = generate(t, opts, strings.Replace(eventsSpec, "sum(rate(http_requests_total[{{.window}}]))", "sum(rate(info(http_requests_total)[{{.window}}:]))", 1))
	if err := ps.Err(); err == nil || !strings.Contains(err.Error(), "info()") {
		t.Errorf("unconfinable query: %v", err)
	}
}

// Integer thresholds match both spellings of the bucket: Prometheus 2 and
// client libraries write le="1", Prometheus 3 le="1.0".
func TestLatencyBucketMatcher(t *testing.T) {
	files, ps := generate(t, rules.Options{}, `version: prometheus/v1
service: svc
labels: {team: t}
slos:
  - name: lat
    objective: 99
    sli:
      latency: {metric: h_seconds, selector: 'job="j"', threshold: 1}
    alerting: {name: L}
`)
	if err := ps.Err(); err != nil {
		t.Fatal(err)
	}
	want := "(sum(rate(h_seconds_count{job=\"j\"}[5m])) - sum(rate(h_seconds_bucket{job=\"j\",le=~\"1(\\\\.0)?\"}[5m])))\n/\n(sum(rate(h_seconds_count{job=\"j\"}[5m])) > 0)\n"
	if got := files[0].SLOs[0].SLI[0].Expr; got != want {
		t.Errorf("latency SLI\n got  %q\n want %q", got, want)
	}
	dir := t.TempDir()
	writeRules(t, dir, files)
	slotest.CheckRules(t, filepath.Join(dir, "rules.yml"))
	slotest.TestRules(t, dir, slotest.UnitTests{
		RuleFiles: []string{"rules.yml"}, EvaluationInterval: "1m",
		Tests: []slotest.UnitTest{{
			Name: "either spelling", Interval: "1m",
			InputSeries: []slotest.InputSeries{
				{Series: `h_seconds_count{job="j"}`, Values: "0+100x20"},
				{Series: `h_seconds_bucket{job="j",le="1.0"}`, Values: "0+90x20"},
			},
			// 10% of events slower than the threshold, to the 0.1% (the
			// subtraction count - bucket rounds in the last digit).
			Exprs: []slotest.ExprTest{{Expr: `round(slo:sli_error:ratio_rate5m * 1000)`, EvalTime: "10m", ExpSamples: []slotest.ExpSample{{
				Labels: `{sloth_id="svc-lat",sloth_service="svc",sloth_slo="lat",sloth_window="5m",team="t"}`, Value: 100,
			}}}},
		}},
	})
}

func TestForAndNoDataAlert(t *testing.T) {
	files, ps := generate(t, rules.Options{}, strings.Replace(eventsSpec, "alerting: {name: ApiAvailability}",
		"alerting: {name: ApiAvailability, page_alert: {for: 2m}, ticket_alert: {for: 1h}, absent_alert: {labels: {component: api}}}", 1))
	if err := ps.Err(); err != nil {
		t.Fatal(err)
	}
	as := files[0].SLOs[0].Alerts
	if len(as) != 3 || as[0].For != 2*time.Minute || as[1].For != time.Hour {
		t.Fatalf("alerts %+v", as)
	}
	abs := as[2]
	if abs.Alert != "ApiAvailabilityNoData" || abs.For != rules.DefaultAbsentFor || abs.Expr != "absent(sum(rate(http_requests_total[5m])))" ||
		abs.Labels["sloth_id"] != "api-availability" || abs.Labels["severity"] != "ticket" || abs.Labels["team"] != "payments" || abs.Labels["component"] != "api" {
		t.Errorf("no-data alert %+v", abs)
	}
	dir := t.TempDir()
	writeRules(t, dir, files)
	slotest.CheckRules(t, filepath.Join(dir, "rules.yml"))
	slotest.TestRules(t, dir, slotest.UnitTests{
		RuleFiles: []string{"rules.yml"}, EvaluationInterval: "1m",
		Tests: []slotest.UnitTest{{
			Name: "metric gone", Interval: "1m",
			InputSeries: []slotest.InputSeries{{Series: `http_requests_total{code="200"}`, Values: "0+60x10"}},
			Alerts: []slotest.AlertRuleTest{
				{EvalTime: "12m", Alertname: "ApiAvailabilityNoData", ExpAlerts: []slotest.ExpAlert{}},
				{EvalTime: "40m", Alertname: "ApiAvailabilityNoData", ExpAlerts: []slotest.ExpAlert{{
					ExpLabels: abs.Labels,
					ExpAnnotations: map[string]string{
						"title":   "(no data) api availability SLI has no data.",
						"summary": abs.Annotations["summary"],
					},
				}}},
			},
		}},
	})
}

func TestOperatorFormat(t *testing.T) {
	files, ps := generate(t, rules.Options{}, eventsSpec)
	if err := ps.Err(); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := rules.Write(&b, files, rules.WriteOptions{Format: rules.FormatOperator, ManagedBy: "tollgate"}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{rules.Header, "apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nmetadata:\n  name: api\n", "app.kubernetes.io/managed-by: tollgate", "  groups:\n    - name: sloth-slo-sli-recordings-api-availability"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
}

func TestEverythingDisabledIsAnError(t *testing.T) {
	files, _ := generate(t, rules.Options{DisableAlerts: true, DisableRecordings: true}, eventsSpec)
	if err := rules.Write(&bytes.Buffer{}, files, rules.WriteOptions{}); err != rules.ErrNoRules {
		t.Errorf("error %v", err)
	}
}

// countOf expects no sample (none) or a count of one.
func countOf(none bool) []slotest.ExpSample {
	if none {
		return []slotest.ExpSample{}
	}
	return []slotest.ExpSample{{Labels: "{}", Value: 1}}
}

// The guard binds to the whole total, whatever its top-level operator:
// "a or b > 0" would be "a or (b > 0)", and a total of "a or b" with a
// quiet a would divide by zero again. A query whose last line is a PromQL
// comment does not swallow the guard.
func TestGuardCoversTheWholeTotal(t *testing.T) {
	files, ps := generate(t, rules.Options{}, `version: prometheus/v1
service: svc
labels: {team: t}
slos:
  - name: either
    objective: 99
    sli:
      events:
        error_query: sum(rate(errors_total[{{.window}}]))
        total_query: sum(rate(a_total[{{.window}}])) or sum(rate(b_total[{{.window}}]))
    alerting: {name: Either, absent_alert: {}}
  - name: commented
    objective: 99
    sli:
      events:
        error_query: "sum(rate(errors_total[{{.window}}])) # failed requests"
        total_query: "sum(rate(c_total[{{.window}}])) # every request"
    alerting: {name: Commented, absent_alert: {}}
  - name: raw-commented
    objective: 99
    sli:
      raw: {error_ratio_query: "sum(rate(errors_total[{{.window}}])) / sum(rate(c_total[{{.window}}])) # ratio"}
    alerting: {name: RawCommented}
`)
	if err := ps.Err(); err != nil {
		t.Fatal(err)
	}
	if got := files[0].SLOs[0].SLI[0].Expr; !strings.Contains(got, "((sum(rate(a_total[5m])) or sum(rate(b_total[5m]))) > 0)") {
		t.Errorf("guard of a total with or:\n%s", got)
	}
	dir := t.TempDir()
	p := writeRules(t, dir, files)
	// promtool parses every rule: a comment that ate the guard and the
	// closing parentheses would fail here.
	slotest.CheckRules(t, p)
	slotest.TestRules(t, dir, slotest.UnitTests{
		RuleFiles: []string{"rules.yml"}, EvaluationInterval: "1m",
		Tests: []slotest.UnitTest{{
			Name: "quiet first operand of or", Interval: "1m",
			InputSeries: []slotest.InputSeries{{Series: "a_total", Values: "5+0x30"}, {Series: "c_total", Values: "0+0x30"}},
			Exprs: []slotest.ExprTest{
				{Expr: `count(slo:sli_error:ratio_rate5m != slo:sli_error:ratio_rate5m)`, EvalTime: "20m", ExpSamples: []slotest.ExpSample{}},
				{Expr: `count(slo:sli_error:ratio_rate5m)`, EvalTime: "20m", ExpSamples: []slotest.ExpSample{}},
			},
		}},
	})
}

// --team names the team of alerts whose spec sets none, with
// --sloth-compat too: it does not override the spec's team.
func TestTeamFlagDoesNotOverrideTheSpec(t *testing.T) {
	for _, compat := range []bool{false, true} {
		files, ps := generate(t, rules.Options{SlothCompat: compat, Team: "platform-sre"},
			strings.Replace(eventsSpec, "alerting: {name: ApiAvailability}", "alerting: {name: ApiAvailability, labels: {team: checkout}}", 1))
		if err := ps.Err(); err != nil {
			t.Fatal(err)
		}
		for _, a := range files[0].SLOs[0].Alerts {
			if a.Labels["team"] != "checkout" {
				t.Errorf("compat %v: %s alert has team %q, the spec says checkout", compat, a.Labels["sloth_severity"], a.Labels["team"])
			}
		}
	}
}
