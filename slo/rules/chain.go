package rules

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/tollgate-dev/tollgate/internal/problem"
	"github.com/tollgate-dev/tollgate/slo/plugins"
)

// run runs one plugin of the chain on the SLO's rules so far. Plugins that
// write recording rules do nothing when recordings are disabled, and those
// that write alerts nothing when alerts are: Sloth drops those groups after
// the chain, so the output is the same, and a disabled alert asks for no
// team.
func (c *sloCtx) run(p plugins.Plugin, out *SLORules) {
	o := c.g.opts
	switch p.ID {
	case plugins.SLIRules:
		if !o.DisableRecordings {
			cfg, _ := p.Config.(*plugins.SLIRulesConfig)
			out.SLI = c.sliRules(cfg != nil && cfg.DisableOptimized)
		}
	case plugins.MetadataRules:
		if !o.DisableRecordings {
			out.Meta = c.meta()
		}
	case plugins.AlertRules:
		if !o.DisableAlerts {
			out.Alerts = c.alerts()
		}
	case plugins.ErrorBudgetExhaustedAlert:
		if cfg, ok := p.Config.(*plugins.ErrorBudgetExhaustedConfig); ok && !o.DisableAlerts {
			out.Alerts = append(out.Alerts, c.budgetExhausted(p, cfg))
		}
	case plugins.DenominatorCorrectedRules:
		cfg, _ := p.Config.(*plugins.DenominatorCorrectedConfig)
		c.denominatorCorrected(p, cfg != nil && cfg.DisableOptimized, out)
	case plugins.InfoLabels:
		if cfg, ok := p.Config.(*plugins.InfoLabelsConfig); ok {
			c.infoLabels(p, cfg, out)
		}
	case plugins.RemoveLabels:
		cfg, _ := p.Config.(*plugins.RemoveLabelsConfig)
		c.removeLabels(cfg, out)
	case plugins.RuleIntervals:
		if cfg, ok := p.Config.(*plugins.RuleIntervalsConfig); ok {
			out.Intervals = Intervals{
				SLI:    cmp.Or(cfg.SLIError, cfg.Default),
				Meta:   cmp.Or(cfg.Metadata, cfg.Default),
				Alerts: cmp.Or(cfg.Alert, cfg.Default),
			}
		}
	case plugins.Noop, plugins.Debug, plugins.Validate:
		// Every SLO was validated when its spec loaded; Debug only logs in
		// Sloth, and there is nothing to write.
	default:
		// The spec loader refuses unknown IDs; a plugin built by hand
		// (Options.Plugins) may still name one.
		msg, fix := plugins.CheckID(p.ID)
		c.pluginProblem(p, problem.SeverityError, msg, fix)
	}
}

// checkOrder warns about a plugin that runs before the plugin writing the
// rules it changes, which then writes them again: a negative priority puts
// it before Sloth's default plugins.
func (c *sloCtx) checkOrder(chain []plugins.Plugin) {
	changes := map[string][]string{
		plugins.SLIRules:                  {plugins.SLIRules},
		plugins.MetadataRules:             {plugins.MetadataRules},
		plugins.AlertRules:                {plugins.AlertRules},
		plugins.InfoLabels:                {plugins.MetadataRules},
		plugins.RemoveLabels:              {plugins.SLIRules, plugins.MetadataRules},
		plugins.DenominatorCorrectedRules: {plugins.SLIRules, plugins.MetadataRules},
		plugins.ErrorBudgetExhaustedAlert: {plugins.AlertRules},
	}
	for i, p := range chain {
		if p.Path == "" {
			continue // a default plugin: what a spec's plugin undoes is the spec's intent
		}
		for _, later := range chain[i+1:] {
			if !slices.Contains(changes[p.ID], later.ID) {
				continue
			}
			c.pluginProblem(p, problem.SeverityWarning,
				fmt.Sprintf("runs before %s, which writes its rules again: what it does is lost", later.ID),
				fmt.Sprintf("give it a priority of 0 or more (it has %d), so that it runs after Sloth's default plugins", p.Priority))
			break
		}
	}
}

// pluginProblem reports a problem of a plugin at its declaration: its
// chain entry in the spec, or the command line.
func (c *sloCtx) pluginProblem(p plugins.Plugin, sev problem.Severity, msg, fix string) {
	pp := problem.Problem{Path: p.Path + " (SLO " + c.slo.ID + ")", Msg: msg, Fix: fix, Severity: sev}
	if strings.HasPrefix(p.Path, "--") || p.Path == "" {
		pp.Pos = "command line"
		pp.Path = cmp.Or(p.Path, p.ID) + " (SLO " + c.slo.ID + ")"
	} else {
		pp.Pos = c.slo.Locate(p.Path)
	}
	c.ps = append(c.ps, pp)
}
