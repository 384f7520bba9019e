// Package lint checks Grafana dashboard JSON: every PromQL and LogQL
// target parses once Grafana's variables are substituted, rates use
// $__rate_interval and log ranges $__auto, panels have a title, a
// description and a unit, panels read through a data source variable, and
// the dashboard's UID, schema version and panel IDs are what Grafana
// expects. It reads any dashboard, generated or not, as plain JSON:
// grafana-tools/sdk's Board cannot decode many modern dashboards.
package lint

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/tollgate-dev/tollgate/logql"
	"github.com/tollgate-dev/tollgate/logqlenforce"
	"github.com/tollgate-dev/tollgate/promenforce"
)

// Rules, as they appear in problems.
const (
	RuleJSON           = "json"
	RuleUID            = "uid"
	RuleSchemaVersion  = "schema-version"
	RulePanelID        = "panel-id"
	RuleDatasourceVar  = "datasource-variable"
	RulePanelDS        = "panel-datasource"
	RuleTitle          = "panel-title"
	RuleDescription    = "panel-description"
	RuleUnit           = "panel-unit"
	RulePromQL         = "promql"
	RuleLogQL          = "logql"
	RuleRateInterval   = "rate-interval"
	RuleLogRange       = "logql-range"
	RuleUndefinedVar   = "undefined-variable"
	RuleVariableQuery  = "variable-query"
	RuleNoTargets      = "panel-targets"
	maxUID             = 40
	maxQueryLen        = 64 << 10
	rateIntervalMarker = "__rate_interval"
)

// Problem is one finding.
type Problem struct {
	File string
	// Where is the panel, target or variable, empty for the dashboard.
	Where string
	Rule  string
	Msg   string
}

func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	b.WriteString(": ")
	if p.Where != "" {
		b.WriteString(p.Where)
		b.WriteString(": ")
	}
	b.WriteString("[" + p.Rule + "] ")
	b.WriteString(p.Msg)
	return b.String()
}

// Panel types whose values need a unit to be read right.
var unitPanels = []string{"timeseries", "graph", "stat", "singlestat", "gauge", "bargauge", "table", "barchart"}

// Functions whose range should follow Grafana's scrape-aware interval.
var rateFuncs = []string{"rate", "irate", "increase"}

// Sentinel ranges stand for $__rate_interval and $__range while a query
// is parsed, so that the AST tells them from fixed durations.
var (
	rateSentinel  = 13*time.Hour + 37*time.Minute + 13*time.Second + 37*time.Millisecond
	rangeSentinel = 17*time.Hour + 17*time.Minute + 17*time.Second + 17*time.Millisecond
	autoSentinel  = 19*time.Hour + 19*time.Minute + 19*time.Second + 19*time.Millisecond
)

var uidRE = regexp.MustCompile(`^[a-zA-Z0-9_-]+$`)

// Lint checks one dashboard. name is used in problems. A dashboard as the
// API returns it ({"dashboard": ..., "meta": ...}) is accepted too.
func Lint(name string, data []byte) []Problem {
	l := &linter{file: name, vars: map[string]variable{}, parser: promenforce.New().Parser()}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var d map[string]any
	if err := dec.Decode(&d); err != nil {
		l.add("", RuleJSON, "is not a JSON object: "+err.Error())
		return l.problems
	}
	if inner, ok := d["dashboard"].(map[string]any); ok {
		d = inner
	}
	l.dashboard(d)
	return l.problems
}

type linter struct {
	file     string
	vars     map[string]variable
	problems []Problem
	parser   parser.Parser
}

// variable is what the linter needs of a template variable.
type variable struct {
	typ   string // query, datasource, custom, interval, constant, textbox, ...
	query string // for datasource variables: the plugin type
	value string // what it expands to while linting
}

func (l *linter) add(where, rule, msg string) {
	l.problems = append(l.problems, Problem{File: l.file, Where: where, Rule: rule, Msg: msg})
}

func (l *linter) dashboard(d map[string]any) {
	if uid, ok := d["uid"].(string); ok {
		switch {
		case len(uid) > maxUID:
			l.add("", RuleUID, fmt.Sprintf("uid %q is %d characters long; Grafana accepts at most %d", uid, len(uid), maxUID))
		case uid != "" && !uidRE.MatchString(uid):
			l.add("", RuleUID, fmt.Sprintf("uid %q has characters other than letters, digits, '-' and '_'", uid))
		}
	}
	sv, _ := d["schemaVersion"].(json.Number)
	if v, _ := sv.Int64(); v == 0 {
		l.add("", RuleSchemaVersion, "schemaVersion is missing or 0: Grafana migrates the dashboard through every schema since Grafana 2 on load, or refuses it; set the version the dashboard was written for (e.g. 39)")
	}
	l.variables(d)
	ids := map[string]string{}
	for _, p := range panels(d) {
		where := panelWhere(p)
		if id, ok := p["id"].(json.Number); ok {
			if prev, dup := ids[id.String()]; dup {
				l.add(where, RulePanelID, fmt.Sprintf("id %s is also the id of %s; Grafana needs panel ids unique per dashboard", id, prev))
			}
			ids[id.String()] = where
		}
		l.panel(p, where)
	}
}

// panels returns every panel, those inside collapsed rows included.
func panels(d map[string]any) []map[string]any {
	var out []map[string]any
	var walk func(list any)
	walk = func(list any) {
		ps, _ := list.([]any)
		for _, p := range ps {
			pm, ok := p.(map[string]any)
			if !ok {
				continue
			}
			out = append(out, pm)
			walk(pm["panels"])
		}
	}
	walk(d["panels"])
	return out
}

func panelWhere(p map[string]any) string {
	title, _ := p["title"].(string)
	if id, ok := p["id"].(json.Number); ok {
		return fmt.Sprintf("panel %q (id %s)", title, id)
	}
	return fmt.Sprintf("panel %q", title)
}

func (l *linter) variables(d map[string]any) {
	t, _ := d["templating"].(map[string]any)
	list, _ := t["list"].([]any)
	hasDS := false
	var queries []map[string]any
	for _, v := range list {
		vm, ok := v.(map[string]any)
		if !ok {
			continue
		}
		name, _ := vm["name"].(string)
		typ, _ := vm["type"].(string)
		q := queryString(vm["query"])
		if typ == "datasource" {
			hasDS = true
		}
		l.vars[name] = variable{typ: typ, query: q, value: lintValue(vm)}
		if typ == "query" {
			queries = append(queries, vm)
		}
	}
	if !hasDS {
		l.add("", RuleDatasourceVar, "the dashboard has no data source variable; add one (type datasource) and read every panel through it, so that the dashboard follows the data source its viewer picks")
	}
	for _, vm := range queries {
		name, _ := vm["name"].(string)
		where := fmt.Sprintf("variable %q", name)
		q := queryString(vm["query"])
		l.undefined(where, q)
		if typ := l.dsType(vm["datasource"]); typ == "prometheus" || typ == "" {
			l.variableQuery(where, q)
		}
	}
}

// queryString is a variable's query: a string, or the query field of the
// object newer Grafana versions write.
func queryString(q any) string {
	switch v := q.(type) {
	case string:
		return v
	case map[string]any:
		s, _ := v["query"].(string)
		return s
	}
	return ""
}

// lintValue is what a variable stands for while linting: its current
// value, a multi-value selection as Grafana formats it for Prometheus
// ("(a|b)"), "All" as the variable's allValue (else ".*").
func lintValue(vm map[string]any) string {
	cur, _ := vm["current"].(map[string]any)
	var vals []string
	switch v := cur["value"].(type) {
	case string:
		vals = []string{v}
	case []any:
		for _, x := range v {
			if s, ok := x.(string); ok {
				vals = append(vals, s)
			}
		}
	}
	if slices.Contains(vals, "$__all") {
		if a, _ := vm["allValue"].(string); a != "" {
			return a
		}
		return ".*"
	}
	switch len(vals) {
	case 0:
		if q := queryString(vm["query"]); vm["type"] == "constant" || vm["type"] == "textbox" || vm["type"] == "interval" {
			return strings.Split(q, ",")[0]
		}
		return "lint"
	case 1:
		return vals[0]
	}
	return "(" + strings.Join(vals, "|") + ")"
}

// labelValuesRE and friends are the Prometheus data source's variable
// query functions.
var (
	labelValuesRE = regexp.MustCompile(`^\s*label_values\((?:(.+),\s*)?([a-zA-Z_]\w*)\)\s*$`)
	queryResultRE = regexp.MustCompile(`^\s*query_result\((.+)\)\s*$`)
)

func (l *linter) variableQuery(where, q string) {
	var expr string
	if m := labelValuesRE.FindStringSubmatch(q); m != nil {
		expr = m[1]
	} else if m := queryResultRE.FindStringSubmatch(q); m != nil {
		expr = m[1]
	}
	if expr == "" {
		return
	}
	if _, err := l.parser.ParseExpr(Expand(expr, l.values(nil))); err != nil {
		l.add(where, RuleVariableQuery, fmt.Sprintf("%s does not parse once variables are substituted: %v", q, oneLine(err)))
	}
}

// values are the substitutions while linting: every variable's lint value
// and the built-ins, with sentinels where the AST must tell them apart.
func (l *linter) values(sentinels map[string]string) map[string]string {
	vs := Builtins()
	for name, v := range l.vars {
		vs[name] = v.value
	}
	for k, v := range sentinels {
		vs[k] = v
	}
	return vs
}

func (l *linter) undefined(where, expr string) {
	for _, n := range References(expr) {
		if _, ok := l.vars[n]; !ok {
			l.add(where, RuleUndefinedVar, fmt.Sprintf("$%s is not a variable of this dashboard (nor a Grafana built-in); Grafana would send it as written", n))
		}
	}
}

func (l *linter) panel(p map[string]any, where string) {
	typ, _ := p["type"].(string)
	if typ == "row" {
		return
	}
	ts, _ := p["targets"].([]any)
	if len(ts) == 0 {
		if slices.Contains(unitPanels, typ) {
			l.add(where, RuleNoTargets, "has no query")
		}
		return
	}
	if title, _ := p["title"].(string); strings.TrimSpace(title) == "" {
		l.add(where, RuleTitle, "has no title")
	}
	if desc, _ := p["description"].(string); strings.TrimSpace(desc) == "" {
		l.add(where, RuleDescription, "has no description; say what the panel shows and where its numbers come from (it appears as the panel's (i) tooltip)")
	}
	if slices.Contains(unitPanels, typ) && !hasUnit(p) {
		l.add(where, RuleUnit, "has no unit; set fieldConfig.defaults.unit (reqps, percentunit, s, bytes, currencyUSD, none, ...) so that values read right")
	}
	pds := p["datasource"]
	panelType := l.dsType(pds)
	for _, t := range ts {
		tm, ok := t.(map[string]any)
		if !ok {
			continue
		}
		ref, _ := tm["refId"].(string)
		tw := where + " target " + ref
		ds, typ := tm["datasource"], l.dsType(tm["datasource"])
		if ds == nil {
			ds, typ = pds, panelType
		}
		if !l.viaVariable(ds) {
			l.add(tw, RulePanelDS, fmt.Sprintf("reads data source %s directly; use the data source variable (${datasource}) so that the dashboard follows the viewer's choice", describe(ds)))
		}
		expr, _ := tm["expr"].(string)
		if expr == "" {
			continue
		}
		l.undefined(tw, expr)
		switch typ {
		case "prometheus":
			l.promql(tw, expr)
		case "loki":
			l.logql(tw, expr)
		case "":
			// A data source named rather than typed (dashboards before
			// Grafana 8.3): the language is the one the query parses in.
			l.guess(tw, expr)
		}
	}
}

func hasUnit(p map[string]any) bool {
	fc, _ := p["fieldConfig"].(map[string]any)
	def, _ := fc["defaults"].(map[string]any)
	if u, _ := def["unit"].(string); u != "" {
		return true
	}
	overrides, _ := fc["overrides"].([]any)
	for _, o := range overrides {
		om, _ := o.(map[string]any)
		props, _ := om["properties"].([]any)
		for _, pr := range props {
			if pm, _ := pr.(map[string]any); pm["id"] == "unit" {
				return true
			}
		}
	}
	// Graph and singlestat panels of dashboards before Grafana 7.
	if f, _ := p["format"].(string); f != "" {
		return true
	}
	if ys, _ := p["yaxes"].([]any); len(ys) > 0 {
		if y, _ := ys[0].(map[string]any); y["format"] != nil && y["format"] != "" {
			return true
		}
	}
	return false
}

// dsType is the plugin type of a data source reference: its type, or the
// type of the data source variable it names; "" when unknown.
func (l *linter) dsType(ds any) string {
	switch v := ds.(type) {
	case map[string]any:
		if t, _ := v["type"].(string); t != "" && !strings.Contains(t, "$") {
			return t
		}
		uid, _ := v["uid"].(string)
		return l.varType(uid)
	case string:
		return l.varType(v)
	}
	return ""
}

func (l *linter) varType(ref string) string {
	if m := variableRE.FindStringSubmatch(ref); m != nil && m[0] == ref {
		if v, ok := l.vars[varName(m)]; ok && v.typ == "datasource" {
			return v.query
		}
	}
	return ""
}

// viaVariable reports whether a data source reference names a data source
// variable, or one of Grafana's built-in sources.
func (l *linter) viaVariable(ds any) bool {
	var ref, typ string
	switch v := ds.(type) {
	case map[string]any:
		ref, _ = v["uid"].(string)
		typ, _ = v["type"].(string)
	case string:
		ref = v
	case nil:
		return false
	}
	switch {
	case ref == "-- Mixed --" || ref == "-- Grafana --" || ref == "-- Dashboard --" || typ == "datasource" || typ == "grafana":
		return true
	case l.varType(ref) != "":
		return true
	}
	return false
}

func describe(ds any) string {
	if ds == nil {
		return "(none: the default data source)"
	}
	b, _ := json.Marshal(ds)
	return string(b)
}

// guess checks a query of unknown language as PromQL when it parses as
// PromQL, else as LogQL when it parses as LogQL, else reports it.
func (l *linter) guess(where, expr string) {
	q := Expand(expr, l.values(nil))
	if _, err := l.parser.ParseExpr(q); err == nil {
		l.promql(where, expr)
		return
	}
	if _, err := logql.ParseExpr(q); err == nil && len(q) <= maxQueryLen {
		l.logql(where, expr)
		return
	}
	l.add(where, RulePromQL, fmt.Sprintf("parses neither as PromQL nor as LogQL once variables are substituted (query: %s)", oneLine(q)))
}

func (l *linter) promql(where, expr string) {
	q := Expand(expr, l.values(map[string]string{
		rateIntervalMarker: model.Duration(rateSentinel).String(),
		"__range":          model.Duration(rangeSentinel).String(),
	}))
	e, err := l.parser.ParseExpr(q)
	if err != nil {
		l.add(where, RulePromQL, fmt.Sprintf("does not parse once variables are substituted: %v (query: %s)", oneLine(err), oneLine(q)))
		return
	}
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		call, ok := n.(*parser.Call)
		if !ok || !slices.Contains(rateFuncs, call.Func.Name) || len(call.Args) == 0 {
			return nil
		}
		var rng time.Duration
		switch a := call.Args[0].(type) {
		case *parser.MatrixSelector:
			if a.RangeExpr == nil {
				rng = a.Range
			}
		case *parser.SubqueryExpr:
			if a.RangeExpr == nil {
				rng = a.Range
			}
		}
		if rng == rateSentinel || call.Func.Name == "increase" && rng == rangeSentinel {
			return nil
		}
		l.add(where, RuleRateInterval, fmt.Sprintf("%s() over %s: use [$__rate_interval], which Grafana keeps at least four scrape intervals wide whatever the zoom (increase may also use [$__range])",
			call.Func.Name, describeRange(rng)))
		return nil
	})
}

func describeRange(d time.Duration) string {
	switch d {
	case 0:
		return "a computed range"
	case rangeSentinel:
		return "[$__range]"
	}
	return "a fixed [" + model.Duration(d).String() + "]"
}

// lintMatcher stands for the tenant matcher while a LogQL query goes
// through the proxy's own parse-and-validate path.
var lintMatcher = labels.MustNewMatcher(labels.MatchEqual, "tollgate_lint", "x")

func (l *linter) logql(where, expr string) {
	q := Expand(expr, l.values(map[string]string{"__auto": model.Duration(autoSentinel).String()}))
	if len(q) > maxQueryLen {
		l.add(where, RuleLogQL, fmt.Sprintf("is %d bytes long; Loki is slow to parse long queries", len(q)))
		return
	}
	// The proxy's path: Tollgate's parser with Loki's rules, the
	// confinement, and the check of what Tollgate would send on.
	if _, err := logqlenforce.Query(q, lintMatcher); err != nil {
		l.add(where, RuleLogQL, fmt.Sprintf("does not parse once variables are substituted: %v (query: %s)", oneLine(err), oneLine(q)))
		return
	}
	e, err := logql.ParseExpr(q)
	if err != nil {
		return
	}
	logql.Inspect(e, func(n logql.Node) bool {
		if r, ok := n.(*logql.LogRange); ok && r.Range.Value != autoSentinel {
			l.add(where, RuleLogRange, fmt.Sprintf("a log range of [%s]: use [$__auto], which Grafana sets from the panel's width and time range", model.Duration(r.Range.Value)))
		}
		return true
	})
}

func oneLine(v any) string { return strings.Join(strings.Fields(fmt.Sprint(v)), " ") }
