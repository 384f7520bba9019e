package lint_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/dashboards/lint"
)

// broken has one of every problem the linter knows, each in its own panel
// or target so that the test can tell they are reported one by one.
const broken = `{
  "uid": "this-uid-is-much-longer-than-the-forty-characters-grafana-allows",
  "title": "Broken",
  "templating": {"list": [
    {"name": "namespace", "type": "query", "datasource": "Prometheus",
     "query": "label_values(up{job=~\"$job\"}, namespace)",
     "current": {"text": "All", "value": ["$__all"]}, "allValue": ".+"}
  ]},
  "panels": [
    {"id": 1, "type": "timeseries", "title": "Fixed rate", "description": "d",
     "datasource": "Prometheus",
     "fieldConfig": {"defaults": {"unit": "reqps"}, "overrides": []},
     "targets": [{"refId": "A", "expr": "sum(rate(http_requests_total{namespace=~\"$namespace\"}[5m]))"}]},
    {"id": 2, "type": "timeseries", "title": "", "targets": [{"refId": "A", "expr": "up"}]},
    {"id": 2, "type": "stat", "title": "Does not parse", "description": "d",
     "fieldConfig": {"defaults": {"unit": "none"}, "overrides": []},
     "targets": [{"refId": "B", "expr": "sum(rate(x[$__rate_interval])"}]},
    {"id": 4, "type": "timeseries", "title": "Typo", "description": "d",
     "fieldConfig": {"defaults": {"unit": "s"}, "overrides": []},
     "targets": [{"refId": "A", "expr": "rate(x{ns=\"$namesapce\"}[$__rate_interval])"}]},
    {"id": 5, "type": "row", "title": "Collapsed", "collapsed": true, "panels": [
      {"id": 6, "type": "timeseries", "title": "Logs", "description": "d",
       "datasource": {"type": "loki", "uid": "loki-direct"},
       "fieldConfig": {"defaults": {"unit": "short"}, "overrides": []},
       "targets": [
         {"refId": "A", "expr": "sum(count_over_time({namespace=~\"$namespace\"} |= \"error\" [5m]))"},
         {"refId": "B", "expr": "sum(count_over_time({namespace=~\"$namespace\" [5m]))"}
       ]}
    ]},
    {"id": 7, "type": "stat", "title": "Empty", "description": "d", "targets": []}
  ]
}`

func TestLintReportsEachProblem(t *testing.T) {
	got := lint.Lint("broken.json", []byte(broken))
	var lines []string
	for _, p := range got {
		lines = append(lines, p.String())
	}
	t.Logf("problems:\n%s", strings.Join(lines, "\n"))
	want := []struct{ rule, where, contains string }{
		{lint.RuleUID, "", "64 characters"},
		{lint.RuleSchemaVersion, "", "schemaVersion is missing"},
		{lint.RuleDatasourceVar, "", "no data source variable"},
		{lint.RuleUndefinedVar, `variable "namespace"`, "$job"},
		{lint.RuleRateInterval, `panel "Fixed rate" (id 1) target A`, "fixed [5m]"},
		{lint.RulePanelDS, `panel "Fixed rate" (id 1) target A`, `"Prometheus"`},
		{lint.RuleTitle, `panel "" (id 2)`, "no title"},
		{lint.RuleDescription, `panel "" (id 2)`, "no description"},
		{lint.RuleUnit, `panel "" (id 2)`, "no unit"},
		{lint.RulePanelID, `panel "Does not parse" (id 2)`, "id 2 is also"},
		{lint.RulePanelDS, `panel "Does not parse" (id 2) target B`, "default data source"},
		{lint.RulePromQL, `panel "Does not parse" (id 2) target B`, "neither as PromQL nor as LogQL"},
		{lint.RuleUndefinedVar, `panel "Typo" (id 4) target A`, "$namesapce"},
		{lint.RulePanelDS, `panel "Logs" (id 6) target A`, "loki-direct"},
		{lint.RuleLogRange, `panel "Logs" (id 6) target A`, "[5m]"},
		{lint.RuleNoTargets, `panel "Empty" (id 7)`, "no query"},
	}
	for _, w := range want {
		found := slices.ContainsFunc(got, func(p lint.Problem) bool {
			return p.Rule == w.rule && p.Where == w.where && strings.Contains(p.Msg, w.contains) && p.File == "broken.json"
		})
		if !found {
			t.Errorf("missing [%s] at %q containing %q", w.rule, w.where, w.contains)
		}
	}
	// A target of a prometheus data source is parsed as PromQL only.
	typed := strings.Replace(broken, `"targets": [{"refId": "B"`, `"datasource": {"type": "prometheus", "uid": "p"}, "targets": [{"refId": "B"`, 1)
	if !slices.ContainsFunc(lint.Lint("typed.json", []byte(typed)), func(p lint.Problem) bool {
		return p.Rule == lint.RulePromQL && strings.Contains(p.Msg, "does not parse once")
	}) {
		t.Error("an unparsable PromQL target of a prometheus data source is not reported")
	}
}

// A dashboard with a data source variable: the variable's type decides
// the language of every target reading through it.
const viaVariable = `{
  "uid": "ok", "schemaVersion": 39,
  "templating": {"list": [
    {"name": "datasource", "type": "datasource", "query": "prometheus", "current": {"value": "p"}},
    {"name": "logs", "type": "datasource", "query": "loki", "current": {"value": "l"}},
    {"name": "ns", "type": "query", "datasource": {"type": "prometheus", "uid": "${datasource}"},
     "query": "label_values(up{namespace=~\"a|b\"}, namespace)", "current": {"value": ["a", "b"]}, "multi": true}
  ]},
  "panels": [
    {"id": 1, "type": "timeseries", "title": "Rate", "description": "d",
     "datasource": {"type": "prometheus", "uid": "${datasource}"},
     "fieldConfig": {"defaults": {"unit": "reqps"}, "overrides": []},
     "targets": [
       {"refId": "A", "expr": "sum(rate(x{namespace=~\"$ns\"}[$__rate_interval])) / sum(increase(y[$__range]))"},
       {"refId": "B", "expr": "sum(label_replace(x, \"c\", \"${1}xx\", \"code\", \"([0-9]).\"))"},
       {"refId": "C", "expr": "sum(rate(x[$__rate_interval]) "}
     ]},
    {"id": 2, "type": "timeseries", "title": "Logs", "description": "d",
     "datasource": {"type": "loki", "uid": "$logs"},
     "fieldConfig": {"defaults": {"unit": "short"}, "overrides": []},
     "targets": [
       {"refId": "A", "expr": "sum by (level) (count_over_time({namespace=~\"${ns:regex}\"} | logfmt [$__auto]))"},
       {"refId": "B", "expr": "sum(count_over_time({namespace=~\"$ns\" [$__auto]))"}
     ]}
  ]
}`

func TestLintThroughVariables(t *testing.T) {
	got := lint.Lint("vars.json", []byte(viaVariable))
	var rules []string
	for _, p := range got {
		rules = append(rules, p.Where+" "+p.Rule)
	}
	want := []string{`panel "Rate" (id 1) target C promql`, `panel "Logs" (id 2) target B logql`}
	if !slices.Equal(rules, want) {
		t.Errorf("problems %v, want %v:\n%v", rules, want, got)
	}
}

func TestExpand(t *testing.T) {
	vars := map[string]string{"ns": "(a|b)", "__rate_interval": "2m"}
	for in, want := range map[string]string{
		`rate(x{n=~"$ns"}[$__rate_interval])`:     `rate(x{n=~"(a|b)"}[2m])`,
		`x{n=~"${ns}", m=~"${ns:regex}"}`:         `x{n=~"(a|b)", m=~"(a|b)"}`,
		`x{n=~"[[ns]]"}`:                          `x{n=~"(a|b)"}`,
		`label_replace(x, "c", "${1}xx", "code")`: `label_replace(x, "c", "${1}xx", "code")`,
		`x{n="$unknown"}`:                         `x{n="$unknown"}`,
	} {
		if got := lint.Expand(in, vars); got != want {
			t.Errorf("Expand(%s) = %s, want %s", in, got, want)
		}
	}
	if got := lint.References(`x{a="$ns", b="${1}", c="$__range", d="[[other]]"}`); !slices.Equal(got, []string{"ns", "other"}) {
		t.Errorf("References = %v", got)
	}
}

func TestLintAcceptsAPIExportAndRejectsJunk(t *testing.T) {
	wrapped := `{"dashboard": ` + viaVariable + `, "meta": {"folderUid": "x"}}`
	if n := len(lint.Lint("export.json", []byte(wrapped))); n != 2 {
		t.Errorf("the API's export format: %d problems, want the same 2", n)
	}
	got := lint.Lint("junk.json", []byte("[1, 2"))
	if len(got) != 1 || got[0].Rule != lint.RuleJSON {
		t.Errorf("junk: %v", got)
	}
}
