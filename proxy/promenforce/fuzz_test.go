package promenforce

import (
	"errors"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/tollgate-dev/tollgate/tenancy"
)

// FuzzQuery checks the security property of the rewriter: for any query that
// parses, either the rewrite is refused, or the rewritten query parses again
// and every one of its selectors carries the tenant matcher. The check walks
// the re-parsed tree with a traversal written here, independent of both the
// rewriter and Unconfined.
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
		f.Add(seed)
	}
	e := New()
	tenant := labels.MustNewMatcher(labels.MatchRegexp, "namespace", "team-a|team-b-.*")
	f.Fuzz(func(t *testing.T, q string) {
		if _, err := e.Parser().ParseExpr(q); err != nil {
			return
		}
		out, err := e.Query(q, tenant)
		if err != nil {
			if !errors.Is(err, ErrRefused) {
				t.Fatalf("query %q parses but Query returned %v (want nil or ErrRefused)", q, err)
			}
			return
		}
		expr, err := e.Parser().ParseExpr(out)
		if err != nil {
			t.Fatalf("rewritten query %q (from %q) does not parse: %v", out, q, err)
		}
		for _, vs := range selectors(t, expr) {
			if !tenancy.HasMatcher(vs.LabelMatchers, tenant) {
				t.Fatalf("selector %s in %q (from %q) lacks the tenant matcher", vs, out, q)
			}
		}
	})
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
