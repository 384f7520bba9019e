package plugins

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/common/model"
)

// Configuration types, one per plugin that takes a configuration. Their
// keys are Sloth's (JSON, as Sloth decodes plugin configuration); Sloth
// ignores keys it does not know, Tollgate refuses them.

// DebugConfig configures Debug. Sloth logs the message, request and
// result at debug level; Tollgate accepts them and logs nothing.
type DebugConfig struct {
	Msg     string `json:"msg"`
	Result  bool   `json:"result"`
	Request bool   `json:"request"`
}

// SLIRulesConfig configures SLIRules.
type SLIRulesConfig struct {
	// DisableOptimized records the period's SLI from the period's own
	// rates instead of averaging the shortest window's ratios.
	DisableOptimized bool `json:"disableOptimized"`
}

// DenominatorCorrectedConfig configures DenominatorCorrectedRules.
type DenominatorCorrectedConfig struct {
	DisableOptimized bool `json:"disableOptimized"`
}

// InfoLabelsConfig configures InfoLabels.
type InfoLabelsConfig struct {
	Labels map[string]string `json:"labels"`
	// MetricName is the metadata rule that gets the labels (default
	// sloth_slo_info).
	MetricName string `json:"metricName"`
}

// RemoveLabelsConfig configures RemoveLabels.
type RemoveLabelsConfig struct {
	PreserveLabels []string `json:"preserveLabels"`
	SkipMetrics    []string `json:"skipMetrics"`
}

// ErrorBudgetExhaustedConfig configures ErrorBudgetExhaustedAlert, its
// defaults applied.
type ErrorBudgetExhaustedConfig struct {
	// Threshold is the remaining budget (a ratio) at or below which the
	// alert fires.
	Threshold      float64
	For            time.Duration
	AlertName      string
	AlertLabels    map[string]string
	SelectorLabels map[string]string
	Annotations    map[string]string
}

type errorBudgetExhaustedJSON struct {
	Threshold      float64           `json:"threshold"`
	For            string            `json:"for"`
	Annotations    map[string]string `json:"annotations"`
	AlertName      string            `json:"alert_name"`
	SelectorLabels map[string]string `json:"selector_labels"`
	AlertLabels    map[string]string `json:"alert_labels"`
}

// Sloth's defaults for ErrorBudgetExhaustedAlert.
const (
	DefaultExhaustedFor       = 5 * time.Minute
	DefaultExhaustedAlertName = "ErrorBudgetExhausted"
	// InfoMetric is the metadata rule InfoLabels adds labels to by default.
	InfoMetric = "sloth_slo_info"
)

// RuleIntervalsConfig configures RuleIntervals: the evaluation interval of
// each of an SLO's rule groups, Default where the other is not set.
type RuleIntervalsConfig struct {
	Default, SLIError, Metadata, Alert time.Duration
}

type ruleIntervalsJSON struct {
	Interval struct {
		Default  string `json:"default"`
		SLIError string `json:"sliError"`
		Metadata string `json:"metadata"`
		Alert    string `json:"alert"`
	} `json:"interval"`
}

// ConfigType returns the type a plugin's configuration is checked against
// (its keys, as JSON spells them), or nil for a plugin that takes none.
func ConfigType(id string) reflect.Type {
	switch id {
	case Debug:
		return reflect.TypeFor[DebugConfig]()
	case SLIRules:
		return reflect.TypeFor[SLIRulesConfig]()
	case DenominatorCorrectedRules:
		return reflect.TypeFor[DenominatorCorrectedConfig]()
	case InfoLabels:
		return reflect.TypeFor[InfoLabelsConfig]()
	case RemoveLabels:
		return reflect.TypeFor[RemoveLabelsConfig]()
	case ErrorBudgetExhaustedAlert:
		return reflect.TypeFor[errorBudgetExhaustedJSON]()
	case RuleIntervals:
		return reflect.TypeFor[ruleIntervalsJSON]()
	}
	return nil
}

// Problem is a mistake in a plugin's configuration. Key is its key path
// below the chain entry: "config", "config.interval.default".
type Problem struct{ Key, Msg, Fix string }

// Decode decodes and checks the configuration of a built-in plugin (JSON;
// empty or null when none is given) and returns it with Sloth's defaults
// applied.
func Decode(id string, raw json.RawMessage) (any, []Problem) {
	t := ConfigType(id)
	raw = bytes.TrimSpace(raw)
	none := len(raw) == 0 || string(raw) == "null"
	switch {
	case t == nil && !none && string(raw) != "{}":
		return nil, []Problem{{"config", id + " takes no configuration", "remove config"}}
	case t == nil:
		return nil, nil
	case none:
		raw = []byte("{}")
	case raw[0] != '{':
		return nil, []Problem{{"config", "is not a mapping", "write the configuration as keys and values, e.g. config: {" + exampleKey(id) + "}"}}
	}
	wire := reflect.New(t)
	if err := json.Unmarshal(raw, wire.Interface()); err != nil {
		return nil, []Problem{{"config", "cannot be read: " + strings.TrimPrefix(err.Error(), "json: "), "check the types of the values against the plugin's documentation (docs/slo.md)"}}
	}
	switch c := wire.Interface().(type) {
	case *errorBudgetExhaustedJSON:
		return exhausted(c)
	case *ruleIntervalsJSON:
		return intervals(c)
	case *InfoLabelsConfig:
		return infoLabels(c)
	}
	return wire.Interface(), nil
}

func exampleKey(id string) string {
	switch id {
	case InfoLabels:
		return "labels: {owner: payments}"
	case RuleIntervals:
		return "interval: {default: 1m}"
	case ErrorBudgetExhaustedAlert:
		return "threshold: 0"
	case RemoveLabels:
		return "preserveLabels: [namespace]"
	case Debug:
		return "msg: hello"
	}
	return "disableOptimized: true"
}

func exhausted(c *errorBudgetExhaustedJSON) (any, []Problem) {
	out := &ErrorBudgetExhaustedConfig{
		Threshold: c.Threshold, AlertName: c.AlertName, For: DefaultExhaustedFor,
		AlertLabels: c.AlertLabels, SelectorLabels: c.SelectorLabels, Annotations: c.Annotations,
	}
	var ps []Problem
	if c.For != "" {
		d, err := model.ParseDuration(c.For)
		if err != nil {
			ps = append(ps, Problem{"config.for", fmt.Sprintf("%q is not a duration", c.For), "write it like 5m or 1h"})
		} else if d > 0 {
			out.For = time.Duration(d)
		}
	}
	if out.AlertName == "" {
		out.AlertName = DefaultExhaustedAlertName
	}
	ps = append(ps, labelNames("config.alert_labels", c.AlertLabels)...)
	ps = append(ps, labelNames("config.selector_labels", c.SelectorLabels)...)
	for _, k := range slices.Sorted(maps.Keys(c.Annotations)) {
		if !labelNameRE.MatchString(k) {
			ps = append(ps, Problem{"config.annotations." + k, fmt.Sprintf("%q is not a valid annotation name", k), "use letters, digits and '_', not starting with a digit"})
		}
	}
	return out, ps
}

func intervals(c *ruleIntervalsJSON) (any, []Problem) {
	out := &RuleIntervalsConfig{}
	var ps []Problem
	for _, f := range []struct {
		key string
		s   string
		d   *time.Duration
	}{
		{"default", c.Interval.Default, &out.Default}, {"sliError", c.Interval.SLIError, &out.SLIError},
		{"metadata", c.Interval.Metadata, &out.Metadata}, {"alert", c.Interval.Alert, &out.Alert},
	} {
		if f.s == "" {
			continue
		}
		d, err := model.ParseDuration(f.s)
		if err != nil {
			ps = append(ps, Problem{"config.interval." + f.key, fmt.Sprintf("%q is not a duration", f.s), "write it like 30s, 1m or 5m"})
			continue
		}
		*f.d = time.Duration(d)
	}
	if out.Default == 0 && len(ps) == 0 {
		ps = append(ps, Problem{"config.interval.default", "is missing", "give the interval of every rule group, e.g. interval: {default: 1m}; sliError, metadata and alert override it for one group"})
	}
	return out, ps
}

func infoLabels(c *InfoLabelsConfig) (any, []Problem) {
	if c.MetricName == "" {
		c.MetricName = InfoMetric
	}
	if len(c.Labels) == 0 {
		return c, []Problem{{"config.labels", "is missing", "give at least one label to add to " + c.MetricName + ", e.g. labels: {owner: payments}"}}
	}
	return c, labelNames("config.labels", c.Labels)
}

var labelNameRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// labelNames checks the label names of a configuration: valid, and none of
// the labels the generator sets, which identify an SLO's series (a
// selector or an alert that set sloth_id would read or claim another SLO's).
func labelNames(path string, ls map[string]string) []Problem {
	var ps []Problem
	for _, k := range slices.Sorted(maps.Keys(ls)) {
		switch {
		case !labelNameRE.MatchString(k) || strings.HasPrefix(k, "__"):
			ps = append(ps, Problem{path + "." + k, fmt.Sprintf("%q is not a valid label name", k), "use letters, digits and '_', not starting with a digit or '__'"})
		case generatedLabel(k):
			ps = append(ps, Problem{path + "." + k, k + " is set by the generator", "remove it; use another label name for your own value"})
		}
	}
	return ps
}

// generatedLabel reports whether the generator sets a label (Sloth's
// conventions).
func generatedLabel(k string) bool {
	switch k {
	case "sloth_id", "sloth_service", "sloth_slo", "sloth_window", "sloth_severity",
		"sloth_version", "sloth_mode", "sloth_spec", "sloth_objective":
		return true
	}
	return false
}
