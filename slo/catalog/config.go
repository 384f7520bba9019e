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

	"go.yaml.in/yaml/v3"

	"github.com/tollgate-dev/tollgate/internal/problem"
	"github.com/tollgate-dev/tollgate/internal/yamlcheck"
	"github.com/tollgate-dev/tollgate/proxy/promenforce"
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
		path := "slos." + e.ID()
		wrong := func(key string) {
			ps.Add(path+"."+key, fmt.Sprintf("does not apply to a %s SLI", e.Kind), "ratio SLIs take errors and total; latency SLIs take metric, threshold and buckets")
		}
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
		for key, v := range map[string]string{"errors": o.Errors, "total": o.Total} {
			if v == "" {
				continue
			}
			if e.Kind != KindRatio {
				wrong(key)
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
		if o.Metric != "" || o.Threshold != nil || o.Buckets != nil {
			if e.Kind != KindLatency {
				for key, set := range map[string]bool{"metric": o.Metric != "", "threshold": o.Threshold != nil, "buckets": o.Buckets != nil} {
					if set {
						wrong(key)
					}
				}
			} else {
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
			}
		}
		out = append(out, e)
	}
	return out, ps
}

func labelValueOK(s string) bool {
	for _, r := range s {
		if !(r == '-' || r == '_' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return s != ""
}
