// Package spec loads SLO specifications: Sloth's `prometheus/v1` specs and
// Kubernetes `sloth.slok.dev/v1` PrometheusServiceLevel manifests, read
// through Sloth's own public API types, from files or directory trees with
// any number of YAML documents each. Tollgate adds two SLI kinds (latency
// from a histogram, and a ratio of two counters) and optional alert
// settings (`for:` and a no-data alert) under keys Sloth does not use.
//
// Loading validates everything that does not depend on how the rules are
// generated, and reports every problem at once, each with file, line,
// column, key path and SLO ID: a spec that loads is a spec the generator
// can turn into rules.
package spec

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"text/template"
	"time"

	"github.com/tollgate-dev/tollgate/slo/plugins"
)

// Format is the kind of document an SLO came from.
type Format string

const (
	// FormatPrometheus is Sloth's `version: prometheus/v1` spec.
	FormatPrometheus Format = "prometheus/v1"
	// FormatKubernetes is Sloth's `sloth.slok.dev/v1` PrometheusServiceLevel.
	FormatKubernetes Format = "sloth.slok.dev/v1"
)

// Set is everything loaded in one run, in input order: files in the order
// given (directory trees in lexical order), documents in file order.
type Set struct {
	Documents []*Document
}

// SLOs returns every SLO of the set in input order.
func (s *Set) SLOs() []*SLO {
	var out []*SLO
	for _, d := range s.Documents {
		out = append(out, d.SLOs...)
	}
	return out
}

// Document is one YAML document holding SLOs of one service.
type Document struct {
	// File is the path the document was read from; Line where it starts.
	File string
	Line int
	// Format is the document's kind.
	Format Format
	// Service is the service the SLOs belong to.
	Service string
	// Name, Namespace, Labels and Annotations are the Kubernetes object
	// metadata of a PrometheusServiceLevel (empty for prometheus/v1): a
	// PrometheusRule generated from it is named and labelled after them.
	Name, Namespace     string
	Labels, Annotations map[string]string
	SLOs                []*SLO
}

// SLO is one service level objective.
type SLO struct {
	// ID is "<service>-<name>", Sloth's sloth_id.
	ID          string
	Service     string
	Name        string
	Description string
	// Objective is the target in percent, in (0, 100).
	Objective float64
	// Labels are the service's labels merged with the SLO's own.
	Labels   map[string]string
	SLI      SLI
	Alerting Alerting
	// Plugins is the SLO's chain of Sloth SLO plugins.
	Plugins Plugins
	// Pos is "file:line:col" of the SLO's entry, Path its key path
	// ("slos[0]", or "spec.slos[0]" in a PrometheusServiceLevel) and Keys
	// how its keys are spelt, so that later stages can point at a key.
	Pos  string
	Path string
	Keys Keys
	// locate finds "file:line:col" of a key path in the SLO's document.
	locate func(path string) string
	// ownLabels are the SLO's own labels, docPrefix the path prefix of its
	// document's top level: together they tell where a label was set.
	ownLabels map[string]string
	docPrefix string
}

// LabelPath returns the key path where one of the SLO's labels is set: in
// the SLO's labels, or in its service's.
func (s *SLO) LabelPath(name string) string {
	if _, ok := s.ownLabels[name]; ok || s.locate == nil {
		return s.Key("labels") + "." + name
	}
	return s.docPrefix + "labels." + name
}

// Locate returns "file:line:col" of a key path of the SLO's document, such
// as s.Key("labels", "team"), or of its nearest existing parent; Pos when
// the document is not at hand.
func (s *SLO) Locate(path string) string {
	if s.locate == nil {
		return s.Pos
	}
	return s.locate(path)
}

// Key returns the key path of one of the SLO's keys, spelt as in its
// document, e.g. s.Key("sli.events", "error_query").
func (s *SLO) Key(parts ...string) string {
	p := s.Path
	for _, part := range parts {
		p += "." + s.Keys.Name(part)
	}
	return p
}

// Plugins is an SLO's chain of Sloth SLO plugins, assembled as Sloth v0.16
// assembles it from its group's chain (slo_plugins, or sloPlugins in a
// PrometheusServiceLevel) and its own (plugins).
type Plugins struct {
	// Override drops Sloth's default plugins, and those given for every
	// SLO on the command line: overridePrevious at either level.
	Override bool
	// Chain is the group's chain then the SLO's own, or the SLO's own
	// alone when it overrides, in declaration order (plugins.Order sorts
	// it by priority).
	Chain []plugins.Plugin
}

// SLI is how the SLO measures errors. Exactly one kind is set.
type SLI struct {
	Events  *Events
	Raw     *Raw
	Latency *Latency
	Ratio   *Ratio
}

// Kind names the SLI's kind as its spec key.
func (s SLI) Kind() string {
	switch {
	case s.Events != nil:
		return "events"
	case s.Raw != nil:
		return "raw"
	case s.Latency != nil:
		return "latency"
	case s.Ratio != nil:
		return "ratio"
	}
	return ""
}

// Events is Sloth's events SLI: a query of bad events and one of all
// events, both with `{{.window}}` where the range goes.
type Events struct {
	ErrorQuery string
	TotalQuery string
}

// Raw is Sloth's raw SLI: a query of the error ratio, with `{{.window}}`.
type Raw struct {
	ErrorRatioQuery string
}

// Latency is Tollgate's histogram SLI: an event is bad when it took longer
// than Threshold, which must be one of the histogram's bucket boundaries.
type Latency struct {
	// Metric is the histogram's base name (without _bucket or _count).
	Metric string
	// Selector holds extra label matchers, "{job=\"api\"}" or "".
	Selector string
	// Threshold is the upper bound of a good event, in the histogram's unit.
	Threshold float64
	// Buckets, if set, are the histogram's bucket boundaries, against which
	// Threshold is checked.
	Buckets []float64
	// MinEvents is the denominator guard: windows with fewer events give no
	// SLI value instead of a ratio over a handful of events.
	MinEvents float64
}

// Ratio is Tollgate's counter-ratio SLI: two counters, bad events and all
// events, given as series selectors. The generator writes the rates and
// guards the denominator.
type Ratio struct {
	Errors    string
	Total     string
	MinEvents float64
}

// Alerting configures the SLO's alerts.
type Alerting struct {
	// Name is the alertname of the page and ticket alerts.
	Name        string
	Labels      map[string]string
	Annotations map[string]string
	Page        Alert
	Ticket      Alert
	// Absent, when set, adds an alert for an SLI without data.
	Absent *AbsentAlert
}

// Alert is the page or the ticket alert.
type Alert struct {
	Disable     bool
	Labels      map[string]string
	Annotations map[string]string
	// For delays firing (Tollgate addition; Sloth has none).
	For time.Duration
}

// AbsentAlert is Tollgate's no-data alert.
type AbsentAlert struct {
	// Name defaults to the alerting name followed by "NoData".
	Name        string
	For         time.Duration
	Labels      map[string]string
	Annotations map[string]string
}

// Keys spells key names for one document format: Sloth's prometheus/v1
// specs use snake_case, Kubernetes manifests camelCase.
type Keys struct{ Kubernetes bool }

// Name returns key (written in snake_case) as the format spells it.
func (k Keys) Name(key string) string {
	if !k.Kubernetes {
		return key
	}
	parts := strings.Split(key, ".")
	for i, p := range parts {
		words := strings.Split(p, "_")
		for j := 1; j < len(words); j++ {
			if words[j] != "" {
				words[j] = strings.ToUpper(words[j][:1]) + words[j][1:]
			}
		}
		parts[i] = strings.Join(words, "")
	}
	return strings.Join(parts, ".")
}

// windowRE is Sloth's check that a query uses the window placeholder.
var windowRE = regexp.MustCompile(`{{ *\.window *}}`)

// HasWindow reports whether a query template has the `{{.window}}`
// placeholder.
func HasWindow(query string) bool { return windowRE.MatchString(query) }

// Render executes a query template with the given window, as Sloth does:
// Go text/template, `.window` the only key.
func Render(query, window string) (string, error) {
	t, err := ParseTemplate(query)
	if err != nil {
		return "", err
	}
	return t.Render(window)
}

// Template is a parsed query template, for rendering many windows.
type Template struct{ t *template.Template }

// ParseTemplate parses a query template.
func ParseTemplate(query string) (*Template, error) {
	t, err := template.New("query").Option("missingkey=error").Parse(query)
	if err != nil {
		return nil, fmt.Errorf("not a valid template: %w", err)
	}
	return &Template{t: t}, nil
}

// Render renders the template with a window.
func (t *Template) Render(window string) (string, error) {
	var b bytes.Buffer
	if err := t.t.Execute(&b, map[string]string{"window": window}); err != nil {
		return "", fmt.Errorf("rendering the template: %w", err)
	}
	return b.String(), nil
}
