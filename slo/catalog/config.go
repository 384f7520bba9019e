package catalog

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"reflect"
	"slices"
	"sort"
	"strings"

	"github.com/prometheus/prometheus/promql/parser"
	"go.yaml.in/yaml/v3"

	"github.com/tollgate-dev/tollgate/internal/problem"
	"github.com/tollgate-dev/tollgate/internal/yamlcheck"
	"github.com/tollgate-dev/tollgate/promenforce"
	"github.com/tollgate-dev/tollgate/slo/spec"
)

// Config adapts the catalogue to a platform: its team, extra labels, and
// per-SLO overrides. Every key is optional.
type Config struct {
	// Team owns every catalogue alert (default platform-sre).
	Team string `yaml:"team"`
	// Labels are added to every catalogue SLO.
	Labels map[string]string `yaml:"labels"`
	// SLOs override entries by SLO ID, e.g. platform-api-gateway-availability.
	SLOs map[string]Override `yaml:"slos"`

	// path and root locate problems found after decoding.
	path string
	root *yaml.Node
}

// Override changes one catalogue SLO. Zero values leave the default.
type Override struct {
	// Disable leaves the SLO out.
	Disable bool `yaml:"disable"`
	// DisablePage keeps only the ticket alert.
	DisablePage bool     `yaml:"disable_page"`
	Objective   *float64 `yaml:"objective"`
	// Selector replaces the matchers added to every series.
	Selector *string `yaml:"selector"`
	// Errors and Total replace a ratio SLI's counters.
	Errors string `yaml:"errors"`
	Total  string `yaml:"total"`
	// Metric, Threshold and Buckets replace a latency SLI's histogram.
	Metric    string    `yaml:"metric"`
	Threshold *float64  `yaml:"threshold"`
	Buckets   []float64 `yaml:"buckets"`
	MinEvents *float64  `yaml:"min_events"`
}

func (c Config) team() string {
	if c.Team != "" {
		return c.Team
	}
	return DefaultTeam
}

// LoadConfig reads a catalogue configuration file, reporting every problem
// with its line.
func LoadConfig(path string) (Config, problem.List, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, nil, fmt.Errorf("reading the SLO catalogue configuration: %w", err)
	}
	return ParseConfig(path, data)
}

// ParseConfig decodes and checks catalogue configuration bytes.
func ParseConfig(name string, data []byte) (Config, problem.List, error) {
	var root yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&root); err != nil && !errors.Is(err, io.EOF) {
		return Config{}, nil, fmt.Errorf("%s: %s", name, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	cfg := Config{path: name, root: &root}
	if len(root.Content) == 0 {
		return cfg, nil, nil
	}
	var ps problem.List
	yamlcheck.Keys(&root, yamlcheck.YAML, "", &ps, reflect.TypeFor[Config]())
	if err := root.Decode(&cfg); err != nil {
		return Config{}, nil, fmt.Errorf("%s: %s", name, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	cfg.path, cfg.root = name, &root
	_, aps := cfg.check(Entries())
	ps = append(ps, aps...)
	cfg.position(ps)
	return cfg, ps, ps.Err()
}

func (c Config) position(ps problem.List) {
	for i := range ps {
		if ps[i].Pos != "" || c.root == nil {
			continue
		}
		ps[i].Line, ps[i].Col = yamlcheck.Position(c.root, ps[i].Path)
		ps[i].Pos = fmt.Sprintf("%s:%d:%d", c.path, ps[i].Line, ps[i].Col)
	}
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].Line < ps[j].Line })
}

// apply returns the entries with the configuration's overrides.
func (c Config) apply(entries []Entry) ([]Entry, error) {
	out, ps := c.check(entries)
	c.position(ps)
	if err := ps.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// check applies the overrides and reports those that do not fit.
func (c Config) check(entries []Entry) ([]Entry, problem.List) {
	ps := c.checkTop(entries)
	p := promenforce.New().Parser()
	var out []Entry
	for _, e := range entries {
		o, ok := c.SLOs[e.ID()]
		if !ok {
			out = append(out, e)
			continue
		}
		if o.Disable {
			continue
		}
		out = append(out, o.apply(e, p, &ps))
	}
	return out, ps
}

// checkTop checks what is not an override: that every override names a
// catalogue SLO, the team and the labels.
func (c Config) checkTop(entries []Entry) problem.List {
	var ps problem.List
	var ids []string
	for _, e := range entries {
		ids = append(ids, e.ID())
	}
	for id := range c.SLOs {
		if !slices.Contains(ids, id) {
			ps.Add("slos."+id, "is not a catalogue SLO", "catalogue SLOs are: "+strings.Join(ids, ", ")+" (tollgate slo catalog lists them)")
		}
	}
	if c.Team != "" && !labelValueOK(c.Team) {
		ps.Add("team", "is not a valid team name", "use letters, digits, '-' and '_'")
	}
	// Checked here, not only when the catalogue's spec is parsed, so that
	// the problem points at this file rather than the built-in catalogue.
	for _, k := range slices.Sorted(maps.Keys(c.Labels)) {
		if msg, fix := spec.LabelNameProblem(k); msg != "" {
			ps.Add("labels."+k, msg, fix)
		}
	}
	return ps
}

// apply returns the entry with the override applied, adding to ps the
// values that are wrong or do not fit the entry's SLI.
func (o Override) apply(e Entry, p parser.Parser, ps *problem.List) Entry {
	path := "slos." + e.ID()
	if o.DisablePage {
		e.DisablePage = true
	}
	if o.Objective != nil {
		if v := *o.Objective; math.IsNaN(v) || v <= 0 || v >= 100 {
			ps.Add(path+".objective", fmt.Sprintf("%v is out of range", v), "give the target in percent, e.g. 99.9")
		}
		e.Objective = *o.Objective
	}
	if o.Selector != nil {
		if *o.Selector != "" {
			if _, err := spec.ParseSelector(p, *o.Selector); err != nil {
				ps.Add(path+".selector", "is not a selector: "+err.Error(), `write label matchers in braces, e.g. '{job="gateway"}'`)
			}
		}
		e.Selector = *o.Selector
	}
	if o.MinEvents != nil {
		if *o.MinEvents < 0 {
			ps.Add(path+".min_events", "is negative", "give a number of events, or 0")
		}
		e.MinEvents = *o.MinEvents
	}
	e = o.applyRatio(e, p, path, ps)
	return o.applyLatency(e, path, ps)
}

// wrongKind reports an override key that the entry's SLI kind does not take.
func wrongKind(ps *problem.List, path, key string, e Entry) {
	ps.Add(path+"."+key, fmt.Sprintf("does not apply to a %s SLI", e.Kind), "ratio SLIs take errors and total; latency SLIs take metric, threshold and buckets")
}

// applyRatio applies the counters of a ratio SLI.
func (o Override) applyRatio(e Entry, p parser.Parser, path string, ps *problem.List) Entry {
	// In key order, so that problems on one line come out in one order.
	for _, kv := range [][2]string{{"errors", o.Errors}, {"total", o.Total}} {
		key, v := kv[0], kv[1]
		if v == "" {
			continue
		}
		if e.Kind != KindRatio {
			wrongKind(ps, path, key, e)
			continue
		}
		if _, err := spec.ParseSelector(p, v); err != nil {
			ps.Add(path+"."+key, "is not a series selector: "+err.Error(), `e.g. envoy_http_downstream_rq_xx{envoy_response_code_class="5"}`)
		}
		if key == "errors" {
			e.Errors = v
		} else {
			e.Total = v
		}
	}
	return e
}

// applyLatency applies the histogram of a latency SLI; the threshold must
// stay one of its bucket boundaries.
func (o Override) applyLatency(e Entry, path string, ps *problem.List) Entry {
	if o.Metric == "" && o.Threshold == nil && o.Buckets == nil {
		return e
	}
	if e.Kind != KindLatency {
		set := map[string]bool{"metric": o.Metric != "", "threshold": o.Threshold != nil, "buckets": o.Buckets != nil}
		for _, key := range []string{"metric", "threshold", "buckets"} {
			if set[key] {
				wrongKind(ps, path, key, e)
			}
		}
		return e
	}
	if o.Metric != "" {
		e.Metric = o.Metric
	}
	if o.Buckets != nil {
		e.Buckets = o.Buckets
	}
	if o.Threshold != nil {
		e.Threshold = *o.Threshold
	}
	if len(e.Buckets) > 0 && !slices.Contains(e.Buckets, e.Threshold) {
		ps.Add(path+".threshold", fmt.Sprintf("%s is not one of the histogram's bucket boundaries %v", spec.FormatFloat(e.Threshold), e.Buckets),
			"use a boundary, or list the exporter's buckets (including the threshold) under buckets")
	}
	return e
}

func labelValueOK(s string) bool {
	for _, r := range s {
		if !(r == '-' || r == '_' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return s != ""
}
