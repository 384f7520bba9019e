// Package rules generates Prometheus recording and alerting rules from SLO
// specs: the rule names, labels and group structure of Sloth v0.16.0, so
// that Sloth's Grafana dashboards work unchanged, with multi-window,
// multi-burn-rate page and ticket alerts. Each SLO's rules are written by a
// chain of Sloth's SLO plugins, built in (slo/plugins), in Sloth's order.
//
// With SlothCompat the output is Sloth's, character for character.
// Otherwise the generator improves on them where Sloth's output misleads;
// each difference is listed in docs/slo.md:
//
//   - an events SLI divides by its total only when there was traffic, and
//     counts a missing error series as zero errors, so that a quiet window
//     gives no sample instead of NaN (which would poison the period's
//     average for 30 days) and a healthy service has an SLI at all;
//   - a raw SLI drops NaN samples for the same reason;
//   - numbers are printed as written (0.999, not 0.9990000000000001);
//   - every alert carries `severity` (page or ticket) and `team`, which
//     the generated Alertmanager routes match;
//   - `for:` and a no-data alert are available when a spec asks for them;
//   - the contrib plugins get the same guards (docs/slo.md says how).
//
// With a Scoper, every SLI query is confined to a tenant by the proxy's
// PromQL rewriter before any rule is written.
package rules

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/tollgate-dev/tollgate/internal/problem"
	"github.com/tollgate-dev/tollgate/promenforce"
	"github.com/tollgate-dev/tollgate/slo/plugins"
	"github.com/tollgate-dev/tollgate/slo/spec"
	"github.com/tollgate-dev/tollgate/slo/windows"
)

// Names and labels of Sloth v0.16.0 (pkg/common/conventions).
const (
	sliErrorMetric = "slo:sli_error:ratio_rate"

	labelID        = "sloth_id"
	labelService   = "sloth_service"
	labelSLO       = "sloth_slo"
	labelWindow    = "sloth_window"
	labelSeverity  = "sloth_severity"
	labelVersion   = "sloth_version"
	labelMode      = "sloth_mode"
	labelSpec      = "sloth_spec"
	labelObjective = "sloth_objective"

	// LabelTeam and LabelSeverity are Tollgate's routing labels on every
	// alert; the generated Alertmanager configuration matches them.
	LabelTeam     = "team"
	LabelSeverity = "severity"

	// SeverityPage and SeverityTicket are the values of both severity labels.
	SeverityPage   = "page"
	SeverityTicket = "ticket"
)

// DefaultVersion is the default value of the sloth_version label: the
// version of the generated output's format, not of the binary, so that
// upgrading Tollgate does not make every committed rule file stale.
const DefaultVersion = "tollgate-v1"

// DefaultAbsentFor is how long an SLI must have no data before the no-data
// alert fires, when the spec does not say.
const DefaultAbsentFor = 10 * time.Minute

// Options configure a Generator.
type Options struct {
	// Windows are the period and alert windows of every SLO.
	Windows windows.Windows
	// SlothCompat reproduces Sloth v0.16.0's output exactly.
	SlothCompat bool
	// Scoper, when set, confines every SLI query to a tenant.
	Scoper *Scoper
	// Team is the team label of every alert whose spec sets none.
	Team string
	// Tenant, when set, is the tenant Scoper and Team come from: a spec may
	// then not give its alerts another team.
	Tenant string
	// TenantLabel (usually "namespace"), with a tenant, is the label the
	// gateway confines by. The gateway shows a tenant only series whose
	// TenantLabel is one of its namespaces, so an SLO's rules carry
	// TenantNamespace when the spec sets no such label; a value the spec
	// sets must satisfy OwnsNamespace, or a team could write SLO series
	// into another team's view.
	TenantLabel     string
	TenantNamespace string
	OwnsNamespace   func(string) bool
	// ExtraLabels are added to every SLO's labels, overriding the spec's
	// (Sloth's --extra-labels).
	ExtraLabels map[string]string
	// DisableAlerts and DisableRecordings leave those rules out.
	DisableAlerts, DisableRecordings bool
	// Version is the sloth_version label (default DefaultVersion).
	Version string
	// Plugins run for every SLO whose chain does not override them
	// (Sloth's --slo-plugins); DisableDefaultPlugins drops Sloth's default
	// chain (--disable-default-slo-plugins).
	Plugins               []plugins.Plugin
	DisableDefaultPlugins bool
}

// Generator turns SLOs into rules. It is safe for concurrent use.
type Generator struct {
	opts   Options
	parser parser.Parser
}

// New returns a Generator.
func New(opts Options) (*Generator, error) {
	if opts.Windows.Period <= 0 {
		return nil, fmt.Errorf("rules: no SLO period: give the generator the windows of a period")
	}
	if opts.Version == "" {
		opts.Version = DefaultVersion
	}
	return &Generator{opts: opts, parser: promenforce.New().Parser()}, nil
}

// Rule is one recording or alerting rule.
type Rule struct {
	Record      string
	Alert       string
	Expr        string
	For         time.Duration
	Labels      map[string]string
	Annotations map[string]string
	// operatorDropsFor is set on a rule whose `for:` Sloth leaves out of
	// PrometheusRule objects (its writer does not copy the key), so that
	// --sloth-compat leaves it out too.
	operatorDropsFor bool
}

// Group is a rule group.
type Group struct {
	Name string
	// Interval is the group's evaluation interval; 0 leaves it to the
	// ruler's global setting.
	Interval time.Duration
	Rules    []Rule
}

// SLORules are the rules of one SLO, in Sloth's three groups.
type SLORules struct {
	SLO    *spec.SLO
	SLI    []Rule
	Meta   []Rule
	Alerts []Rule
	// Intervals are the groups' evaluation intervals (rule_intervals).
	Intervals Intervals
}

// Intervals are the evaluation intervals of an SLO's groups.
type Intervals struct{ SLI, Meta, Alerts time.Duration }

// Groups returns the SLO's non-empty groups in Sloth's order.
func (r SLORules) Groups() []Group {
	var gs []Group
	for _, g := range []Group{
		{"sloth-slo-sli-recordings-" + r.SLO.ID, r.Intervals.SLI, r.SLI},
		{"sloth-slo-meta-recordings-" + r.SLO.ID, r.Intervals.Meta, r.Meta},
		{"sloth-slo-alerts-" + r.SLO.ID, r.Intervals.Alerts, r.Alerts},
	} {
		if len(g.Rules) > 0 {
			gs = append(gs, g)
		}
	}
	return gs
}

// File is the rules of one spec document.
type File struct {
	Document *spec.Document
	SLOs     []SLORules
}

// Groups returns every group of the file in order.
func (f File) Groups() []Group {
	var gs []Group
	for _, s := range f.SLOs {
		gs = append(gs, s.Groups()...)
	}
	return gs
}

// Generate generates the rules of every SLO of the set, in input order. It
// returns every problem found (warnings included); the files are complete
// only when the problems hold no error.
func (g *Generator) Generate(set *spec.Set) ([]File, problem.List) {
	var files []File
	var ps problem.List
	for _, doc := range set.Documents {
		f := File{Document: doc}
		for _, slo := range doc.SLOs {
			r, sps := g.SLO(doc.Format, slo)
			ps = append(ps, sps...)
			f.SLOs = append(f.SLOs, r)
		}
		files = append(files, f)
	}
	return files, ps
}

// sloCtx is the state of one SLO's generation.
type sloCtx struct {
	g      *Generator
	slo    *spec.SLO
	format spec.Format
	ps     problem.List
	labels map[string]string // the SLO's labels with the extra labels
	id     map[string]string // sloth_id, sloth_service, sloth_slo
	sli    sliQueries
	// teamOf memoises team(), whose checks report problems once;
	// noTeamReported does the same for the missing-team error.
	teamOf         *string
	noTeamReported bool
}

func (c *sloCtx) add(path, msg, fix string) {
	c.ps = append(c.ps, problem.Problem{Pos: c.slo.Locate(path), Path: path + " (SLO " + c.slo.ID + ")", Msg: msg, Fix: fix})
}

func (c *sloCtx) warn(path, msg, fix string) {
	c.ps = append(c.ps, problem.Problem{Pos: c.slo.Locate(path), Path: path + " (SLO " + c.slo.ID + ")", Msg: msg, Fix: fix, Severity: problem.SeverityWarning})
}

// SLO generates one SLO's rules: it runs the SLO's plugin chain, in
// Sloth's order (plugins.Order). format is the kind of document the SLO
// came from, recorded in sloth_slo_info.
func (g *Generator) SLO(format spec.Format, slo *spec.SLO) (SLORules, problem.List) {
	c := &sloCtx{
		g: g, slo: slo, format: format,
		labels: merge(slo.Labels, g.opts.ExtraLabels),
		id:     map[string]string{labelID: slo.ID, labelService: slo.Service, labelSLO: slo.Name},
	}
	out := SLORules{SLO: slo}
	c.tenantLabel()
	sli, ok := c.sliTemplates()
	if !ok {
		return out, c.ps
	}
	c.sli = sli
	chain := plugins.Order(g.opts.Plugins, slo.Plugins.Chain, slo.Plugins.Override, g.opts.DisableDefaultPlugins)
	c.checkOrder(chain)
	for _, p := range chain {
		c.run(p, &out)
	}
	// Sloth drops the groups after its chain ran; the plugins skip them
	// too (run), so that a disabled alert asks for no team.
	if g.opts.DisableRecordings {
		out.SLI, out.Meta = nil, nil
	}
	if g.opts.DisableAlerts {
		out.Alerts = nil
	}
	return out, c.ps
}

// sliRules writes the SLI of each alert window and of the period (Sloth's
// sli_rules plugin). The period's is "optimized", the mean of the shortest
// window's ratios, unless disableOptimized: then it is the period's own
// ratio, like the other windows'.
func (c *sloCtx) sliRules(disableOptimized bool) []Rule {
	ws := c.g.opts.Windows
	var out []Rule
	for _, w := range ws.AlertWindows() {
		out = append(out, c.sliRule(w, c.sli.render(c, w)))
	}
	if disableOptimized {
		return append(out, c.sliRule(ws.Period, c.sli.render(c, ws.Period)))
	}
	return append(out, c.periodSLI())
}

// sliRule is the SLI rule of one window.
func (c *sloCtx) sliRule(w time.Duration, expr string) Rule {
	return Rule{Record: sliMetric(w), Expr: expr, Labels: merge(c.id, map[string]string{labelWindow: promDuration(w)}, c.labels)}
}

// sliQueries are an SLI's query templates after confinement, with
// {{.window}} where each window's range goes.
type sliQueries struct {
	kind      string
	errors    string // events, ratio, latency: bad events; raw: the error ratio
	total     string // events, ratio, latency: all events
	absent    string // what the no-data alert watches
	minEvents float64
	// totalParens is set when the total's top-level operator binds more
	// loosely than the comparison that guards it (or, and, unless).
	totalParens bool
	// parsed caches the templates, parsed once for every window.
	parsed map[string]*spec.Template
}

// sliTemplates builds and confines the SLI's query templates.
func (c *sloCtx) sliTemplates() (sliQueries, bool) {
	s := c.slo.SLI
	q := sliQueries{kind: s.Kind(), parsed: map[string]*spec.Template{}}
	var errPath, totalPath string
	switch {
	case s.Events != nil:
		q.errors, q.total = s.Events.ErrorQuery, s.Events.TotalQuery
		q.absent = q.total
		errPath, totalPath = c.slo.Key("sli.events", "error_query"), c.slo.Key("sli.events", "total_query")
	case s.Raw != nil:
		q.errors = s.Raw.ErrorRatioQuery
		q.absent = q.errors
		errPath = c.slo.Key("sli.raw", "error_ratio_query")
	case s.Ratio != nil:
		e, err1 := c.selector(s.Ratio.Errors)
		t, err2 := c.selector(s.Ratio.Total)
		if err := cmp.Or(err1, err2); err != nil {
			c.add(c.slo.Key("sli.ratio"), err.Error(), "give series selectors such as http_requests_total{job=\"api\"}")
			return q, false
		}
		q.errors = "sum(rate(" + e + "[" + windowPlaceholder + "]))"
		q.total = "sum(rate(" + t + "[" + windowPlaceholder + "]))"
		q.absent = q.total
		q.minEvents = s.Ratio.MinEvents
		errPath, totalPath = c.slo.Key("sli.ratio", "errors"), c.slo.Key("sli.ratio", "total")
	case s.Latency != nil:
		count, bucket, err := c.histogram(s.Latency)
		if err != nil {
			c.add(c.slo.Key("sli.latency"), err.Error(), "check metric and selector")
			return q, false
		}
		q.total = "sum(rate(" + count + "[" + windowPlaceholder + "]))"
		q.errors = q.total + " - sum(rate(" + bucket + "[" + windowPlaceholder + "]))"
		// The bucket is what disappears when the threshold is not one of
		// the histogram's boundaries.
		q.absent = "sum(rate(" + bucket + "[" + windowPlaceholder + "]))"
		q.minEvents = s.Latency.MinEvents
		errPath, totalPath = c.slo.Key("sli.latency"), c.slo.Key("sli.latency")
	default:
		c.add(c.slo.Key("sli"), "has no SLI", "give one of events, raw, latency or ratio")
		return q, false
	}
	ok := c.confine(&q, errPath, cmp.Or(totalPath, errPath))
	q.totalParens = c.looseTopLevel(q.total)
	return q, ok
}

// confine confines the query templates to the tenant, when there is one.
// The first that cannot be confined is reported at its path.
func (c *sloCtx) confine(q *sliQueries, errPath, totalPath string) bool {
	if c.g.opts.Scoper == nil {
		return true
	}
	for _, t := range []struct {
		path string
		tpl  *string
	}{{errPath, &q.errors}, {totalPath, &q.total}, {totalPath, &q.absent}} {
		if *t.tpl == "" {
			continue
		}
		scoped, err := c.g.opts.Scoper.Template(*t.tpl)
		if err != nil {
			c.add(t.path, err.Error(), "with --tenant, SLI queries may only read series that carry the tenant's label; info() and queries over other tenants' recording rules are refused")
			return false
		}
		*t.tpl = scoped
	}
	return true
}

// looseTopLevel reports whether a query template's top-level operator is
// a set operator (or, and, unless), which binds more loosely than a
// comparison: "a or b > 0" is "a or (b > 0)".
func (c *sloCtx) looseTopLevel(tpl string) bool {
	if tpl == "" {
		return false
	}
	q, err := spec.Render(tpl, "1m")
	if err != nil {
		return false
	}
	expr, err := c.g.parser.ParseExpr(q)
	if err != nil {
		return false
	}
	be, ok := expr.(*parser.BinaryExpr)
	return ok && (be.Op == parser.LOR || be.Op == parser.LAND || be.Op == parser.LUNLESS)
}

// endComment ends a query whose last line is a PromQL comment with a
// newline, so that what the generator writes after it is not commented
// out.
func endComment(q string) string {
	if i := strings.LastIndexByte(q, '\n'); strings.Contains(q[i+1:], "#") {
		return q + "\n"
	}
	return q
}

// selector prints a series selector of a ratio SLI.
func (c *sloCtx) selector(s string) (string, error) {
	ms, err := spec.ParseSelector(c.g.parser, s)
	if err != nil {
		return "", err
	}
	return spec.PrintSelector(ms), nil
}

// histogram returns the selectors of a histogram's _count and of its bucket
// at the threshold.
func (c *sloCtx) histogram(l *spec.Latency) (count, bucket string, err error) {
	var ms []*labels.Matcher
	if l.Selector != "" {
		if ms, err = spec.ParseSelector(c.g.parser, l.Selector); err != nil {
			return "", "", err
		}
	}
	name := func(n string) *labels.Matcher { return labels.MustNewMatcher(labels.MatchEqual, labels.MetricName, n) }
	countSel := append([]*labels.Matcher{name(l.Metric + "_count")}, ms...)
	bucketSel := append([]*labels.Matcher{name(l.Metric + "_bucket")}, append(slices.Clone(ms), leMatcher(l.Threshold))...)
	return spec.PrintSelector(countSel), spec.PrintSelector(bucketSel), nil
}

// leMatcher matches the bucket of a threshold. Prometheus 3 writes integer
// bucket boundaries of classic histograms as "1.0" where client libraries
// and Prometheus 2 write "1"; the matcher accepts both.
func leMatcher(threshold float64) *labels.Matcher {
	s := spec.FormatFloat(threshold)
	if strings.ContainsAny(s, ".eE") {
		return labels.MustNewMatcher(labels.MatchEqual, "le", s)
	}
	return labels.MustNewMatcher(labels.MatchRegexp, "le", s+`(\.0)?`)
}

// text renders one of the SLI's query templates for a window.
func (q sliQueries) text(tpl string, w time.Duration) string {
	t, ok := q.parsed[tpl]
	if !ok {
		var err error
		if t, err = spec.ParseTemplate(tpl); err != nil {
			return fmt.Sprintf("generator error: %v", err)
		}
		q.parsed[tpl] = t
	}
	out, err := t.Render(promDuration(w))
	if err != nil {
		// Templates were checked when the spec loaded and confined;
		// a failure here is a generator bug, and the rule says so.
		return fmt.Sprintf("generator error: %v", err)
	}
	return out
}

// render writes the SLI's error ratio for one window.
func (q sliQueries) render(c *sloCtx, w time.Duration) string {
	if q.kind == "raw" {
		if c.g.opts.SlothCompat {
			return "(" + q.text(q.errors, w) + ")"
		}
		// NaN >= 0 is false: the filter drops NaN samples, which a raw
		// ratio gives for a window without traffic.
		return "(" + endComment(strings.TrimRight(q.text(q.errors, w), "\n")) + ") >= 0"
	}
	if c.g.opts.SlothCompat {
		return "(" + q.text(q.errors, w) + ")\n/\n(" + q.text(q.total, w) + ")\n"
	}
	errs, total := q.guarded(w)
	return errs + "\n/\n(" + total + ")\n"
}

// guarded returns the default mode's two sides of an events-like SLI's
// ratio: the errors, a missing error series read as none, and the total,
// which gives no sample for a window without (enough) traffic.
func (q sliQueries) guarded(w time.Duration) (errs, total string) {
	errs = "(" + endComment(q.text(q.errors, w)) + ")"
	if q.kind != "latency" {
		// A counter of errors often has no series until the first error;
		// a missing error series then means no errors. (A latency SLI's
		// error query is empty only when the histogram or its bucket is.)
		errs = "(" + errs + " or vector(0))"
	}
	guard := " > 0"
	if q.minEvents > 0 {
		guard = " >= " + formatNumber(q.minEvents/w.Seconds())
	}
	return errs, q.parenTotal(w) + guard
}

// parenTotal is the total for a window, in parentheses when a comparison
// after it would bind to its last operand only.
func (q sliQueries) parenTotal(w time.Duration) string {
	total := endComment(q.text(q.total, w))
	if q.totalParens {
		total = "(" + total + ")"
	}
	return total
}

// periodSLI is Sloth's "optimized" period rule: the period's error ratio as
// the mean of the shortest window's ratios.
func (c *sloCtx) periodSLI() Rule {
	ws := c.g.opts.Windows
	short := sliMetric(ws.PageQuick.Short) + idFilter(c.id)
	period := promDuration(ws.Period)
	return Rule{
		Record: sliMetric(ws.Period),
		Expr: "sum_over_time(" + short + "[" + period + "])\n/ ignoring (" + labelWindow + ")\n" +
			"count_over_time(" + short + "[" + period + "])\n",
		Labels: merge(c.id, map[string]string{labelWindow: period}, c.labels),
	}
}

// meta writes Sloth's metadata rules.
func (c *sloCtx) meta() []Rule {
	ws := c.g.opts.Windows
	ls := merge(c.id, c.labels)
	filter := idFilter(c.id)
	objective := c.slo.Objective / 100
	budget := "1-" + c.number(objective)
	if !c.g.opts.SlothCompat {
		budget = c.number((100 - c.slo.Objective) / 100)
	}
	burn := func(metric string) string {
		return metric + filter + "\n/ on(" + labelID + ", " + labelSLO + ", " + labelService + ") group_left\n" +
			"slo:error_budget:ratio" + filter + "\n"
	}
	mode, specName := "cli-gen-prom", string(spec.FormatPrometheus)
	if c.format == spec.FormatKubernetes {
		mode, specName = "cli-gen-k8s", string(spec.FormatKubernetes)
	}
	return []Rule{
		{Record: "slo:objective:ratio", Expr: "vector(" + c.number(objective) + ")", Labels: ls},
		{Record: "slo:error_budget:ratio", Expr: "vector(" + budget + ")", Labels: ls},
		{Record: "slo:time_period:days", Expr: "vector(" + c.number(ws.Period.Hours()/24) + ")", Labels: ls},
		{Record: "slo:current_burn_rate:ratio", Expr: burn(sliMetric(ws.PageQuick.Short)), Labels: ls},
		{Record: "slo:period_burn_rate:ratio", Expr: burn(sliMetric(ws.Period)), Labels: ls},
		{Record: "slo:period_error_budget_remaining:ratio", Expr: "1 - slo:period_burn_rate:ratio" + filter, Labels: ls},
		{Record: "sloth_slo_info", Expr: "vector(1)", Labels: merge(ls, map[string]string{
			labelVersion:   c.g.opts.Version,
			labelMode:      mode,
			labelSpec:      specName,
			labelObjective: strconv.FormatFloat(c.slo.Objective, 'f', -1, 64),
		})},
	}
}

// alerts writes the page and ticket alerts, and the no-data alert when
// asked for (Sloth's alert_rules plugin).
func (c *sloCtx) alerts() []Rule {
	a := c.slo.Alerting
	ws := c.g.opts.Windows
	team := c.team()
	missing := a.Absent != nil
	for _, al := range []spec.Alert{a.Page, a.Ticket} {
		if !al.Disable && al.Labels[LabelTeam] == "" {
			missing = true
		}
	}
	if missing {
		c.requireTeam(team)
	}
	var out []Rule
	for _, x := range []struct {
		severity    string
		key         string
		alert       spec.Alert
		quick, slow windows.Window
	}{
		{SeverityPage, "page_alert", a.Page, ws.PageQuick, ws.PageSlow},
		{SeverityTicket, "ticket_alert", a.Ticket, ws.TicketQuick, ws.TicketSlow},
	} {
		if x.alert.Disable {
			continue
		}
		ls := merge(map[string]string{labelSeverity: x.severity}, a.Labels, x.alert.Labels)
		if !c.g.opts.SlothCompat {
			if s, ok := ls[LabelSeverity]; ok && s != x.severity {
				path := c.slo.Key("alerting", x.key, "labels")
				if _, own := x.alert.Labels[LabelSeverity]; !own {
					path = c.slo.Key("alerting", "labels")
				}
				c.warn(path+"."+LabelSeverity, fmt.Sprintf("severity %q is replaced by %q", s, x.severity),
					"Tollgate's Alertmanager routes match severity=page and severity=ticket; keep your own value in another label")
			}
			ls[LabelSeverity] = x.severity
		}
		if _, own := x.alert.Labels[LabelTeam]; team != "" && (!own || c.g.opts.Tenant != "") {
			ls[LabelTeam] = team
		}
		out = append(out, Rule{
			Alert: a.Name,
			Expr:  c.mwmb(x.quick, x.slow),
			For:   x.alert.For,
			Annotations: merge(map[string]string{
				"title":   "(" + x.severity + ") {{$labels." + labelService + "}} {{$labels." + labelSLO + "}} SLO error budget burn rate is too fast.",
				"summary": "{{$labels." + labelService + "}} {{$labels." + labelSLO + "}} SLO error budget burn rate is over expected.",
			}, a.Annotations, x.alert.Annotations),
			Labels: ls,
		})
	}
	if abs := a.Absent; abs != nil {
		out = append(out, c.absentAlert(c.sli, abs, team))
	}
	return out
}

// mwmb is Sloth's multi-window, multi-burn-rate expression.
func (c *sloCtx) mwmb(quick, slow windows.Window) string {
	ws := c.g.opts.Windows
	budget := c.number((100 - c.slo.Objective) / 100)
	filter := idFilter(c.id)
	cond := func(w time.Duration, factor float64) string {
		return "max(" + sliMetric(w) + filter + " > (" + c.number(factor) + " * " + budget + ")) without (" + labelWindow + ")"
	}
	pair := func(w windows.Window) string {
		f := ws.Factor(w)
		return "(\n    " + cond(w.Short, f) + "\n    and\n    " + cond(w.Long, f) + "\n)"
	}
	return pair(quick) + "\nor\n" + pair(slow) + "\n"
}

// absentAlert fires when the SLI's total (or, for a latency SLI, its
// bucket at the threshold) has had no data over the page alert's short
// window for the alert's `for`.
func (c *sloCtx) absentAlert(sli sliQueries, abs *spec.AbsentAlert, team string) Rule {
	w := promDuration(c.g.opts.Windows.PageQuick.Short)
	q, err := spec.Render(sli.absent, w)
	if err != nil {
		q = fmt.Sprintf("generator error: %v", err)
	}
	ls := merge(c.slo.Alerting.Labels, abs.Labels, c.id, map[string]string{labelSeverity: SeverityTicket})
	if !c.g.opts.SlothCompat {
		ls[LabelSeverity] = SeverityTicket
	}
	if team != "" {
		ls[LabelTeam] = team
	}
	return Rule{
		Alert:  abs.Name,
		Expr:   "absent(" + endComment(strings.TrimRight(q, "\n")) + ")",
		For:    cmp.Or(abs.For, DefaultAbsentFor),
		Labels: ls,
		Annotations: merge(map[string]string{
			// absent() returns no sloth_* labels for $labels to expand.
			"title":   "(no data) " + c.slo.Service + " " + c.slo.Name + " SLI has no data.",
			"summary": "The SLI's query has returned nothing for " + w + ": its metrics are not scraped, were renamed or relabelled, or the query's selectors match nothing.",
		}, c.slo.Alerting.Annotations, abs.Annotations),
	}
}

// tenantLabel gives the SLO's series the tenant's namespace, or checks the
// one the spec gives them.
func (c *sloCtx) tenantLabel() {
	o := c.g.opts
	if o.Tenant == "" || o.TenantLabel == "" {
		return
	}
	v, ok := c.labels[o.TenantLabel]
	switch {
	case ok && (o.OwnsNamespace == nil || !o.OwnsNamespace(v)):
		c.add(c.slo.LabelPath(o.TenantLabel), fmt.Sprintf("%s %q is not one of tenant %s's", o.TenantLabel, v, o.Tenant),
			"use one of the tenant's namespaces: SLO series with another team's label would show in that team's view")
	case ok:
	case o.TenantNamespace != "":
		c.labels[o.TenantLabel] = o.TenantNamespace
	default:
		c.warn(c.slo.Key("labels"), fmt.Sprintf("the SLO's series carry no %s label, so tenant %s cannot read them through Tollgate", o.TenantLabel, o.Tenant),
			fmt.Sprintf("set labels: {%s: <one of the tenant's namespaces>}, or the tenant's default_namespace in the Tollgate configuration", o.TenantLabel))
	}
}

// team resolves the team label of alerts that do not set their own: the
// alerting section's, else the SLO's, else the generator's. With a tenant,
// every team given anywhere must be the tenant's team. It is worked out
// once per SLO, so that its problems are reported once.
func (c *sloCtx) team() string {
	if c.teamOf == nil {
		t := c.resolveTeam()
		c.teamOf = &t
	}
	return *c.teamOf
}

// requireTeam reports, once, an alert without a team in default mode.
func (c *sloCtx) requireTeam(team string) {
	if team != "" || c.g.opts.SlothCompat || c.noTeamReported {
		return
	}
	c.noTeamReported = true
	c.add(c.slo.Key("labels"), "no team: every alert needs a team label for routing", "add labels: {team: <owner>} to the spec, or run with --team or --tenant")
}

func (c *sloCtx) resolveTeam() string {
	a := c.slo.Alerting
	if c.g.opts.Tenant != "" {
		for _, s := range []struct {
			path string
			ls   map[string]string
		}{
			{c.slo.Key("alerting", "page_alert", "labels"), a.Page.Labels},
			{c.slo.Key("alerting", "ticket_alert", "labels"), a.Ticket.Labels},
			{c.slo.Key("alerting", "labels"), a.Labels},
			{"", c.labels},
		} {
			if v, ok := s.ls[LabelTeam]; ok && v != c.g.opts.Team {
				path := s.path + "." + LabelTeam
				if s.path == "" {
					path = c.slo.LabelPath(LabelTeam)
				}
				c.add(path, fmt.Sprintf("team %q, but tenant %s is team %q", v, c.g.opts.Tenant, c.g.opts.Team),
					"remove the team label: with --tenant the generator sets it, so that a team's alerts cannot be routed to another team")
			}
		}
		return c.g.opts.Team
	}
	if c.g.opts.SlothCompat {
		// Sloth's labels, plus a team only when one was asked for, and
		// then only for alerts whose spec sets none (as --team says).
		if c.g.opts.Team == "" {
			return ""
		}
		return cmp.Or(a.Labels[LabelTeam], c.labels[LabelTeam], c.g.opts.Team)
	}
	return cmp.Or(a.Labels[LabelTeam], c.labels[LabelTeam], c.g.opts.Team)
}

// number prints a number in the rules: as Sloth does (Go's shortest
// representation of the float, artefacts included) with SlothCompat, else
// rounded to 12 significant digits, which removes the artefacts of decimal
// arithmetic in binary floating point.
func (c *sloCtx) number(f float64) string {
	if c.g.opts.SlothCompat {
		return fmt.Sprint(f)
	}
	return formatNumber(f)
}

func formatNumber(f float64) string {
	r, err := strconv.ParseFloat(strconv.FormatFloat(f, 'g', 12, 64), 64)
	if err != nil || math.IsInf(r, 0) {
		r = f
	}
	return strconv.FormatFloat(r, 'f', -1, 64)
}

func sliMetric(w time.Duration) string { return sliErrorMetric + promDuration(w) }

func promDuration(d time.Duration) string { return model.Duration(d).String() }

// idFilter is Sloth's selector of an SLO's series: its ID labels in
// Prometheus's label-set notation.
func idFilter(id map[string]string) string {
	ls := model.LabelSet{}
	for k, v := range id {
		ls[model.LabelName(k)] = model.LabelValue(v)
	}
	return ls.String()
}

func merge(ms ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range ms {
		maps.Copy(out, m)
	}
	return out
}
