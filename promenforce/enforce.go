// Package promenforce confines PromQL queries and series selectors to a
// tenant by ANDing a label matcher into every selector of the parsed AST.
//
// The rewrite never drops or replaces a matcher the user wrote, including one
// on the enforced label: the two are ANDed, so the intersection can only
// narrow the result. Any node type the walker does not know is an error, so
// that a Prometheus upgrade that adds syntax fails closed instead of open.
package promenforce

import (
	"errors"
	"fmt"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/prometheus/prometheus/promql/parser"

	"github.com/tollgate-dev/tollgate/querybounds"
)

// ErrInvalid wraps errors caused by a query that does not parse; the proxy
// answers 400 bad_data.
var ErrInvalid = errors.New("invalid query")

// ErrRefused wraps errors caused by a query that parses but uses a construct
// that cannot be confined to a tenant; the proxy answers 403.
var ErrRefused = errors.New("refused query")

// refusedFunctions read series that their selector arguments do not bound.
// info() looks up target_info (or its second argument's metric) with
// identifying-label matchers computed at run time, so a matcher injected into
// its arguments does not confine that lookup.
var refusedFunctions = map[string]string{
	"info": "info() reads target_info series that the tenant matcher cannot confine; join with target_info explicitly, e.g. `x * on(job, instance) group_left(k8s_cluster_name) target_info`",
}

// Enforcer rewrites queries. It is safe for concurrent use.
type Enforcer struct {
	parser  parser.Parser
	limits  querybounds.Limits
	dialect Dialect
}

// New returns an Enforcer with the default query bounds whose parser
// accepts every syntax feature of the Prometheus version Tollgate is built
// with. The proxy's parser must be at least as permissive as the
// upstream's, or valid queries are refused; new syntax is safe because the
// walker fails closed on unknown nodes.
func New() *Enforcer { return NewWithLimits(querybounds.Limits{}) }

// NewWithLimits returns an Enforcer that refuses queries over l (zero
// fields take their defaults) before they cost more than a bounded amount
// of work.
func NewWithLimits(l querybounds.Limits) *Enforcer {
	return NewForDialect(l, DialectPrometheus3)
}

// NewForDialect is NewWithLimits for a backend speaking dialect d: the
// same parser with d's function table (holt_winters on Prometheus 2).
func NewForDialect(l querybounds.Limits, d Dialect) *Enforcer {
	return &Enforcer{
		limits:  l.WithDefaults(),
		dialect: d,
		parser: parser.NewParser(parser.Options{
			EnableExperimentalFunctions: true,
			EnableBinopFillModifiers:    true,
			Functions:                   d.functions(),
		}),
	}
}

// Dialect returns the dialect the Enforcer accepts.
func (e *Enforcer) Dialect() Dialect { return e.dialect }

// Parser returns the parser the Enforcer uses.
func (e *Enforcer) Parser() parser.Parser { return e.parser }

// Query parses a PromQL expression, confines it with m and returns it
// printed again. The printed query is parsed and checked once more, so that
// a printer bug can never turn into a query that escapes the tenant.
//
// A query over the bounds is refused with ErrInvalid before the parser sees
// it, or, for the exact depth and node count, before it is walked or
// printed.
func (e *Enforcer) Query(query string, m *labels.Matcher) (string, error) {
	expr, err := e.Parse(query)
	if err != nil {
		return "", err
	}
	if err := Expr(expr, m); err != nil {
		return "", err
	}
	out := expr.String()
	if err := e.verify(out, m); err != nil {
		return "", err
	}
	return out, nil
}

// Selector confines one series selector (a `match[]` value) and returns it
// printed again.
func (e *Enforcer) Selector(sel string, m *labels.Matcher) (string, error) {
	if err := e.checkBeforeParse(sel); err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	ms, err := e.parser.ParseMetricSelector(sel)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	out := (&parser.VectorSelector{LabelMatchers: append(ms, m)}).String()
	if err := e.verify(out, m); err != nil {
		return "", err
	}
	return out, nil
}

// Parse parses a query within the bounds: the size and estimated depth
// before the parser runs, the exact depth and node count after. Errors wrap
// ErrInvalid.
func (e *Enforcer) Parse(query string) (parser.Expr, error) {
	if err := e.checkBeforeParse(query); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	expr, err := e.parser.ParseExpr(query)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, e.dialect.explain(err))
	}
	if err := e.checkParsed(expr); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return expr, nil
}

// CheckBounds applies the bounds that need no parse (size and estimated
// depth) to a query Tollgate forwards without rewriting, such as the
// argument of format_query, which the backend parses.
func (e *Enforcer) CheckBounds(query string) error {
	if err := e.checkBeforeParse(query); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return nil
}

// MatchAll is the package function MatchAll, as a method for
// proxy.Enforcer.
func (e *Enforcer) MatchAll(m *labels.Matcher) string { return MatchAll(m) }

// Refused reports whether err means the query cannot be confined (403),
// not that it is invalid (400).
func (e *Enforcer) Refused(err error) bool { return errors.Is(err, ErrRefused) }

// MatchAll returns the selector that stands for "every series of the tenant",
// used where an endpoint takes optional `match[]` values and none was sent.
func MatchAll(m *labels.Matcher) string {
	return (&parser.VectorSelector{LabelMatchers: []*labels.Matcher{m}}).String()
}

// Expr confines a parsed expression in place.
func Expr(expr parser.Expr, m *labels.Matcher) error {
	if m == nil {
		return errors.New("promenforce: nil matcher")
	}
	return walk(expr, m)
}

func walk(node parser.Node, m *labels.Matcher) error {
	switch n := node.(type) {
	case nil:
		return nil
	case *parser.VectorSelector:
		// m is nil for a selector confineAbsent has already confined.
		if m != nil {
			// A fresh slice: the parser may share backing arrays, and a
			// shared append could leak the matcher into a sibling selector.
			ms := make([]*labels.Matcher, 0, len(n.LabelMatchers)+1)
			n.LabelMatchers = append(append(ms, n.LabelMatchers...), m)
		}
		return walkDuration(n.OriginalOffsetExpr, m)
	case *parser.MatrixSelector:
		vs, ok := n.VectorSelector.(*parser.VectorSelector)
		if !ok {
			return fmt.Errorf("%w: range selector over %T", ErrRefused, n.VectorSelector)
		}
		if err := walk(vs, m); err != nil {
			return err
		}
		return walkDuration(n.RangeExpr, m)
	case *parser.SubqueryExpr:
		for _, d := range []*parser.DurationExpr{n.RangeExpr, n.StepExpr, n.OriginalOffsetExpr} {
			if err := walkDuration(d, m); err != nil {
				return err
			}
		}
		return walk(n.Expr, m)
	case *parser.AggregateExpr:
		if err := walk(n.Expr, m); err != nil {
			return err
		}
		// topk(scalar(sum(x)), y): the parameter is an expression too.
		return walk(n.Param, m)
	case *parser.BinaryExpr:
		if err := walk(n.LHS, m); err != nil {
			return err
		}
		return walk(n.RHS, m)
	case *parser.Call:
		if n.Func == nil {
			return fmt.Errorf("%w: call without a function", ErrRefused)
		}
		if why, refused := refusedFunctions[n.Func.Name]; refused {
			return fmt.Errorf("%w: %s", ErrRefused, why)
		}
		if absentFunctions[n.Func.Name] && len(n.Args) == 1 {
			if vs := directSelector(n.Args[0]); vs != nil {
				confineAbsent(vs, m)
				return walk(n.Args[0], nil)
			}
		}
		for _, a := range n.Args {
			if err := walk(a, m); err != nil {
				return err
			}
		}
		return nil
	case *parser.ParenExpr:
		return walk(n.Expr, m)
	case *parser.UnaryExpr:
		return walk(n.Expr, m)
	case *parser.StepInvariantExpr:
		return walk(n.Expr, m)
	case *parser.DurationExpr:
		return walkDuration(n, m)
	case parser.Expressions:
		for _, e := range n {
			if err := walk(e, m); err != nil {
				return err
			}
		}
		return nil
	case *parser.NumberLiteral, *parser.StringLiteral:
		return nil
	default:
		return fmt.Errorf("%w: unsupported PromQL node %T", ErrRefused, node)
	}
}

// walkDuration descends into duration arithmetic (`offset (1h + step())`).
// Today it holds only numbers and step()/range(), but walking it means a
// future selector-bearing duration is confined rather than missed.
func walkDuration(d *parser.DurationExpr, m *labels.Matcher) error {
	if d == nil {
		return nil
	}
	if m == nil {
		// Inside a selector confineAbsent handled; durations hold no
		// selectors today, and any that appear later are refused by verify.
		return nil
	}
	if err := walk(d.LHS, m); err != nil {
		return err
	}
	return walk(d.RHS, m)
}

// verify parses a rewritten query and checks that every selector carries m.
func (e *Enforcer) verify(query string, m *labels.Matcher) error {
	expr, err := e.parser.ParseExpr(query)
	if err != nil {
		return fmt.Errorf("%w: rewritten query %q does not parse: %w", ErrRefused, query, err)
	}
	if sel := Unconfined(expr, m); sel != "" {
		return fmt.Errorf("%w: rewritten query lost the tenant matcher on %s", ErrRefused, sel)
	}
	return nil
}

// Unconfined returns the first vector selector of expr that does not carry
// matcher m, printed, or "" when every selector carries it. It walks with
// Prometheus's own traversal, independent of ours, so that a gap in one is
// caught by the other.
func Unconfined(expr parser.Expr, m *labels.Matcher) (bad string) {
	defer func() {
		// parser.Inspect panics on node types it does not know.
		if r := recover(); r != nil {
			bad = fmt.Sprintf("<unwalkable query: %v>", r)
		}
	}()
	parser.Inspect(expr, func(node parser.Node, _ []parser.Node) error {
		vs, ok := node.(*parser.VectorSelector)
		if !ok || bad != "" {
			return nil
		}
		if !Confined(vs.LabelMatchers, m) {
			bad = vs.String()
		}
		return nil
	})
	return bad
}
