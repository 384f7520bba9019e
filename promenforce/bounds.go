package promenforce

import (
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/tollgate-dev/tollgate/querybounds"
)

// Before parsing, Tollgate bounds the depth of the tree a query would
// become from its tokens alone, because the parser itself is the first
// victim: its cost grows with the square of an operator chain, and the
// printer and every walk recurse once per level. The bound is an upper
// bound (FuzzQuery checks it never under-counts), computed in one pass by
// Prometheus's own lexer with a stack of open brackets:
//
//   - a parenthesised group (a call's arguments, a sub-expression) adds 2
//     levels (the call or paren node and the expression inside) plus one
//     per operator directly inside it, plus its deepest child group;
//   - a brace group is a selector's matchers: one leaf, whatever is inside;
//   - a bracket group (a range or subquery) wraps the operand before it,
//     so it adds its whole depth to the enclosing group like an operator.
//
// Operators, `offset` and `@` each count as a level, unary or binary.

type groupKind uint8

const (
	groupRoot groupKind = iota
	groupParen
	groupBrace
	groupBracket
)

type group struct {
	kind     groupKind
	ops      int // operators directly inside
	deepest  int // the deepest child group
	estimate int // filled when closed
}

// EstimateDepth returns an upper bound on the depth of the syntax tree of
// q, or a number above limit as soon as the bound exceeds it. It does not
// parse q and costs one pass over its tokens.
func EstimateDepth(q string, limit int) int {
	stack := []group{{kind: groupRoot}}
	lex := parser.Lex(q)
	var it parser.Item
	for {
		lex.NextItem(&it)
		switch typ := it.Typ; {
		case typ == parser.EOF || typ == parser.ERROR:
			for len(stack) > 1 {
				stack = closeGroup(stack)
			}
			return 1 + stack[0].ops + stack[0].deepest
		case typ == parser.LEFT_PAREN:
			stack = append(stack, group{kind: groupParen})
		case typ == parser.LEFT_BRACE || typ == parser.OPEN_HIST:
			stack = append(stack, group{kind: groupBrace})
		case typ == parser.LEFT_BRACKET:
			stack = append(stack, group{kind: groupBracket})
		case typ == parser.RIGHT_PAREN || typ == parser.RIGHT_BRACE || typ == parser.CLOSE_HIST || typ == parser.RIGHT_BRACKET:
			if len(stack) > 1 {
				stack = closeGroup(stack)
			}
		case typ.IsOperator() || typ == parser.OFFSET || typ == parser.AT:
			if top := &stack[len(stack)-1]; top.kind != groupBrace {
				top.ops++
			}
		}
		// Every open group adds at least one level; every operator too.
		if top := stack[len(stack)-1]; len(stack) > limit || top.ops > limit {
			return limit + 1
		}
	}
}

// closeGroup pops the innermost group into its parent.
func closeGroup(stack []group) []group {
	g := stack[len(stack)-1]
	stack = stack[:len(stack)-1]
	parent := &stack[len(stack)-1]
	switch g.kind {
	case groupBrace:
		parent.deepest = max(parent.deepest, 1)
	case groupBracket:
		parent.ops += 2 + g.ops + g.deepest
	default:
		parent.deepest = max(parent.deepest, 2+g.ops+g.deepest)
	}
	return stack
}

// measure returns the depth of a parsed tree and its node count, stopping
// once either is past its limit. Its recursion is bounded because the
// estimate has already refused deeper queries.
func measure(node parser.Node, l querybounds.Limits) (depth, nodes int) {
	var visit func(n parser.Node, level int)
	visit = func(n parser.Node, level int) {
		if n == nil || nodes > l.MaxNodes || depth > l.MaxDepth {
			return
		}
		if d, ok := n.(*parser.DurationExpr); ok && d == nil {
			return
		}
		nodes++
		depth = max(depth, level)
		for _, c := range children(n) {
			visit(c, level+1)
		}
	}
	visit(node, 1)
	return depth, nodes
}

// children lists what walk descends into, duration expressions included.
func children(node parser.Node) []parser.Node {
	dur := func(ds ...*parser.DurationExpr) []parser.Node {
		var out []parser.Node
		for _, d := range ds {
			if d != nil {
				out = append(out, d)
			}
		}
		return out
	}
	switch n := node.(type) {
	case *parser.VectorSelector:
		return dur(n.OriginalOffsetExpr)
	case *parser.MatrixSelector:
		return append([]parser.Node{n.VectorSelector}, dur(n.RangeExpr)...)
	case *parser.SubqueryExpr:
		return append([]parser.Node{n.Expr}, dur(n.RangeExpr, n.StepExpr, n.OriginalOffsetExpr)...)
	case *parser.DurationExpr:
		var out []parser.Node
		for _, e := range []parser.Expr{n.LHS, n.RHS} {
			if e != nil {
				out = append(out, e)
			}
		}
		return out
	case *parser.AggregateExpr:
		if n.Param == nil {
			return []parser.Node{n.Expr}
		}
		return []parser.Node{n.Param, n.Expr}
	}
	return parser.Children(node)
}

// checkBeforeParse applies the size and estimated depth bounds.
func (e *Enforcer) checkBeforeParse(q string) error {
	if err := e.limits.CheckSize(q); err != nil {
		return err
	}
	return e.limits.CheckDepth(EstimateDepth(q, e.limits.MaxDepth), true)
}

// checkParsed applies the exact depth and node bounds.
func (e *Enforcer) checkParsed(expr parser.Expr) error {
	depth, nodes := measure(expr, e.limits)
	if err := e.limits.CheckDepth(depth, false); err != nil {
		return err
	}
	return e.limits.CheckNodes(nodes)
}
