package spec_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/internal/problem"
	"github.com/tollgate-dev/tollgate/slo/internal/slothsrc"
	"github.com/tollgate-dev/tollgate/slo/spec"
)

func write(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

const promSpecs = `version: "prometheus/v1"
service: payments-api
labels:
  team: payments
slos:
  - name: availability
    objective: 99.9
    labels: {tier: "1"}
    sli:
      events:
        error_query: sum(rate(http_requests_total{code=~"5.."}[{{.window}}]))
        total_query: sum(rate(http_requests_total[{{.window}}]))
    alerting:
      name: PaymentsAvailability
      page_alert: {for: 2m}
      ticket_alert: {disable: true}
      absent_alert: {}
  - name: latency
    objective: 99
    sli:
      latency:
        metric: http_request_duration_seconds
        selector: '{job="payments"}'
        threshold: 0.25
        buckets: [0.1, 0.25, 0.5]
        min_events: 10
    alerting:
      name: PaymentsLatency
---
# a second service in the same file
version: prometheus/v1
service: ledger
slos:
  - name: writes
    objective: 99.5
    sli:
      ratio:
        errors: ledger_writes_failed_total
        total: ledger_writes_total{job="ledger"}
    alerting: {page_alert: {disable: true}, ticket_alert: {disable: true}}
`

const k8sSpec = `apiVersion: sloth.slok.dev/v1
kind: PrometheusServiceLevel
metadata:
  name: checkout
  namespace: team-checkout
  labels: {owner: checkout}
spec:
  service: checkout-web
  slos:
    - name: latency
      objective: 99
      sli:
        latency:
          metric: http_request_duration_seconds
          threshold: 1
          minEvents: 5
      alerting:
        name: CheckoutLatency
        pageAlert: {for: 1m, labels: {team: checkout}}
        ticketAlert: {disable: true}
        absentAlert: {name: CheckoutNoData, for: 15m}
`

func TestLoadSlothFormatsAndExtensions(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "a/payments.yaml", promSpecs)
	write(t, dir, "b/checkout.yml", k8sSpec)
	write(t, dir, "b/README.md", "not a spec")
	write(t, dir, ".git/HEAD.yaml", "not: a spec")
	set, ps, err := spec.Load(dir)
	if err != nil {
		t.Fatalf("%v\n%v", err, ps)
	}
	var ids []string
	for _, s := range set.SLOs() {
		ids = append(ids, s.ID+"/"+s.SLI.Kind())
	}
	if want := []string{"payments-api-availability/events", "payments-api-latency/latency", "ledger-writes/ratio", "checkout-web-latency/latency"}; !slices.Equal(ids, want) {
		t.Fatalf("SLOs %v, want %v", ids, want)
	}
	slos := set.SLOs()
	av := slos[0]
	if av.Labels["team"] != "payments" || av.Labels["tier"] != "1" || av.Alerting.Page.For != 2*time.Minute || av.Alerting.Absent == nil || av.Alerting.Absent.Name != "PaymentsAvailabilityNoData" {
		t.Errorf("availability: %+v", av)
	}
	if !strings.HasSuffix(av.Pos, "payments.yaml:6:5") {
		t.Errorf("position %s", av.Pos)
	}
	if len(ps) != 0 {
		t.Errorf("problems %v", ps)
	}
	if l := slos[1].SLI.Latency; l.Threshold != 0.25 || l.MinEvents != 10 || l.Selector != `{job="payments"}` || len(l.Buckets) != 3 {
		t.Errorf("latency: %+v", l)
	}
	if r := slos[2].SLI.Ratio; r.Total != `ledger_writes_total{job="ledger"}` {
		t.Errorf("ratio: %+v", r)
	}
	k := set.Documents[2]
	if k.Format != spec.FormatKubernetes || k.Name != "checkout" || k.Namespace != "team-checkout" || k.Labels["owner"] != "checkout" {
		t.Errorf("manifest metadata: %+v", k)
	}
	c := slos[3]
	if c.SLI.Latency.MinEvents != 5 || c.Alerting.Page.For != time.Minute || c.Alerting.Absent.Name != "CheckoutNoData" || c.Alerting.Absent.For != 15*time.Minute || c.Alerting.Page.Labels["team"] != "checkout" {
		t.Errorf("manifest SLO: %+v", c)
	}
	if c.Key("sli.latency", "min_events") != "spec.slos[0].sli.latency.minEvents" {
		t.Errorf("key %s", c.Key("sli.latency", "min_events"))
	}
}

// Every mistake the issue lists, and the others validation knows, is
// reported at once with file, line, column, key path and SLO ID.
func TestValidationReportsEveryProblemWithItsPosition(t *testing.T) {
	f := write(t, t.TempDir(), "bad.yaml", `version: prometheus/v1
service: payments
slos:
  - name: no-window
    objective: 99.9
    sli:
      events:
        error_query: sum(rate(errors_total[5m]))
        total_query: sum(rate(requests_total[{{.window}}]))
    alerting: {name: A}
  - name: bad-promql
    objective: 101
    sli:
      raw:
        error_ratio_query: sum(rate(errors_total[{{.window}}]) /
    alerting: {name: A}
  - name: same-queries
    objective: 100
    sli:
      events:
        error_query: sum(rate(requests_total[{{.window}}]))
        total_query: "sum( rate(requests_total[{{ .window }}]) )"
    alerting: {name: A, page_alert: {for: soon}}
  - name: no-window
    objective: 99
    labels: {sloth_id: mine, "bad-label": x}
    sli:
      latency: {metric: h_seconds_bucket, threshold: 0.2, buckets: [0.1, 0.25]}
      ratio: {errors: a_total, total: b_total}
    alerting: {name: A}
  - name: plugin
    objective: 99
    sli:
      plugin: {id: sloth-common/availability}
    alerting:
      nmae: A
  - name: ratio
    objective: 99
    sli:
      ratio: {errors: 'x_total{a="b"}', total: '{__name__="x_total", a="b"}', min_events: -1}
    alerting: {page_alert: {disable: true}, ticket_alert: {disable: true}, absent_alert: {}}
`)
	_, ps, err := spec.Load(f)
	if err == nil {
		t.Fatal("invalid spec loaded")
	}
	want := []string{
		f + ":8:9: slos[0].sli.events.error_query (SLO payments-no-window): has no {{.window}} placeholder",
		f + ":12:5: slos[1].objective (SLO payments-bad-promql): 101 is out of range",
		f + ":15:9: slos[1].sli.raw.error_ratio_query (SLO payments-bad-promql): is not valid PromQL",
		f + ":18:5: slos[2].objective (SLO payments-same-queries): 100 leaves no error budget",
		f + ":21:9: slos[2].sli.events.error_query (SLO payments-same-queries): is the same query as total_query",
		f + ":23:38: slos[2].alerting.page_alert.for (SLO payments-same-queries): \"soon\" is not a duration",
		f + ":24:5: slos[3].name (SLO payments-no-window): SLO ID payments-no-window is already defined at " + f + ":4:5",
		f + ":26:14: slos[3].labels.sloth_id (SLO payments-no-window): sloth_id is set by the generator",
		f + ":26:30: slos[3].labels.bad-label (SLO payments-no-window): \"bad-label\" is not a valid label name",
		f + ":27:5: slos[3].sli (SLO payments-no-window): has several SLI kinds: latency, ratio",
		f + ":34:7: slos[4].sli.plugin (SLO payments-plugin): Sloth SLI plugins are not supported",
		f + ":35:5: slos[4].alerting (SLO payments-plugin): has no name",
		f + ":36:7: slos[4].alerting.nmae: unknown key",
		`did you mean "name"?`,
		f + ":40:15: slos[5].sli.ratio.errors (SLO payments-ratio): is the same selector as total",
		f + ":40:79: slos[5].sli.ratio.min_events (SLO payments-ratio): must be zero or a positive number",
		f + ":41:76: slos[5].alerting.absent_alert (SLO payments-ratio): has no name",
	}
	out := ps.Err().Error()
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("missing %q", w)
		}
	}
	if t.Failed() {
		t.Logf("problems:\n%s", out)
	}
	latency := write(t, t.TempDir(), "latency.yaml", `version: prometheus/v1
service: s
slos:
  - name: l
    objective: 99
    sli:
      latency: {metric: h_seconds_bucket, selector: '{le="0.2"}', threshold: 0.2, buckets: [0.1, 0.25, 0.2]}
    alerting: {name: A}
`)
	_, ps, _ = spec.Load(latency)
	out = ps.Err().Error()
	for _, w := range []string{
		`"h_seconds_bucket" names one series of the histogram (fix: give its base name: metric: h_seconds)`,
		"matches on le, which the generator sets",
		"buckets are not in increasing order",
	} {
		if !strings.Contains(out, w) {
			t.Errorf("missing %q in\n%s", w, out)
		}
	}
	latency = write(t, t.TempDir(), "latency.yaml", `version: prometheus/v1
service: s
slos:
  - name: l
    objective: 99
    sli:
      latency: {metric: h_seconds, threshold: 0.2, buckets: [0.1, 0.25, 1]}
    alerting: {name: A}
`)
	_, ps, _ = spec.Load(latency)
	if out := ps.Err().Error(); !strings.Contains(out, "0.2 is not one of the histogram's bucket boundaries [0.1, 0.25, 1] (fix: use a boundary, e.g. 0.25, or add 0.2") {
		t.Errorf("threshold not a boundary: %s", out)
	}
}

// Sloth's own validation corpus: every "bad" file fails on its marked
// line. The "good" files fail too, on keys Sloth silently ignores:
// good-aa.yaml writes pageAlert in a prometheus/v1 spec, whose labels Sloth
// then drops without a word.
func TestSlothValidationCorpus(t *testing.T) {
	dir := filepath.Join(slothsrc.Dir(t), "test/integration/prometheus/testdata/validate")
	bad := map[string]string{
		"bad-aa.yaml":        ":28:5: slos[1].objective (SLO svc01-slo02): 101 is out of range",
		"bad-ab.yaml":        ":28:5: slos[1].objective (SLO svc01-slo02): 101 is out of range",
		"bad-ba.yaml":        ":28:5: slos[1].objective (SLO svc01-slo02): 101 is out of range",
		"bad-k8s.yaml":       ":7:3: spec.service: is missing",
		"bad-multi.yaml":     ":77:5: slos[1].sli (SLO svc02-slo02): has no SLI",
		"bad-multi-k8s.yaml": ":21:7: spec.slos[0].alerting (SLO svc01-slo1): has no name",
		"bad-openslo.yaml":   ":1:1: apiVersion: OpenSLO documents are not supported",
	}
	for name, want := range bad {
		_, ps, err := spec.Load(filepath.Join(dir, "bad", name))
		if err == nil || !strings.Contains(err.Error(), name+want) {
			t.Errorf("%s: error %v, want %q", name, err, want)
		}
		_ = ps
	}
	for _, name := range []string{"good-aa.yaml", "good-ab.yaml", "good-ba.yaml"} {
		_, ps, _ := spec.Load(filepath.Join(dir, "good", name))
		if len(ps) != 2 || !strings.Contains(ps[0].String(), `slos[0].alerting.pageAlert: unknown key`) || !strings.Contains(ps[0].String(), `did you mean "page_alert"?`) {
			t.Errorf("%s: %v", name, ps)
		}
	}
	for _, name := range []string{"good-k8s.yaml", "good-multi.yaml", "good-multi-k8s.yaml"} {
		if _, ps, err := spec.Load(filepath.Join(dir, "good", name)); err != nil {
			t.Errorf("%s: %v", name, ps)
		}
	}
}

// Inputs Tollgate refuses by design, each with the reason and a way out.
func TestUnsupportedSlothInputs(t *testing.T) {
	dir := filepath.Join(slothsrc.Dir(t), "test/integration/prometheus/testdata")
	for file, want := range map[string]string{
		// Sloth v0.12's in-plugin.yaml, renamed in v0.16.
		"in-sli-plugin.yaml":      "Sloth SLI plugins are not supported",
		"in-openslo.yaml":         "OpenSLO documents are not supported",
		"in-invalid-version.yaml": `unsupported spec version "prometheus/v999"`,
		// SLO plugins of Sloth's integration tests, given as Go source.
		"in-slo-plugin.yaml":                        `"integration-tests/plugin1" is not a built-in plugin: Tollgate does not run plugins given as Go source (Sloth's --plugins-path)`,
		"in-slo-plugin-k8s.yaml":                    `"integration-tests/plugin1" is not a built-in plugin`,
		"../../../../examples/victoria-metrics.yml": "sloth.dev/contrib/validate_victoria_metrics/v1 is not supported: Tollgate writes PromQL",
		// Label names with dashes need Prometheus 3's UTF-8 names.
		"../../../../examples/contrib-slo-plugins.yml": `slos[0].plugins.chain[0].config.labels.plug-l1 (SLO myservice-requests-availability-contrib-plugin-info-labels-v1): "plug-l1" is not a valid label name`,
	} {
		_, ps, err := spec.Load(filepath.Join(dir, file))
		if err == nil || !strings.Contains(err.Error(), want) || ps[0].Fix == "" {
			t.Errorf("%s: %v", file, ps)
		}
	}
	windows := filepath.Join(slothsrc.Dir(t), "examples/windows/7d.yaml")
	if _, _, err := spec.Load(windows); err == nil || !strings.Contains(err.Error(), "pass alert windows with --windows") {
		t.Errorf("windows file as spec: %v", err)
	}
}

func TestSyntaxAndTypeErrorsHaveLines(t *testing.T) {
	dir := t.TempDir()
	for name, c := range map[string]struct{ content, want string }{
		"syntax.yaml": {"version: prometheus/v1\nservice: s\nslos:\n  - name: [\n", "syntax.yaml:4"},
		"type.yaml":   {"version: prometheus/v1\nservice: s\nslos:\n  - name: a\n    objective: high\n", "type.yaml:5: (document): cannot unmarshal !!str `high` into float64"},
		"k8s.yaml":    {"apiVersion: sloth.slok.dev/v1\nkind: PrometheusServiceLevel\nmetadata: {name: x}\nspec:\n  service: s\n  labels: {tier: 1}\n  slos:\n    - name: a\n      objective: \"99\"\n", "k8s.yaml:6:12: spec.labels.tier: 1 is not a string (fix: quote it"},
	} {
		_, ps, err := spec.Load(write(t, dir, name, c.content))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", name, ps, c.want)
		}
		if name == "k8s.yaml" && !strings.Contains(err.Error(), `k8s.yaml:9:7: spec.slos[0].objective: "99" is not a number`) {
			t.Errorf("k8s objective: %v", err)
		}
	}
}

func TestProblemsAreSortedByLine(t *testing.T) {
	_, ps, _ := spec.Load(write(t, t.TempDir(), "x.yaml", "version: prometheus/v1\nservice: \"bad name\"\nslos: []\nzzz: 1\n"))
	var lines []int
	for _, p := range ps {
		lines = append(lines, p.Line)
	}
	if !slices.IsSorted(lines) || len(ps) != 3 {
		t.Errorf("problems %v", problem.List(ps))
	}
}

// A page that waits longer than its ticket lets the ticket out first, and
// Alertmanager cannot inhibit what it has already sent: warned, not
// refused.
func TestPageSlowerThanTicketWarns(t *testing.T) {
	f := write(t, t.TempDir(), "s.yaml", strings.Replace(promSpecs, "ticket_alert: {disable: true}", "ticket_alert: {for: 30s}", 1))
	_, ps, err := spec.Load(f)
	if err != nil || len(ps) != 1 || ps[0].Severity != problem.SeverityWarning ||
		!strings.Contains(ps[0].String(), "s.yaml:15:20: warning: slos[0].alerting.page_alert.for (SLO payments-api-availability): the page waits 2m, the ticket 30s") {
		t.Errorf("%v %v", err, ps)
	}
}
