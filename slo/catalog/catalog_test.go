package catalog_test

import (
	"bytes"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/internal/testkit/slotest"
	"github.com/tollgate-dev/tollgate/slo/catalog"
	"github.com/tollgate-dev/tollgate/slo/rules"
	"github.com/tollgate-dev/tollgate/slo/spec"
	"github.com/tollgate-dev/tollgate/slo/windows"
)

const day = 24 * time.Hour

func TestCatalogueCoversTheSeedTable(t *testing.T) {
	var rows []string
	for _, e := range catalog.Entries() {
		rows = append(rows, e.Row)
		if e.Exporter == "" || e.Description == "" || e.AlertName == "" {
			t.Errorf("%s: exporter, description and alert name are required", e.ID())
		}
	}
	want := []string{
		"Deployment lead time", "Deployment success rate", "API gateway availability", "Tenant onboarding time",
		"Mean time to detect platform incident", "Policy decision latency", "Tollgate availability", "Tollgate latency",
	}
	if strings.Join(rows, "|") != strings.Join(want, "|") {
		t.Errorf("rows %v, want %v", rows, want)
	}
	docs, ps, err := catalog.Load(catalog.Config{})
	if err != nil {
		t.Fatalf("the catalogue does not load: %v", ps)
	}
	if n := len((&spec.Set{Documents: docs}).SLOs()); n != len(want) {
		t.Errorf("%d SLOs loaded", n)
	}
}

// generate writes one SLO's rules (default mode, 30-day windows) into dir
// and returns them.
func generate(t *testing.T, dir string, slo *spec.SLO) rules.SLORules {
	t.Helper()
	ws, err := windows.Default().Get(30 * day)
	if err != nil {
		t.Fatal(err)
	}
	g, err := rules.New(rules.Options{Windows: ws})
	if err != nil {
		t.Fatal(err)
	}
	r, ps := g.SLO(spec.FormatPrometheus, slo)
	if err := ps.Err(); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := rules.Write(&b, []rules.File{{Document: &spec.Document{Service: slo.Service}, SLOs: []rules.SLORules{r}}}, rules.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "rules.yml"), b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return r
}

// For every catalogue SLO, promtool checks its rules and runs unit tests
// generated from its SLI. After 18 hours without errors (enough to keep the
// one- and three-day ticket windows below their thresholds), a burn at
// 14.4x (5% above, since the alert compares with >) fires the page alert
// once the one-hour window is full of it, and nothing before. A burn at 1x
// fires nothing: every window reads 1x as soon as it has data, so seven
// hours cover the three-day window too. (The burn is a millionth below 1x:
// exactly at the threshold, `>` is decided by the rounding of count -
// bucket in floating point.) A burn at 2x fires the ticket alert only.
func TestCataloguePromtoolUnitTests(t *testing.T) {
	docs, ps, err := catalog.Load(catalog.Config{})
	if err != nil {
		t.Fatal(ps)
	}
	slotest.Promtool(t) // fail early, with the install command, if missing
	for _, slo := range (&spec.Set{Documents: docs}).SLOs() {
		t.Run(slo.ID, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			r := generate(t, dir, slo)
			slotest.CheckRules(t, filepath.Join(dir, "rules.yml"))
			page, ticket := expected(t, r, rules.SeverityPage), expected(t, r, rules.SeverityTicket)
			name := slo.Alerting.Name
			none := func(at time.Duration, names ...string) []slotest.AlertRuleTest {
				var out []slotest.AlertRuleTest
				for _, n := range names {
					out = append(out, slotest.AlertRuleTest{EvalTime: slotest.Duration(at), Alertname: n, ExpAlerts: []slotest.ExpAlert{}})
				}
				return out
			}
			start := time.Unix(0, 0)
			const eps = 10 // events per second: every window has enough for the guards
			input := func(phases ...slotest.Phase) ([]slotest.InputSeries, int) {
				p := slotest.Profile{Start: start, EventsPerSecond: eps, Phases: phases}
				series, err := slotest.Series(slo, p)
				if err != nil {
					t.Fatal(err)
				}
				n := int(p.End().Sub(start) / time.Minute)
				return slotest.Input(series, start, time.Minute, n), n
			}
			const clean = 18 * time.Hour
			pageIn, _ := input(slotest.Phase{Duration: clean, Burn: 0}, slotest.Phase{Duration: 70 * time.Minute, Burn: 14.4 * 1.05})
			budgetIn, _ := input(slotest.Phase{Duration: 7 * time.Hour, Burn: 1 - 1e-6})
			ticketIn, _ := input(slotest.Phase{Duration: 7 * time.Hour, Burn: 2})
			slotest.TestRules(t, dir, slotest.UnitTests{
				RuleFiles:          []string{"rules.yml"},
				EvaluationInterval: "1m",
				Tests: []slotest.UnitTest{
					{
						Name: "14.4x burn pages within the hour", Interval: "1m", InputSeries: pageIn,
						Alerts: append(none(clean+30*time.Minute, name, slo.Alerting.Absent.Name),
							slotest.AlertRuleTest{EvalTime: slotest.Duration(clean + 65*time.Minute), Alertname: name, ExpAlerts: []slotest.ExpAlert{page}}),
					},
					{
						Name: "1x burn spends the budget exactly and fires nothing", Interval: "1m", InputSeries: budgetIn,
						Alerts: append(append(none(10*time.Minute, name), none(time.Hour, name)...), none(7*time.Hour, name, slo.Alerting.Absent.Name)...),
					},
					{
						Name: "2x burn opens a ticket and pages nobody", Interval: "1m", InputSeries: ticketIn,
						Alerts: []slotest.AlertRuleTest{{EvalTime: "7h", Alertname: name, ExpAlerts: []slotest.ExpAlert{ticket}}},
					},
				},
			})
		})
	}
}

// expected is the alert of one severity as Prometheus fires it: the SLI
// series' labels (without sloth_window, which the alert aggregates away)
// and the rule's labels, with annotation templates expanded.
func expected(t *testing.T, r rules.SLORules, severity string) slotest.ExpAlert {
	t.Helper()
	ls := map[string]string{}
	maps.Copy(ls, r.SLI[0].Labels)
	delete(ls, "sloth_window")
	for _, a := range r.Alerts {
		if a.Labels["sloth_severity"] != severity {
			continue
		}
		maps.Copy(ls, a.Labels)
		if ls["severity"] != severity || ls["team"] != catalog.DefaultTeam {
			t.Fatalf("alert %s has severity %q and team %q", a.Alert, ls["severity"], ls["team"])
		}
		anns := map[string]string{}
		for k, v := range a.Annotations {
			anns[k] = labelRef.ReplaceAllStringFunc(v, func(m string) string { return ls[labelRef.FindStringSubmatch(m)[1]] })
		}
		return slotest.ExpAlert{ExpLabels: ls, ExpAnnotations: anns}
	}
	t.Fatalf("no %s alert", severity)
	return slotest.ExpAlert{}
}

var labelRef = regexp.MustCompile(`{{\$labels\.([a-zA-Z_]+)}}`)

func TestConfigOverrides(t *testing.T) {
	cfg, ps, err := catalog.ParseConfig("catalog.yaml", []byte(`team: sre-core
labels: {cluster: prod-eu}
slos:
  platform-api-gateway-availability:
    selector: '{envoy_http_conn_manager_prefix="public_https"}'
    objective: 99.9
  platform-admission-policy-latency:
    metric: apiserver_admission_webhook_admission_duration_seconds
    selector: '{name=~".*kyverno.*"}'
    buckets: [0.005, 0.025, 0.1, 0.5, 1, 2.5, 10, 25]
    threshold: 0.1
  platform-tenant-onboarding: {disable: true}
  platform-deployment-lead-time: {disable_page: true}
`))
	if err != nil {
		t.Fatal(ps)
	}
	docs, ps, err := catalog.Load(cfg)
	if err != nil {
		t.Fatal(ps)
	}
	byID := map[string]*spec.SLO{}
	for _, s := range (&spec.Set{Documents: docs}).SLOs() {
		byID[s.ID] = s
	}
	if _, ok := byID["platform-tenant-onboarding"]; ok || len(byID) != 7 {
		t.Errorf("disabled SLO still there: %v", maps.Keys(byID))
	}
	gw := byID["platform-api-gateway-availability"]
	if gw.Objective != 99.9 || gw.SLI.Ratio.Total != `envoy_http_downstream_rq_xx{envoy_http_conn_manager_prefix="public_https"}` || gw.Labels["team"] != "sre-core" || gw.Labels["cluster"] != "prod-eu" {
		t.Errorf("gateway: %+v %+v", gw, gw.SLI.Ratio)
	}
	if l := byID["platform-admission-policy-latency"].SLI.Latency; l.Metric != "apiserver_admission_webhook_admission_duration_seconds" || l.Threshold != 0.1 {
		t.Errorf("admission: %+v", l)
	}
	if !byID["platform-deployment-lead-time"].Alerting.Page.Disable {
		t.Error("disable_page ignored")
	}
}

func TestConfigProblems(t *testing.T) {
	_, ps, err := catalog.ParseConfig("catalog.yaml", []byte(`teem: x
slos:
  platform-gateway: {objective: 99}
  platform-deployment-success:
    threshold: 0.5
    objective: 100
  platform-admission-policy-latency:
    threshold: 0.2
labels:
  sloth_id: mine
  bad-name: x
`))
	if err == nil {
		t.Fatal("bad configuration accepted")
	}
	var out []string
	for _, p := range ps {
		out = append(out, p.String())
	}
	all := strings.Join(out, "\n")
	for _, want := range []string{
		`catalog.yaml:1:1: teem: unknown key`, `did you mean "team"?`,
		`catalog.yaml:3:3: slos.platform-gateway: is not a catalogue SLO (fix: catalogue SLOs are: platform-deployment-lead-time,`,
		`catalog.yaml:5:5: slos.platform-deployment-success.threshold: does not apply to a ratio SLI`,
		`catalog.yaml:6:5: slos.platform-deployment-success.objective: 100 is out of range`,
		`catalog.yaml:8:5: slos.platform-admission-policy-latency.threshold: 0.2 is not one of the histogram's bucket boundaries`,
		// In this file, once, not in the built-in catalogue per service.
		`catalog.yaml:10:3: labels.sloth_id: sloth_id is set by the generator`,
		`catalog.yaml:11:3: labels.bad-name: "bad-name" is not a valid label name`,
	} {
		if !strings.Contains(all, want) {
			t.Errorf("missing %q in\n%s", want, all)
		}
	}
	if strings.Contains(all, catalog.Source) || strings.Count(all, "labels.sloth_id") != 1 {
		t.Errorf("label problems not reported once, in catalog.yaml:\n%s", all)
	}
}
