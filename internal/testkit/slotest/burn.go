// Package slotest supports SLO tests: series that spend an SLO's error
// budget at chosen burn rates, for promtool unit tests and for backfilling
// a real Prometheus, and runs of promtool. A missing promtool fails the
// test with the command that installs it.
package slotest

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/tollgate-dev/tollgate/internal/demo/synth"
	"github.com/tollgate-dev/tollgate/promenforce"
	"github.com/tollgate-dev/tollgate/slo/spec"
)

// Phase is a stretch of time during which errors are Burn times the share
// the SLO allows: 0 is no errors, 1 spends the budget exactly over the
// period, 14.4 spends a 30-day budget's 2% in an hour.
type Phase struct {
	Duration time.Duration
	Burn     float64
}

// Profile is a sequence of phases from Start.
type Profile struct {
	Start time.Time
	// EventsPerSecond is the SLI's traffic.
	EventsPerSecond float64
	Phases          []Phase
}

// End is when the last phase ends.
func (p Profile) End() time.Time {
	t := p.Start
	for _, ph := range p.Phases {
		t = t.Add(ph.Duration)
	}
	return t
}

// errorShare is the share of events that are errors at t (the last
// phase's burn continues after the end).
func (p Profile) errorShare(t time.Time, budget float64) float64 {
	at := p.Start
	for _, ph := range p.Phases {
		at = at.Add(ph.Duration)
		if t.Before(at) {
			return ph.Burn * budget
		}
	}
	if len(p.Phases) == 0 {
		return 0
	}
	return p.Phases[len(p.Phases)-1].Burn * budget
}

// errors is the number of errors from Start to t: the integral of the
// error rate, exact for piecewise-constant phases.
func (p Profile) errors(t time.Time, budget float64) float64 {
	var n float64
	at := p.Start
	for _, ph := range p.Phases {
		end := at.Add(ph.Duration)
		if !t.After(at) {
			return n
		}
		d := ph.Duration
		if t.Before(end) {
			d = t.Sub(at)
		}
		n += d.Seconds() * p.EventsPerSecond * ph.Burn * budget
		at = end
	}
	if t.After(at) && len(p.Phases) > 0 {
		n += t.Sub(at).Seconds() * p.EventsPerSecond * p.Phases[len(p.Phases)-1].Burn * budget
	}
	return n
}

func (p Profile) events(t time.Time) float64 {
	if t.Before(p.Start) {
		return 0
	}
	return t.Sub(p.Start).Seconds() * p.EventsPerSecond
}

// Series returns counters for an SLI of kind ratio or latency whose errors
// follow the profile. For a ratio SLI they are one error series and either
// one series of good events (when the total selector also selects the
// errors, as `http_requests_total` does `http_requests_total{code="500"}`)
// or one total series; for a latency SLI the histogram's _count and its
// bucket at the threshold.
func Series(slo *spec.SLO, p Profile) ([]synth.Series, error) {
	budget := (100 - slo.Objective) / 100
	errs := func(t time.Time) float64 { return p.errors(t, budget) }
	good := func(t time.Time) float64 { return p.events(t) - p.errors(t, budget) }
	parse := promenforce.New().Parser()
	switch {
	case slo.SLI.Ratio != nil:
		em, err := spec.ParseSelector(parse, slo.SLI.Ratio.Errors)
		if err != nil {
			return nil, err
		}
		tm, err := spec.ParseSelector(parse, slo.SLI.Ratio.Total)
		if err != nil {
			return nil, err
		}
		// Error events, selected by the total selector too if they can be.
		el, err := sample(append(slices.Clone(em), tm...))
		if err != nil {
			el, err = sample(em)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: no series matches the errors selector: %w", slo.ID, err)
		}
		out := []synth.Series{{Labels: el, Type: "counter", Value: errs}}
		if matchesAll(tm, el) {
			gl, err := sampleExcept(tm, em, el)
			if err != nil {
				return nil, fmt.Errorf("%s: no series of good events: %w", slo.ID, err)
			}
			return append(out, synth.Series{Labels: gl, Type: "counter", Value: good}), nil
		}
		tl, err := sample(tm)
		if err != nil {
			return nil, fmt.Errorf("%s: no series matches the total selector: %w", slo.ID, err)
		}
		return append(out, synth.Series{Labels: tl, Type: "counter", Value: p.events}), nil
	case slo.SLI.Latency != nil:
		l := slo.SLI.Latency
		var ms []*labels.Matcher
		if l.Selector != "" {
			var err error
			if ms, err = spec.ParseSelector(parse, l.Selector); err != nil {
				return nil, err
			}
		}
		base, err := sample(ms)
		if err != nil {
			return nil, fmt.Errorf("%s: no series matches the selector: %w", slo.ID, err)
		}
		b := labels.NewBuilder(base)
		count := b.Set(labels.MetricName, l.Metric+"_count").Labels()
		bucket := b.Set(labels.MetricName, l.Metric+"_bucket").Set("le", spec.FormatFloat(l.Threshold)).Labels()
		return []synth.Series{
			{Labels: count, Type: "counter", Value: p.events},
			{Labels: bucket, Type: "counter", Value: good},
		}, nil
	}
	return nil, fmt.Errorf("%s: a %s SLI has no known series; write them by hand", slo.ID, slo.SLI.Kind())
}

func matchesAll(ms []*labels.Matcher, ls labels.Labels) bool {
	for _, m := range ms {
		if !m.Matches(ls.Get(m.Name)) {
			return false
		}
	}
	return true
}

// sample returns labels that every matcher accepts.
func sample(ms []*labels.Matcher) (labels.Labels, error) {
	b := labels.NewBuilder(labels.EmptyLabels())
	names := map[string][]*labels.Matcher{}
	var order []string
	for _, m := range ms {
		if _, ok := names[m.Name]; !ok {
			order = append(order, m.Name)
		}
		names[m.Name] = append(names[m.Name], m)
	}
	for _, n := range order {
		v, ok := value(names[n], nil)
		if !ok {
			return labels.EmptyLabels(), fmt.Errorf("no value of %s satisfies %v", n, names[n])
		}
		if v != "" {
			b.Set(n, v)
		}
	}
	return b.Labels(), nil
}

// sampleExcept changes one label of from so that every matcher of all
// still accepts it and not every matcher of not does.
func sampleExcept(all, not []*labels.Matcher, from labels.Labels) (labels.Labels, error) {
	for _, m := range not {
		var onName []*labels.Matcher
		for _, a := range all {
			if a.Name == m.Name {
				onName = append(onName, a)
			}
		}
		if v, ok := value(onName, m); ok {
			return labels.NewBuilder(from).Set(m.Name, v).Labels(), nil
		}
	}
	return labels.EmptyLabels(), fmt.Errorf("no labels satisfy %v but not %v", all, not)
}

var regexSplit = regexp.MustCompile(`[|()^$]`)

// value finds a label value every matcher accepts and avoid (if set)
// refuses.
func value(ms []*labels.Matcher, avoid *labels.Matcher) (string, bool) {
	candidates := []string{"", "200", "2", "500", "5", "Succeeded", "true", "false", "ok", "x"}
	for _, m := range append(slices.Clone(ms), avoid) {
		if m == nil {
			continue
		}
		if m.Type == labels.MatchEqual || m.Type == labels.MatchNotEqual {
			candidates = append([]string{m.Value}, candidates...)
		}
		for _, alt := range regexSplit.Split(m.Value, -1) {
			if alt != "" && !strings.ContainsAny(alt, `.*+?[]{}\`) {
				candidates = append([]string{alt}, candidates...)
			}
		}
	}
	for _, c := range candidates {
		if avoid != nil && avoid.Matches(c) {
			continue
		}
		ok := true
		for _, m := range ms {
			if !m.Matches(c) {
				ok = false
				break
			}
		}
		if ok {
			return c, true
		}
	}
	return "", false
}
