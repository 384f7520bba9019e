// Package logqlenforce confines LogQL queries and stream selectors to a
// tenant by ANDing a label matcher into every stream selector of the AST
// parsed by Loki's own parser (pkg/logql/syntax).
//
// Enforcement is on stream selectors only, which Loki evaluates before any
// pipeline stage: whatever `| json`, `| logfmt` or `| label_format` later
// does to labels, the streams were chosen by the tenant matcher. Stages are
// left exactly as written. As in promenforce, a user matcher on the enforced
// label is ANDed, never replaced, and any node type the walker does not know
// is an error.
package logqlenforce

import (
	"errors"
	"fmt"

	"github.com/grafana/loki/v3/pkg/logql/syntax"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/tollgate-dev/tollgate/proxy/querybounds"
	"github.com/tollgate-dev/tollgate/tenancy"
)

// ErrInvalid wraps errors caused by a query that does not parse or does not
// validate; the proxy answers 400.
var ErrInvalid = errors.New("invalid query")

// ErrRefused wraps errors caused by a query that parses but cannot be
// confined; the proxy answers 403.
var ErrRefused = errors.New("refused query")

// Enforcer confines LogQL within query bounds. It is safe for concurrent
// use.
type Enforcer struct {
	limits querybounds.Limits
}

// New returns an Enforcer that refuses queries over l (zero fields take
// their defaults) before Loki's parser sees them.
func New(l querybounds.Limits) *Enforcer { return &Enforcer{limits: l.WithDefaults()} }

// Query confines a query with the default bounds; see Enforcer.Query.
func Query(query string, m *labels.Matcher) (string, error) {
	return New(querybounds.Limits{}).Query(query, m)
}

// Selector confines a stream selector with the default bounds; see
// Enforcer.Selector.
func Selector(sel string, m *labels.Matcher) (string, error) {
	return New(querybounds.Limits{}).Selector(sel, m)
}

// CheckBounds applies the bounds that need no parse, in order: size, then
// the lexer's work and the estimated depth in one linear pass. Every
// parameter that carries LogQL goes through it before Loki's parser, here
// or in Loki, sees it (format_query is forwarded after it alone).
func (e *Enforcer) CheckBounds(query string) error {
	if err := e.limits.CheckSize(query); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	res := scan(query, e.limits.MaxDepth)
	if err := checkCost(res.cost); err != nil {
		return err
	}
	if err := e.limits.CheckDepth(res.depth, true); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return nil
}

// Query parses a LogQL expression (log query, metric query or bare stream
// selector), confines it with m and returns it printed again.
//
// The input is parsed without Loki's validation, because a selector such as
// {namespace=~".+"} only becomes valid once the tenant matcher is added; the
// output is then parsed with full validation and every selector is checked,
// so nothing invalid or unconfined is ever returned.
func (e *Enforcer) Query(query string, m *labels.Matcher) (string, error) {
	if m == nil {
		return "", errors.New("logqlenforce: nil matcher")
	}
	if err := e.CheckBounds(query); err != nil {
		return "", err
	}
	expr, err := syntax.ParseExprWithoutValidation(query)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if err := e.limits.CheckNodes(countNodes(expr, e.limits.MaxNodes)); err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if err := walk(expr, m); err != nil {
		return "", err
	}
	out := expr.String()
	if err := verify(out, m); err != nil {
		return "", err
	}
	return out, nil
}

// Selector confines a bare stream selector, as sent in `match[]` of the
// series API, and returns it printed again.
func (e *Enforcer) Selector(sel string, m *labels.Matcher) (string, error) {
	if err := e.CheckBounds(sel); err != nil {
		return "", err
	}
	ms, err := syntax.ParseMatchers(sel, false)
	if err != nil {
		return "", fmt.Errorf("%w: %q is not a stream selector: %w", ErrInvalid, sel, err)
	}
	return MatchAll(append(ms, m)...), nil
}

// countNodes counts the expressions Loki's Walk visits, stopping past
// limit. Walk recurses, within the depth CheckBounds allowed.
func countNodes(expr syntax.Expr, limit int) int {
	n := 0
	expr.Walk(func(syntax.Expr) bool {
		n++
		return n <= limit
	})
	return n
}

// MatchAll returns the stream selector made of the given matchers, e.g. the
// tenant matcher alone for "all of my streams".
func MatchAll(ms ...*labels.Matcher) string {
	return syntax.MatchersString(ms)
}

func walk(e syntax.Expr, m *labels.Matcher) error {
	switch n := e.(type) {
	case *syntax.MatchersExpr:
		// A fresh slice: never append into a backing array the parser may
		// share with another node.
		ms := make([]*labels.Matcher, 0, len(n.Mts)+1)
		n.Mts = append(append(ms, n.Mts...), m)
		return nil
	case *syntax.PipelineExpr:
		if n.Left == nil {
			return fmt.Errorf("%w: pipeline without a stream selector", ErrRefused)
		}
		if err := walk(n.Left, m); err != nil {
			return err
		}
		for _, st := range n.MultiStages {
			if err := checkStage(st); err != nil {
				return err
			}
		}
		return nil
	case *syntax.LogRangeExpr:
		if n.Left == nil {
			return fmt.Errorf("%w: range without a log selector", ErrRefused)
		}
		return walk(n.Left, m)
	case *syntax.RangeAggregationExpr:
		if n.Left == nil {
			return fmt.Errorf("%w: range aggregation without a range", ErrRefused)
		}
		return walk(n.Left, m)
	case *syntax.VectorAggregationExpr:
		return walk(n.Left, m)
	case *syntax.BinOpExpr:
		if err := walk(n.SampleExpr, m); err != nil {
			return err
		}
		return walk(n.RHS, m)
	case *syntax.LabelReplaceExpr:
		return walk(n.Left, m)
	case *syntax.MultiVariantExpr:
		if n.LogRange() == nil {
			return fmt.Errorf("%w: variants without a range", ErrRefused)
		}
		if err := walk(n.LogRange(), m); err != nil {
			return err
		}
		for _, v := range n.Variants() {
			if err := walk(v, m); err != nil {
				return err
			}
		}
		return nil
	case *syntax.LiteralExpr, *syntax.VectorExpr:
		return nil
	case nil:
		return fmt.Errorf("%w: empty expression", ErrRefused)
	default:
		return fmt.Errorf("%w: unsupported LogQL node %T", ErrRefused, e)
	}
}

// checkStage accepts the pipeline stages Tollgate knows to hold no stream
// selector. They act on the lines and labels of streams already chosen, so
// they are left as written; an unknown stage type fails closed.
func checkStage(st syntax.StageExpr) error {
	switch st.(type) {
	case *syntax.LineFilterExpr, *syntax.LabelFilterExpr, *syntax.LineParserExpr,
		*syntax.LogfmtParserExpr, *syntax.JSONExpressionParserExpr, *syntax.LogfmtExpressionParserExpr,
		*syntax.LineFmtExpr, *syntax.LabelFmtExpr, *syntax.DecolorizeExpr,
		*syntax.DropLabelsExpr, *syntax.KeepLabelsExpr:
		return nil
	default:
		return fmt.Errorf("%w: unsupported LogQL pipeline stage %T", ErrRefused, st)
	}
}

// verify parses a rewritten query with Loki's validation and checks, with
// Loki's own traversal (Walk), that every stream selector carries m.
func verify(query string, m *labels.Matcher) error {
	expr, err := syntax.ParseExpr(query)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if sel := Unconfined(expr, m); sel != "" {
		return fmt.Errorf("%w: rewritten query lost the tenant matcher on %s", ErrRefused, sel)
	}
	return nil
}

// Unconfined returns the first stream selector of expr that does not carry
// matcher m, printed, or "" when every selector carries it.
func Unconfined(expr syntax.Expr, m *labels.Matcher) (bad string) {
	defer func() {
		if r := recover(); r != nil {
			bad = fmt.Sprintf("<unwalkable query: %v>", r)
		}
	}()
	expr.Walk(func(e syntax.Expr) bool {
		if bad != "" {
			return false
		}
		if me, ok := e.(*syntax.MatchersExpr); ok && !tenancy.HasMatcher(me.Mts, m) {
			bad = me.String()
		}
		return true
	})
	return bad
}
