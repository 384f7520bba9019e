package promenforce

import (
	"regexp"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/tollgate-dev/tollgate/tenancy"
)

// absent() and absent_over_time() return a series whose labels come from
// the equality matchers of their selector argument, and Prometheus drops a
// label that has more than one matcher. Confining such a selector the usual
// way changes the answer's labels, and alert rules route on them:
//
//   - absent({namespace="team-payments-prod", app="gone"}) lost its
//     namespace label (two matchers on it);
//   - for a single-namespace tenant, absent({app="gone"}) gained one (the
//     tenant matcher is an equality).
//
// The answer must carry the labels the same query gives on the tenant's own
// data. So a selector whose own equality matcher already lies inside the
// tenant's namespaces gets no tenant matcher (it is confined as written),
// and any other gets the tenant matcher as an anchored regex, which
// absent() does not turn into a label.
var absentFunctions = map[string]bool{"absent": true, "absent_over_time": true}

// directSelector returns the selector absent() reads labels from: its
// argument itself, or the selector of a range.
func directSelector(arg parser.Expr) *parser.VectorSelector {
	switch a := arg.(type) {
	case *parser.VectorSelector:
		return a
	case *parser.MatrixSelector:
		vs, _ := a.VectorSelector.(*parser.VectorSelector)
		return vs
	}
	return nil
}

// confineAbsent confines the selector of absent()'s argument in place.
func confineAbsent(vs *parser.VectorSelector, m *labels.Matcher) {
	if confinedByEquality(vs.LabelMatchers, m) {
		return
	}
	ms := make([]*labels.Matcher, 0, len(vs.LabelMatchers)+1)
	vs.LabelMatchers = append(append(ms, vs.LabelMatchers...), regexForm(m))
}

// regexForm is m as a regex matcher: the same namespaces (Prometheus
// anchors regexes), without becoming a label of absent()'s answer.
func regexForm(m *labels.Matcher) *labels.Matcher {
	if m.Type == labels.MatchRegexp {
		return m
	}
	return labels.MustNewMatcher(labels.MatchRegexp, m.Name, regexp.QuoteMeta(m.Value))
}

// confinedByEquality reports whether ms holds an equality matcher on m's
// label whose value m accepts: such a selector reads only the tenant's
// namespaces already.
func confinedByEquality(ms []*labels.Matcher, m *labels.Matcher) bool {
	for _, x := range ms {
		if x.Type == labels.MatchEqual && x.Name == m.Name && x.Value != "" && m.Matches(x.Value) {
			return true
		}
	}
	return false
}

// Confined reports whether a selector's matchers confine it to the tenant
// of m: m itself, its regex form, or an equality matcher inside it.
func Confined(ms []*labels.Matcher, m *labels.Matcher) bool {
	return tenancy.HasMatcher(ms, m) || tenancy.HasMatcher(ms, regexForm(m)) || confinedByEquality(ms, m)
}
