package rules

import (
	"fmt"
	"maps"
	"time"

	"github.com/tollgate-dev/tollgate/internal/problem"
	"github.com/tollgate-dev/tollgate/slo/plugins"
)

// Sloth's contrib SLO plugins. With SlothCompat each writes what Sloth
// v0.16.0's writes; otherwise with Tollgate's guards, as docs/slo.md lists.

const (
	budgetRemainingMetric = "slo:period_error_budget_remaining:ratio"
	numeratorCorrection   = "slo:numerator_correction:ratio"
)

// budgetExhausted is the alert of error_budget_exhausted_alert: the
// period's remaining budget at or below the threshold.
func (c *sloCtx) budgetExhausted(p plugins.Plugin, cfg *plugins.ErrorBudgetExhaustedConfig) Rule {
	compat := c.g.opts.SlothCompat
	// Sloth selects the budget series by every label of the SLO; a label
	// that remove_labels took off the series then matches nothing. The ID
	// labels alone select the SLO's series, whichever plugins ran.
	sel := merge(c.id, cfg.SelectorLabels)
	threshold := c.number(cfg.Threshold)
	if compat {
		sel = merge(c.id, c.labels, cfg.SelectorLabels)
		threshold = fmt.Sprintf("%g", cfg.Threshold)
	}
	r := Rule{
		Alert:            cfg.AlertName,
		Expr:             budgetRemainingMetric + idFilter(sel) + " <= " + threshold,
		For:              cfg.For,
		Labels:           maps.Clone(cfg.AlertLabels),
		Annotations:      maps.Clone(cfg.Annotations),
		operatorDropsFor: compat,
	}
	team := c.team()
	if !compat {
		r.Labels = merge(r.Labels)
		r.Labels[LabelSeverity] = c.exhaustedSeverity(p, cfg.AlertLabels[LabelSeverity])
		state := "exhausted"
		if cfg.Threshold > 0 {
			state = "nearly exhausted"
		}
		r.Annotations = merge(map[string]string{
			"title":   "(" + r.Labels[LabelSeverity] + ") {{$labels." + labelService + "}} {{$labels." + labelSLO + "}} SLO error budget is " + state + ".",
			"summary": "{{$labels." + labelService + "}} {{$labels." + labelSLO + "}} SLO has {{ $value | humanizePercentage }} of its error budget left for the period.",
		}, cfg.Annotations)
	}
	own, hasOwn := cfg.AlertLabels[LabelTeam]
	if o := c.g.opts; hasOwn && o.Tenant != "" && own != o.Team {
		p.Path += ".config.alert_labels." + LabelTeam
		c.pluginProblem(p, problem.SeverityError, fmt.Sprintf("team %q, but tenant %s is team %q", own, o.Tenant, o.Team),
			"remove the team label: with --tenant the generator sets it, so that a team's alerts cannot be routed to another team")
	}
	if team != "" && (!hasOwn || c.g.opts.Tenant != "") {
		r.Labels = merge(r.Labels, map[string]string{LabelTeam: team})
	}
	if r.Labels[LabelTeam] == "" {
		c.requireTeam(team)
	}
	return r
}

// exhaustedSeverity is the severity of the budget-exhausted alert in
// default mode: a ticket, unless the configuration asks for a page; the
// Alertmanager routes know no other value.
func (c *sloCtx) exhaustedSeverity(p plugins.Plugin, asked string) string {
	switch asked {
	case "", SeverityTicket:
		return SeverityTicket
	case SeverityPage:
		return SeverityPage
	}
	p.Path += ".config.alert_labels." + LabelSeverity
	c.pluginProblem(p, problem.SeverityWarning, fmt.Sprintf("severity %q is replaced by %q", asked, SeverityTicket),
		"Tollgate's Alertmanager routes match severity=page and severity=ticket; keep your own value in another label")
	return SeverityTicket
}

// infoLabels adds labels to one metadata rule, sloth_slo_info by default
// (info_labels).
func (c *sloCtx) infoLabels(p plugins.Plugin, cfg *plugins.InfoLabelsConfig, out *SLORules) {
	for i, r := range out.Meta {
		if r.Record == cfg.MetricName {
			out.Meta[i].Labels = merge(r.Labels, cfg.Labels)
			return
		}
	}
	if len(out.Meta) > 0 {
		c.pluginProblem(p, problem.SeverityWarning, fmt.Sprintf("no metadata rule records %s: the plugin changes nothing", cfg.MetricName),
			"leave metricName out (it defaults to "+plugins.InfoMetric+") or name a metadata rule")
	}
}

// removeLabels takes the spec's labels off the SLI and metadata rules, all
// but sloth_slo_info and the skipped metrics (remove_labels). The ID
// labels, the window and the preserved labels stay, and with a tenant so
// does the tenant's label, which the gateway confines by.
//
// Sloth deletes the labels from each rule's label map in place, and its
// metadata rules share one map: skipping one of them but sloth_slo_info
// keeps nothing. SlothCompat does the same; otherwise each skipped metric
// keeps its labels.
func (c *sloCtx) removeLabels(cfg *plugins.RemoveLabelsConfig, out *SLORules) {
	if cfg == nil {
		cfg = &plugins.RemoveLabelsConfig{}
	}
	keep := map[string]bool{labelWindow: true}
	for k := range c.id {
		keep[k] = true
	}
	for _, k := range cfg.PreserveLabels {
		keep[k] = true
	}
	if o := c.g.opts; o.Tenant != "" && o.TenantLabel != "" {
		keep[o.TenantLabel] = true
	}
	skip := map[string]bool{plugins.InfoMetric: true}
	for _, m := range cfg.SkipMetrics {
		skip[m] = true
	}
	strip := func(rs []Rule) {
		for i := range rs {
			if skip[rs[i].Record] {
				continue
			}
			if !c.g.opts.SlothCompat {
				rs[i].Labels = maps.Clone(rs[i].Labels)
			}
			maps.DeleteFunc(rs[i].Labels, func(k, _ string) bool { return !keep[k] })
		}
	}
	strip(out.SLI)
	delete(keep, labelWindow)
	strip(out.Meta)
}

// denominatorCorrected replaces the SLI rules by traffic-weighted ones and
// adds the correction of each alert window to the metadata rules
// (denominator_corrected_rules): a window's error ratio is multiplied by
// its traffic relative to the period's, so that errors in a quiet hour
// burn less budget than in a busy one.
func (c *sloCtx) denominatorCorrected(p plugins.Plugin, disableOptimized bool, out *SLORules) {
	if c.sli.kind == "raw" {
		c.pluginProblem(p, problem.SeverityError, "needs an SLI of bad and total events, and this SLO's SLI is raw",
			"give the SLO an events, ratio or latency SLI, or remove the plugin")
		return
	}
	if c.g.opts.DisableRecordings {
		return
	}
	ws := c.g.opts.Windows
	var sli []Rule
	for _, w := range ws.AlertWindows() {
		sli = append(sli, c.sliRule(w, c.correctedRatio(w)))
	}
	if disableOptimized {
		sli = append(sli, c.sliRule(ws.Period, c.sli.render(c, ws.Period)))
	} else {
		sli = append(sli, c.periodSLI())
	}
	out.SLI = sli
	// One label map for every correction, as Sloth has it (removeLabels).
	ls := merge(c.id, c.labels)
	for _, w := range ws.AlertWindows() {
		out.Meta = append(out.Meta, Rule{Record: numeratorCorrection + promDuration(w), Expr: c.correction(w), Labels: ls})
	}
}

// correctedRatio is a window's error ratio weighted by its correction.
func (c *sloCtx) correctedRatio(w time.Duration) string {
	corr := numeratorCorrection + promDuration(w) + idFilter(c.id)
	q := c.sli
	if c.g.opts.SlothCompat {
		return "(\n" + corr + "\n* on()\n" + q.text(q.errors, w) + "\n)\n/\n(" + q.text(q.total, w) + ")\n"
	}
	errs, total := q.guarded(w)
	return "(\n" + corr + "\n* on()\n" + errs + "\n)\n/\n(" + total + ")\n"
}

// correction is a window's traffic relative to the period's. Without
// SlothCompat a period without traffic gives no sample instead of NaN.
func (c *sloCtx) correction(w time.Duration) string {
	q := c.sli
	period := c.g.opts.Windows.Period
	if c.g.opts.SlothCompat {
		return "(" + q.text(q.total, w) + ")/(" + q.text(q.total, period) + ")"
	}
	return "(" + endComment(q.text(q.total, w)) + ")\n/\n(" + q.parenTotal(period) + " > 0)\n"
}
