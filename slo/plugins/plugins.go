// Package plugins knows the SLO plugins of Sloth v0.16 that Tollgate has
// built in: their IDs, their configuration, how a configuration is checked,
// and the order in which Sloth runs a chain of them. The rule generator
// (slo/rules) runs them; the spec loader checks their declarations, so that
// a mistake is reported at its line before anything is generated.
//
// Sloth loads plugins as Go source, which it interprets at generation time
// (its --plugins-path). Tollgate runs only the plugins it has built in and
// refuses any other ID with the alternatives.
package plugins

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// The IDs of the built-in plugins, as Sloth v0.16.0 names them.
const (
	// Noop does nothing.
	Noop = "sloth.dev/core/noop/v1"
	// Debug logs in Sloth; in Tollgate it changes nothing.
	Debug = "sloth.dev/core/debug/v1"
	// Validate checks the SLO; Tollgate checks every SLO when it loads.
	Validate = "sloth.dev/core/validate/v1"
	// SLIRules writes the SLI error ratio of each window (default chain).
	SLIRules = "sloth.dev/core/sli_rules/v1"
	// MetadataRules writes objective, budget, burn rates and
	// sloth_slo_info (default chain).
	MetadataRules = "sloth.dev/core/metadata_rules/v1"
	// AlertRules writes the page and ticket alerts (default chain).
	AlertRules = "sloth.dev/core/alert_rules/v1"

	// ErrorBudgetExhaustedAlert adds an alert when the period's budget is
	// spent.
	ErrorBudgetExhaustedAlert = "sloth.dev/contrib/error_budget_exhausted_alert/v1"
	// InfoLabels adds labels to sloth_slo_info only.
	InfoLabels = "sloth.dev/contrib/info_labels/v1"
	// RuleIntervals sets the evaluation interval of the rule groups.
	RuleIntervals = "sloth.dev/contrib/rule_intervals/v1"
	// DenominatorCorrectedRules weights each window's error ratio by its
	// share of the period's traffic.
	DenominatorCorrectedRules = "sloth.dev/contrib/denominator_corrected_rules/v1"
	// RemoveLabels removes the spec's labels from the SLI and metadata
	// series.
	RemoveLabels = "sloth.dev/contrib/remove_labels/v1"
)

// Sloth plugins that Tollgate refuses, each with its own reason.
const (
	validateVictoriaMetrics = "sloth.dev/contrib/validate_victoria_metrics/v1"
	k8sTransformPrefix      = "sloth.dev/k8stransform/"
)

// IDs returns the IDs of the built-in plugins, core ones first.
func IDs() []string {
	return []string{
		Noop, Debug, Validate, SLIRules, MetadataRules, AlertRules,
		ErrorBudgetExhaustedAlert, InfoLabels, RuleIntervals, DenominatorCorrectedRules, RemoveLabels,
	}
}

// Plugin is one plugin of a chain, its configuration decoded.
type Plugin struct {
	ID string
	// Priority orders the chain: lower runs first; Sloth's default plugins
	// run at 0, before the declared plugins of priority 0 and after those
	// of negative priority.
	Priority int
	// Config is the decoded configuration, one of this package's config
	// types (*SLIRulesConfig, ...), or nil for a plugin that takes none.
	Config any
	// Path is where the plugin was declared: the key path of its chain
	// entry in the spec ("slos[0].plugins.chain[1]"), or the command-line
	// flag that gave it.
	Path string
}

// Defaults returns Sloth's default chain, which runs unless a spec's
// chain overrides it: validate, SLI rules, metadata rules, alert rules.
func Defaults() []Plugin {
	return []Plugin{
		{ID: Validate}, {ID: SLIRules, Config: &SLIRulesConfig{}}, {ID: MetadataRules}, {ID: AlertRules},
	}
}

// Order returns the plugins that run for one SLO, in the order Sloth v0.16
// runs them. extra are the plugins given for every SLO (Sloth's
// --slo-plugins), declared those of the SLO's chain; override drops the
// extra and the default plugins, as an overridePrevious chain does, and so
// does noDefaults for the defaults alone. The declared plugins are sorted
// by priority, stably, and the defaults go between those of negative
// priority and the rest.
func Order(extra, declared []Plugin, override, noDefaults bool) []Plugin {
	var user []Plugin
	if !override {
		user = append(user, extra...)
	}
	user = append(user, declared...)
	slices.SortStableFunc(user, func(a, b Plugin) int { return cmp.Compare(a.Priority, b.Priority) })
	split := len(user)
	for i, p := range user {
		if p.Priority >= 0 {
			split = i
			break
		}
	}
	out := slices.Clone(user[:split])
	if !override && !noDefaults {
		out = append(out, Defaults()...)
	}
	return append(out, user[split:]...)
}

// CheckID says why an ID is not one of the built-in plugins, and what to
// do instead; it returns empty strings for a built-in plugin.
func CheckID(id string) (msg, fix string) {
	builtIn := "the built-in plugins are " + strings.Join(IDs(), ", ")
	switch {
	case slices.Contains(IDs(), id):
		return "", ""
	case strings.TrimSpace(id) == "":
		return "is missing", "give the plugin's ID, e.g. " + InfoLabels
	case id == validateVictoriaMetrics:
		return id + " is not supported: Tollgate writes PromQL and checks every query with Prometheus's own parser, which VictoriaMetrics' vmalert also runs",
			"remove it (in an overridePrevious chain, " + Validate + " is the default check)"
	case strings.HasPrefix(id, k8sTransformPrefix):
		return id + " is a Kubernetes transform plugin, not an SLO plugin",
			"remove it from the chain; --format prometheus-operator writes PrometheusRule objects"
	case strings.HasPrefix(id, "sloth.dev/"):
		return fmt.Sprintf("unknown plugin %q", id), builtIn + suggest(id)
	}
	return fmt.Sprintf("%q is not a built-in plugin: Tollgate does not run plugins given as Go source (Sloth's --plugins-path)", id),
		"use the built-in plugins and Tollgate's SLI kinds and alert settings instead, or keep generating this SLO with Sloth; " + builtIn
}

// suggest names the built-in ID closest to id, if one is close.
func suggest(id string) string {
	best, bestD := "", len(id)/4+1
	for _, b := range IDs() {
		if d := editDistance(id, b); d < bestD {
			best, bestD = b, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf("; did you mean %q?", best)
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
