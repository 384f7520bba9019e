package logqlenforce

import (
	"errors"
	"testing"

	"github.com/grafana/loki/v3/pkg/logql/syntax"

	"github.com/tollgate-dev/tollgate/tenancy"
)

// FuzzQuery checks the rewriter's security property: for any query Loki's
// parser accepts, either the rewrite is refused, or the rewritten query
// parses (with validation) and every stream selector in it carries the
// tenant matcher. Selectors are collected with a traversal written here,
// independent of the rewriter's walk and of Loki's Walk.
func FuzzQuery(f *testing.F) {
	for _, seed := range []string{
		`{app="api"}`, `{namespace=~".+"}`, `{app="api"} |= "err" | json | line_format "{{.msg}}"`,
		`rate({app="api"}[5m])`, `sum by (level) (count_over_time({app="api"} | logfmt | level="error" [5m]))`,
		`quantile_over_time(0.99, {app="api"} | json | unwrap latency [5m]) by (pod)`,
		`sum(rate({a="b"}[1m])) / sum(rate({c="d"}[1m]))`, `label_replace(rate({a="b"}[1m]), "namespace", "v", "", "")`,
		`vector(1)`, `1 + 1`, `{a="b"} | label_format namespace="v"`, `{a="b"} | drop namespace | keep app`,
		`{a="b"} |= "x" or "y" != "z"`, `variants(count_over_time({a="b"}[1m]), bytes_over_time({a="b"}[1m])) of ({a="b"}[1m])`,
		`count_over_time({a="b"}[5m] offset 1h)`, `topk(2, sum by (a) (rate({a="b"}[1m])))`, `{a="b"} |> "<_> x"`,
		`absent_over_time({a="b"}[1m])`, `sum(rate({a="b"}[1m])) > bool 1`, `{a="b"} | pattern "<_> <x>" | regexp "(?P<y>.)"`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, q string) {
		if _, err := syntax.ParseExprWithoutValidation(q); err != nil {
			return
		}
		out, err := Query(q, many)
		if err != nil {
			if !errors.Is(err, ErrRefused) && !errors.Is(err, ErrInvalid) {
				t.Fatalf("query %q: unexpected error kind %v", q, err)
			}
			return
		}
		expr, err := syntax.ParseExpr(out)
		if err != nil {
			t.Fatalf("rewritten %q (from %q) does not parse: %v", out, q, err)
		}
		for _, sel := range selectors(t, expr) {

			if !tenancy.HasMatcher(sel.Mts, many) {
				t.Fatalf("selector %s in %q (from %q) lacks the tenant matcher", sel, out, q)
			}
		}
	})
}

func selectors(t *testing.T, e syntax.Expr) []*syntax.MatchersExpr {
	var out []*syntax.MatchersExpr
	var visit func(syntax.Expr)
	visit = func(e syntax.Expr) {
		switch n := e.(type) {
		case *syntax.MatchersExpr:
			out = append(out, n)
		case *syntax.PipelineExpr:
			visit(n.Left)
		case *syntax.LogRangeExpr:
			visit(n.Left)
		case *syntax.RangeAggregationExpr:
			visit(n.Left)
		case *syntax.VectorAggregationExpr:
			visit(n.Left)
		case *syntax.BinOpExpr:
			visit(n.SampleExpr)
			visit(n.RHS)
		case *syntax.LabelReplaceExpr:
			visit(n.Left)
		case *syntax.MultiVariantExpr:
			visit(n.LogRange())
			for _, v := range n.Variants() {
				visit(v)
			}
		case *syntax.LiteralExpr, *syntax.VectorExpr:
		default:
			t.Fatalf("unexpected node %T", e)
		}
	}
	visit(e)
	return out
}
