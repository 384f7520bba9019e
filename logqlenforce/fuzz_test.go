package logqlenforce

import (
	"errors"
	"testing"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/tollgate-dev/tollgate/logql"
	"github.com/tollgate-dev/tollgate/tenancy"
)

// FuzzQuery checks the rewriter's security property: for any query the
// parser accepts, either the rewrite is refused, or the rewritten query
// parses and every stream selector in it carries the tenant matcher.
// Selectors are collected with a traversal written here, independent of
// the rewriter's walk and of logql.Inspect, and counted against the
// selectors the input has.
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
		`(({a="b"} | x="1" or (y="2", z="3")))`, `sum_over_time(({a="b"} | json)[5m] | unwrap x)`, `{}`,
		`variants(count_over_time({a="b"}[1m])) of ({a="b"}[1m]) + 1`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, q string) {
		in, err := logql.ParseExpr(q)
		if err != nil {
			return
		}
		want := len(selectors(t, in))
		out, err := Query(q, many)
		if err != nil {
			if !errors.Is(err, ErrRefused) && !errors.Is(err, ErrInvalid) {
				t.Fatalf("query %q: unexpected error kind %v", q, err)
			}
			return
		}
		expr, err := logql.ParseExpr(out)
		if err != nil {
			t.Fatalf("rewritten %q (from %q) does not parse: %v", out, q, err)
		}
		got := selectors(t, expr)
		if len(got) != want {
			t.Fatalf("rewritten %q has %d selectors, %q has %d", out, len(got), q, want)
		}
		for _, sel := range got {
			if !tenancy.HasMatcher(matchers(sel), many) {
				t.Fatalf("selector %s in %q (from %q) lacks the tenant matcher", sel, out, q)
			}
		}
	})
}

func matchers(s *logql.Selector) []*labels.Matcher {
	var out []*labels.Matcher
	for _, m := range s.Matchers {
		out = append(out, &labels.Matcher{Type: m.Type, Name: m.Name, Value: m.Value.Value})
	}
	return out
}

func selectors(t *testing.T, e logql.Expr) []*logql.Selector {
	var out []*logql.Selector
	var visit func(logql.Expr)
	visit = func(e logql.Expr) {
		switch n := e.(type) {
		case *logql.LogExpr:
			out = append(out, n.Selector)
		case *logql.ParenExpr:
			visit(n.Expr)
		case *logql.BinaryExpr:
			visit(n.LHS)
			visit(n.RHS)
		case *logql.RangeAggregation:
			visit(n.Range.Log)
		case *logql.VectorAggregation:
			visit(n.Expr)
		case *logql.LabelReplace:
			visit(n.Expr)
		case *logql.Variants:
			for _, v := range n.Variants {
				visit(v)
			}
			visit(n.Range.Log)
		case *logql.Literal, *logql.VectorExpr:
		default:
			t.Fatalf("unexpected node %T", e)
		}
	}
	visit(e)
	return out
}
