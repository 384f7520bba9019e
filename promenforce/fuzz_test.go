package promenforce

import (
	"errors"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/tollgate-dev/tollgate/querybounds"
)

// FuzzQuery checks the security property of the rewriter: for any query that
// parses, either the rewrite is refused, or the rewritten query parses again
// and every one of its selectors carries the tenant matcher. The check walks
// the re-parsed tree with a traversal written here, independent of both the
// rewriter and Unconfined.
//
// Two more dimensions make the query deep and long: nest wraps it in that
// many calls or parentheses, repeat chains that many copies of it with an
// operator. Whatever they build, Query either refuses it as over a bound or
// returns a confined query within the bounds, and the depth estimate made
// before parsing is never below the depth of the parsed tree.
func FuzzQuery(f *testing.F) {
	for _, seed := range []string{
		`up`, `rate(x[5m])`, `sum by (a) (rate(x{namespace="v"}[5m]))`,
		`max_over_time(rate(x[5m])[1h:1m] offset 5m)`, `a / on(x) group_left(y) b`,
		`topk(scalar(sum(a)), b)`, `x @ start()`, `{__name__=~".+"}`, `vector(1)`,
		`label_replace(up, "namespace", "v", "", "")`, `-(x)`, `1 + 1`, `"s"`,
		`up offset (1h + step())`, `rate(x[5m] anchored)`, `a + fill(0) b`,
		`absent_over_time(x{namespace!="a"}[1h])`, `count_values("v", x) > bool 1`,
		`histogram_quantile(0.9, sum by (le) (rate(h_bucket[5m])))`, `info(up)`,
		`{"namespace"="v", "__name__"="up"}`, `x[5m:step()]`,
	} {
		f.Add(seed, uint16(0), uint16(0), uint8(0))
	}
	f.Add(`up`, uint16(300), uint16(0), uint8(1))
	f.Add(`rate(x[5m])`, uint16(10), uint16(300), uint8(2))
	f.Add(`a`, uint16(0), uint16(3000), uint8(3))
	limits := querybounds.Limits{MaxBytes: 16 << 10, MaxDepth: 64, MaxNodes: 500}
	e := NewWithLimits(limits)
	unbounded := NewWithLimits(querybounds.Limits{MaxBytes: 1 << 30, MaxDepth: 1 << 30, MaxNodes: 1 << 30})
	tenant := labels.MustNewMatcher(labels.MatchRegexp, "namespace", "team-a|team-b-.*")
	f.Fuzz(func(t *testing.T, seed string, nest, repeat uint16, shape uint8) {
		q := grow(seed, int(nest%400), int(repeat%400), shape)
		if len(q) > 64<<10 {
			return // keeps the unbounded parse below cheap
		}
		parsed, perr := unbounded.Parser().ParseExpr(q)
		if perr == nil {
			depth, _ := measure(parsed, unbounded.limits)
			if est := EstimateDepth(q, 1<<30); est < depth {
				t.Fatalf("estimated depth %d is below the parsed depth %d of %q", est, depth, q)
			}
		}
		out, err := e.Query(q, tenant)
		var ex *querybounds.Exceeded
		switch {
		case errors.As(err, &ex):
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("a query over a bound must be ErrInvalid (400): %v", err)
			}
			return
		case err != nil && perr != nil:
			return // does not parse
		case err != nil:
			if !errors.Is(err, ErrRefused) {
				t.Fatalf("query %q parses but Query returned %v (want nil or ErrRefused)", q, err)
			}
			return
		case perr != nil:
			t.Fatalf("query %q does not parse (%v) but Query returned %q", q, perr, out)
		}
		if len(q) > limits.MaxBytes {
			t.Fatalf("a %d-byte query passed the %d-byte bound", len(q), limits.MaxBytes)
		}
		if depth, nodes := measure(parsed, unbounded.limits); depth > limits.MaxDepth || nodes > limits.MaxNodes {
			t.Fatalf("a query of depth %d and %d nodes passed the bounds %+v", depth, nodes, limits)
		}
		expr, err := e.Parser().ParseExpr(out)
		if err != nil {
			t.Fatalf("rewritten query %q (from %q) does not parse: %v", out, q, err)
		}
		for _, vs := range selectors(t, expr) {
			if !confinedTo(vs.LabelMatchers, tenant) {
				t.Fatalf("selector %s in %q (from %q) lacks the tenant matcher", vs, out, q)
			}
		}
	})
}

// confinedTo is the fuzz test's own reading of "confined": the tenant
// matcher itself, or an equality matcher whose value the tenant matcher
// accepts (absent()'s argument may carry that instead).
func confinedTo(ms []*labels.Matcher, tenant *labels.Matcher) bool {
	for _, x := range ms {
		if x.Name != tenant.Name {
			continue
		}
		if x.Type == tenant.Type && x.Value == tenant.Value {
			return true
		}
		if x.Type == labels.MatchEqual && x.Value != "" && tenant.Matches(x.Value) {
			return true
		}
	}
	return false
}

// grow makes a query deep (nest) and long (repeat) around seed.
func grow(seed string, nest, repeat int, shape uint8) string {
	wrappers := []string{"(", "abs(", "sum(", "rate(", "-("}
	ops := []string{" + ", " or ", " ^ ", " / on(a) ", " > bool "}
	w, op := wrappers[int(shape)%len(wrappers)], ops[int(shape/8)%len(ops)]
	var b strings.Builder
	for range repeat {
		b.WriteString(seed)
		b.WriteString(op)
	}
	b.WriteString(strings.Repeat(w, nest))
	b.WriteString(seed)
	b.WriteString(strings.Repeat(")", nest))
	return b.String()
}

// selectors collects every vector selector reachable from node.
func selectors(t *testing.T, node parser.Node) []*parser.VectorSelector {
	var out []*parser.VectorSelector
	var visit func(parser.Node)
	visit = func(n parser.Node) {
		switch n := n.(type) {
		case nil:
		case *parser.VectorSelector:
			out = append(out, n)
		case *parser.MatrixSelector:
			visit(n.VectorSelector)
		case *parser.SubqueryExpr:
			visit(n.Expr)
		case *parser.AggregateExpr:
			visit(n.Expr)
			visit(n.Param)
		case *parser.BinaryExpr:
			visit(n.LHS)
			visit(n.RHS)
		case *parser.Call:
			for _, a := range n.Args {
				visit(a)
			}
		case *parser.ParenExpr:
			visit(n.Expr)
		case *parser.UnaryExpr:
			visit(n.Expr)
		case *parser.StepInvariantExpr:
			visit(n.Expr)
		case *parser.DurationExpr:
			visit(n.LHS)
			visit(n.RHS)
		case *parser.NumberLiteral, *parser.StringLiteral:
		default:
			t.Fatalf("unexpected node %T", n)
		}
	}
	visit(node)
	return out
}
