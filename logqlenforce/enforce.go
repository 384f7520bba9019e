// Package logqlenforce confines LogQL queries and stream selectors to a
// tenant by ANDing a label matcher into every stream selector of the tree
// Tollgate's own parser (package logql) builds.
//
// Enforcement is on stream selectors only, which Loki evaluates before any
// pipeline stage: whatever `| json`, `| logfmt` or `| label_format` later
// does to labels, the streams were chosen by the tenant matcher. Stages are
// left exactly as written. As in promenforce, a user matcher on the enforced
// label is ANDed, never replaced, and any node type the rewriter does not
// know is refused.
package logqlenforce

import (
	"errors"
	"fmt"
	"regexp"
	"slices"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/tollgate-dev/tollgate/logql"
	"github.com/tollgate-dev/tollgate/querybounds"
)

// ErrInvalid wraps errors caused by a query that is not valid LogQL, or is
// over a bound; the proxy answers 400.
var ErrInvalid = errors.New("invalid query")

// ErrRefused wraps errors caused by a query that is valid but cannot be
// confined; the proxy answers 403.
var ErrRefused = errors.New("refused query")

// Enforcer confines LogQL within query bounds. It is safe for concurrent
// use.
type Enforcer struct {
	parser logql.Parser
}

// New returns an Enforcer that refuses queries over l (zero fields take
// their defaults).
func New(l querybounds.Limits) *Enforcer {
	return &Enforcer{parser: logql.Parser{Limits: l.WithDefaults()}}
}

// Query confines a query with the default bounds; see Enforcer.Query.
func Query(query string, m *labels.Matcher) (string, error) {
	return New(querybounds.Limits{}).Query(query, m)
}

// Selector confines a stream selector with the default bounds; see
// Enforcer.Selector.
func Selector(sel string, m *labels.Matcher) (string, error) {
	return New(querybounds.Limits{}).Selector(sel, m)
}

// CheckBounds parses a query that is forwarded as written (format_query):
// within the size, depth and node bounds, and within what Loki's own lexer
// can read cheaply. A query that does not parse is refused too: Loki's
// parser reads on after a syntax error, so the bounds must hold for the
// whole text.
func (e *Enforcer) CheckBounds(query string) error {
	if _, err := e.parser.ParseExpr(query); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return nil
}

// Query parses a LogQL expression (log query, metric query or variants),
// confines it with m and returns it printed again.
//
// A selector such as {namespace=~".+"}, which Loki refuses on its own
// because all its matchers match the empty string, is valid once the
// tenant matcher is added; everything else Loki refuses is refused here,
// with ErrInvalid. The output is parsed again and every selector in it
// checked, so nothing unconfined is ever returned.
func (e *Enforcer) Query(query string, m *labels.Matcher) (string, error) {
	if m == nil {
		return "", errors.New("logqlenforce: nil matcher")
	}
	expr, err := e.parser.ParseExpr(query)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if err := confine(expr, tenantMatcher{m, logql.NewMatcher(m)}); err != nil {
		return "", err
	}
	out := expr.String()
	if err := e.verify(out, m); err != nil {
		return "", err
	}
	return out, nil
}

// Selector confines a bare stream selector, as sent in `match[]` of the
// series API, and returns it printed again.
func (e *Enforcer) Selector(sel string, m *labels.Matcher) (string, error) {
	s, err := e.parser.ParseSelector(sel)
	if err != nil {
		return "", fmt.Errorf("%w: %q is not a stream selector: %w", ErrInvalid, sel, err)
	}
	addMatcher(s, logql.NewMatcher(m))
	return s.String(), nil
}

// SelectorLabels returns the label names a query's stream selectors
// match on, in the order written, each once. Loki groups a volume answer
// by them when it is not told otherwise.
func (e *Enforcer) SelectorLabels(query string) ([]string, error) {
	expr, err := e.parser.ParseExpr(query)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	var names []string
	for _, s := range logql.Selectors(expr) {
		for _, m := range s.Matchers {
			if m.Name != "" && !slices.Contains(names, m.Name) {
				names = append(names, m.Name)
			}
		}
	}
	return names, nil
}

// MatchAll is the package function MatchAll for one matcher, as a method
// for proxy.Enforcer.
func (e *Enforcer) MatchAll(m *labels.Matcher) string { return MatchAll(m) }

// Refused reports whether err means the query cannot be confined (403),
// not that it is invalid (400).
func (e *Enforcer) Refused(err error) bool { return errors.Is(err, ErrRefused) }

// MatchAll returns the stream selector made of the given matchers, e.g. the
// tenant matcher alone for "all of my streams".
func MatchAll(ms ...*labels.Matcher) string {
	s := &logql.Selector{}
	for _, m := range ms {
		s.Matchers = append(s.Matchers, logql.NewMatcher(m))
	}
	return s.String()
}

// addMatcher ANDs m into a selector, into a fresh slice: the tree may be
// shared with nobody, but no slice is ever appended to in place.
func addMatcher(s *logql.Selector, m *logql.Matcher) {
	ms := make([]*logql.Matcher, 0, len(s.Matchers)+1)
	s.Matchers = append(append(ms, s.Matchers...), m)
}

// confineAbsent confines absent_over_time's selector. Its answer's labels
// are the selector's equality matchers, minus every label that also has
// another matcher, and alert rules route on them: confined the usual way,
// absent_over_time({namespace="team-payments-prod", app="gone"}[5m]) lost
// its namespace, and for a single-namespace tenant
// absent_over_time({app="gone"}[5m]) gained one. So a selector whose own
// equality matcher lies inside the tenant's namespaces is confined as
// written, and any other gets the tenant matcher as a regex, which gives
// no label.
func confineAbsent(s *logql.Selector, m tenantMatcher) {
	if confinedByEquality(s, m.compiled) {
		return
	}
	addMatcher(s, regexForm(m.ast))
}

// tenantMatcher is the tenant matcher compiled (to test values) and as a
// tree node (to add to selectors).
type tenantMatcher struct {
	compiled *labels.Matcher
	ast      *logql.Matcher
}

// confinedByEquality reports whether s has an equality matcher on m's
// label whose value m accepts.
func confinedByEquality(s *logql.Selector, m *labels.Matcher) bool {
	for _, x := range s.Matchers {
		if x.Type == labels.MatchEqual && x.Name == m.Name && x.Value.Value != "" && m.Matches(x.Value.Value) {
			return true
		}
	}
	return false
}

// regexForm is m as an anchored regex matcher: the same namespaces, and
// no label in absent_over_time's answer.
func regexForm(m *logql.Matcher) *logql.Matcher {
	if m.Type == labels.MatchRegexp {
		return m
	}
	return &logql.Matcher{Name: m.Name, Type: labels.MatchRegexp, Value: logql.NewString(regexp.QuoteMeta(m.Value.Value))}
}

// confine adds m to every stream selector under e. Selectors occur only in
// log queries; this walk is written out here, apart from logql.Inspect
// which verify uses, and refuses any expression it does not know. The
// parser bounds the depth of the tree, so the recursion is bounded.
func confine(e logql.Expr, m tenantMatcher) error {
	switch n := e.(type) {
	case *logql.LogExpr:
		addMatcher(n.Selector, m.ast)
	case *logql.ParenExpr:
		return confine(n.Expr, m)
	case *logql.BinaryExpr:
		if err := confine(n.LHS, m); err != nil {
			return err
		}
		return confine(n.RHS, m)
	case *logql.RangeAggregation:
		if n.Op == "absent_over_time" {
			confineAbsent(n.Range.Log.Selector, m)
			return nil
		}
		return confine(n.Range.Log, m)
	case *logql.VectorAggregation:
		return confine(n.Expr, m)
	case *logql.LabelReplace:
		return confine(n.Expr, m)
	case *logql.Variants:
		for _, v := range n.Variants {
			if err := confine(v, m); err != nil {
				return err
			}
		}
		return confine(n.Range.Log, m)
	case *logql.Literal, *logql.VectorExpr:
	default:
		return fmt.Errorf("%w: unsupported LogQL expression %T", ErrRefused, e)
	}
	return nil
}

// verify parses a rewritten query and checks, with logql's own traversal,
// that every stream selector carries m.
func (e *Enforcer) verify(query string, m *labels.Matcher) error {
	expr, err := e.parser.ParseExpr(query)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	for _, s := range logql.Selectors(expr) {
		if !carries(s, m) {
			return fmt.Errorf("%w: rewritten query lost the tenant matcher on %s", ErrRefused, s)
		}
	}
	return nil
}

// carries reports whether s has matcher m, by tenancy.HasMatcher's rule
// (the same type, name and value), m's regex form, or an equality matcher
// inside m (absent_over_time's forms).
func carries(s *logql.Selector, m *labels.Matcher) bool {
	re := m.Value
	if m.Type == labels.MatchEqual {
		re = regexp.QuoteMeta(m.Value)
	}
	for _, x := range s.Matchers {
		if x.Name != m.Name {
			continue
		}
		if x.Type == m.Type && x.Value.Value == m.Value || x.Type == labels.MatchRegexp && x.Value.Value == re {
			return true
		}
	}
	return confinedByEquality(s, m)
}
