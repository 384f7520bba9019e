package logql

// Inspect visits n and the nodes under it, depth first, in the order they
// are written: f(n), then, if f returned true, each child. Trees from the
// parser are at most querybounds' MaxDepth deep, so the recursion is
// bounded.
func Inspect(n Node, f func(Node) bool) {
	if n == nil || !f(n) {
		return
	}
	eachChild(n, func(c Node) { Inspect(c, f) })
}

// eachChild calls f on each child of n, in the order they are written.
func eachChild(n Node, f func(Node)) {
	switch n := n.(type) {
	case *LogExpr:
		f(n.Selector)
		for _, s := range n.Pipeline {
			f(s)
		}
	case *ParenExpr:
		f(n.Expr)
	case *BinaryExpr:
		f(n.LHS)
		f(n.RHS)
	case *RangeAggregation:
		f(n.Range)
	case *VectorAggregation:
		f(n.Expr)
	case *LabelReplace:
		f(n.Expr)
	case *Variants:
		for _, v := range n.Variants {
			f(v)
		}
		f(n.Range)
	case *LogRange:
		f(n.Log)
		if n.Unwrap != nil {
			f(n.Unwrap)
		}
	case *Unwrap:
		for _, lf := range n.Filters {
			f(lf)
		}
	case *LabelFilterStage:
		f(n.Filter)
	case *BinaryLabelFilter:
		f(n.LHS)
		f(n.RHS)
	case *ParenLabelFilter:
		f(n.Filter)
	}
}

// Selectors returns the stream selectors of n, in the order they are
// written.
func Selectors(n Node) []*Selector {
	var out []*Selector
	Inspect(n, func(n Node) bool {
		if s, ok := n.(*Selector); ok {
			out = append(out, s)
		}
		return true
	})
	return out
}

// height returns the depth of the tree under n as Loki builds it, where
// a pipeline's stages and a line filter's alternatives nest one in the
// next: the bound then holds for Loki's recursion as well as Tollgate's.
// It uses its own stack, so that it is safe on any tree.
func height(root Node) int {
	type frame struct {
		n Node
		d int
	}
	stack := []frame{{root, 1}}
	deepest := 0
	for len(stack) > 0 {
		fr := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		d := fr.d
		if lf, ok := fr.n.(*LineFilter); ok {
			d += len(lf.Values) - 1
		}
		deepest = max(deepest, d)
		i := 0
		eachChild(fr.n, func(c Node) {
			next := fr.d + 1
			if _, ok := fr.n.(*LogExpr); ok {
				next += i // the selector, then each stage one level deeper
				i++
			}
			stack = append(stack, frame{c, next})
		})
	}
	return deepest
}
