package promproxy

import (
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/tollgate-dev/tollgate/promenforce"
	"github.com/tollgate-dev/tollgate/proxy"
)

// Thanos Query's own parameters. Each only narrows or reshapes what the
// confined query reads, so each is forwarded once Tollgate has understood
// its value; a value Thanos would read differently than Tollgate did is
// refused, never passed on for the backend to interpret.
//
//   - dedup, partial_response, analyze: booleans.
//   - engine: prometheus or thanos (both evaluate the confined query).
//   - max_source_resolution: auto or a non-negative duration (which
//     downsampled blocks to read).
//   - replicaLabels[]: labels dropped to merge replicas. Matchers are
//     applied before the labels are dropped, so merging cannot read other
//     series; but naming the tenancy label would erase it from answers that
//     Tollgate and the tenant rely on to tell namespaces apart, so it is
//     refused, as is __name__.
//   - storeMatch[]: selects the stores queried by their address
//     (__address__); Thanos parses it as a series selector, so it is held
//     to the query bounds and must parse. It cannot widen a query; a tenant
//     can learn from it which store addresses exist.
//
// A partial answer (partial_response=true and a store down) carries the
// store's failure in "warnings", which pass through untouched. It is not
// the whole answer: a cache must never keep an answer with warnings.
type thanosChecker struct {
	enforcer *promenforce.Enforcer
	label    string
}

// check validates the Thanos parameters present in ps.
func (tp thanosChecker) check(ps url.Values) *proxy.Error {
	for _, name := range []string{"dedup", "partial_response", "analyze"} {
		if v, ok := single(ps, name); ok {
			if _, err := strconv.ParseBool(v); err != nil {
				return proxy.BadData("parameter %q: %q is not a boolean (true or false)", name, v)
			}
		}
	}
	// The rules API's type: Prometheus lowercases it, Thanos uppercases it
	// and also knows "all"; only the values both read alike pass.
	if v, ok := single(ps, "type"); ok && v != "" && !strings.EqualFold(v, "alert") && !strings.EqualFold(v, "record") {
		return proxy.BadData("parameter \"type\": %q is not alert or record", v)
	}
	if v, ok := single(ps, "engine"); ok && v != "prometheus" && v != "thanos" {
		return proxy.BadData("parameter \"engine\": %q is not a Thanos engine (prometheus or thanos)", v)
	}
	if v, ok := single(ps, "max_source_resolution"); ok && v != "auto" {
		if d, err := parseDuration(v); err != nil || d < 0 {
			return proxy.BadData("parameter \"max_source_resolution\": %q is not auto or a non-negative duration (e.g. 5m, 1h)", v)
		}
	}
	for _, l := range ps["replicaLabels[]"] {
		if !model.UTF8Validation.IsValidLabelName(l) {
			return proxy.BadData("parameter \"replicaLabels[]\": %q is not a label name", l)
		}
		if l == tp.label || l == model.MetricNameLabel {
			return proxy.Forbidden("parameter \"replicaLabels[]\": %q cannot be a replica label: deduplicating over it would erase the label that tells tenants' series apart", l)
		}
	}
	for _, sel := range ps["storeMatch[]"] {
		if err := tp.enforcer.CheckBounds(sel); err != nil {
			return proxy.BadData("parameter \"storeMatch[]\": %s", err.Error())
		}
		if _, err := tp.enforcer.Parser().ParseMetricSelector(sel); err != nil {
			return proxy.BadData("parameter \"storeMatch[]\": %s", err.Error())
		}
	}
	return nil
}

// single returns a parameter's value if it is present. Repeats are refused
// earlier by params.Check.
func single(ps url.Values, name string) (string, bool) {
	vs, ok := ps[name]
	if !ok || len(vs) == 0 {
		return "", false
	}
	return vs[0], true
}

// parseDuration reads a duration as Thanos does: seconds as a number, or a
// Prometheus duration.
func parseDuration(s string) (time.Duration, error) {
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		if math.IsNaN(f) || math.Abs(f) > float64(1<<62)/float64(time.Second) {
			return 0, strconv.ErrRange
		}
		return time.Duration(f * float64(time.Second)), nil
	}
	d, err := model.ParseDuration(s)
	return time.Duration(d), err
}

// prepareThanos makes every route that accepts a Thanos parameter check
// their values before the query is confined.
func prepareThanos(routes map[string]*proxy.Route, tc thanosChecker) {
	for _, rt := range routes {
		if rt.Prepare == nil && slices.ContainsFunc(rt.Params, isThanosParam) {
			rt.Prepare = tc.check
		}
	}
}

func isThanosParam(name string) bool { return slices.Contains(thanosParams(), name) }
