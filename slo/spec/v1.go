package spec

import (
	"encoding/json"

	slothv1 "github.com/slok/sloth/pkg/prometheus/api/v1"
)

// Sloth v0.16's prometheus/v1 types carry JSON tags only: Sloth converts a
// YAML spec to JSON, converting each scalar to the type of its field, and
// decodes that. Tollgate decodes the YAML itself, with yaml.v3, which gives
// the same values (tier: 2 is the label value "2" for both) and keeps the
// lines for error messages. These types are Sloth's with YAML tags; a test
// checks that their keys are Sloth's, so that a new pin cannot leave a key
// unread.

type v1Spec struct {
	Version    string            `yaml:"version"`
	Service    string            `yaml:"service"`
	Labels     map[string]string `yaml:"labels"`
	SLOPlugins v1Plugins         `yaml:"slo_plugins"`
	SLOs       []v1SLO           `yaml:"slos"`
}

type v1SLO struct {
	Name        string            `yaml:"name"`
	Description string            `yaml:"description"`
	Objective   float64           `yaml:"objective"`
	Plugins     v1Plugins         `yaml:"plugins"`
	Labels      map[string]string `yaml:"labels"`
	SLI         v1SLI             `yaml:"sli"`
	Alerting    v1Alerting        `yaml:"alerting"`
}

type v1SLI struct {
	Raw    *v1SLIRaw    `yaml:"raw"`
	Events *v1SLIEvents `yaml:"events"`
	Plugin *v1SLIPlugin `yaml:"plugin"`
}

type v1SLIRaw struct {
	ErrorRatioQuery string `yaml:"error_ratio_query"`
}

type v1SLIEvents struct {
	ErrorQuery string `yaml:"error_query"`
	TotalQuery string `yaml:"total_query"`
}

type v1SLIPlugin struct {
	ID      string            `yaml:"id"`
	Options map[string]string `yaml:"options"`
}

type v1Alerting struct {
	Name        string            `yaml:"name"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
	PageAlert   v1Alert           `yaml:"page_alert"`
	TicketAlert v1Alert           `yaml:"ticket_alert"`
}

type v1Alert struct {
	Disable     bool              `yaml:"disable"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

type v1Plugins struct {
	OverridePrevious bool       `yaml:"overridePrevious"`
	Chain            []v1Plugin `yaml:"chain"`
}

type v1Plugin struct {
	ID string `yaml:"id"`
	// Config is read as whatever YAML holds and handed on as JSON, as
	// Sloth does; each plugin checks its own.
	Config   any `yaml:"config"`
	Priority int `yaml:"priority"`
}

// sloth converts the document into Sloth's types. A plugin configuration
// that JSON cannot hold (a mapping with non-string keys) is left out and
// reported by configProblem.
func (s v1Spec) sloth() slothv1.Spec {
	out := slothv1.Spec{Version: s.Version, Service: s.Service, Labels: s.Labels, SLOPlugins: s.SLOPlugins.sloth()}
	for _, x := range s.SLOs {
		slo := slothv1.SLO{
			Name: x.Name, Description: x.Description, Objective: x.Objective, Labels: x.Labels, Plugins: x.Plugins.sloth(),
			Alerting: slothv1.Alerting{
				Name: x.Alerting.Name, Labels: x.Alerting.Labels, Annotations: x.Alerting.Annotations,
				PageAlert:   slothv1.Alert(x.Alerting.PageAlert),
				TicketAlert: slothv1.Alert(x.Alerting.TicketAlert),
			},
		}
		if r := x.SLI.Raw; r != nil {
			slo.SLI.Raw = &slothv1.SLIRaw{ErrorRatioQuery: r.ErrorRatioQuery}
		}
		if e := x.SLI.Events; e != nil {
			slo.SLI.Events = &slothv1.SLIEvents{ErrorQuery: e.ErrorQuery, TotalQuery: e.TotalQuery}
		}
		if p := x.SLI.Plugin; p != nil {
			slo.SLI.Plugin = &slothv1.SLIPlugin{ID: p.ID, Options: p.Options}
		}
		out.SLOs = append(out.SLOs, slo)
	}
	return out
}

func (p v1Plugins) sloth() slothv1.SLOPlugins {
	out := slothv1.SLOPlugins{OverridePrevious: p.OverridePrevious}
	for _, c := range p.Chain {
		sp := slothv1.SLOPlugin{ID: c.ID, Priority: c.Priority}
		if c.Config != nil {
			if data, err := json.Marshal(c.Config); err == nil {
				sp.Config = data
			} else {
				sp.Config = json.RawMessage(unreadableConfig)
			}
		}
		out.Chain = append(out.Chain, sp)
	}
	return out
}

// unreadableConfig marks a configuration JSON cannot hold. It is not valid
// JSON, so no plugin can mistake it for a configuration.
const unreadableConfig = "\x00unreadable"
