package logqlenforce

// depthCounter bounds the depth of the tree a LogQL query would parse into,
// from its tokens, as promenforce.EstimateDepth does for PromQL: a
// parenthesised group adds 2 levels plus one per operator directly in it
// plus its deepest child group; a brace group is a selector, one leaf; a
// range wraps the operand before it and counts as an operator. Operators
// include line filters (`|=`, chained as a list), label filter comparisons
// and and/or/unless, so chains of them count.
type depthCounter struct {
	limit int
	stack []depthGroup
}

type depthGroup struct {
	brace   bool
	ops     int
	deepest int
}

func newDepthCounter(limit int) *depthCounter {
	return &depthCounter{limit: limit, stack: []depthGroup{{}}}
}

func (d *depthCounter) open(r rune) {
	d.stack = append(d.stack, depthGroup{brace: r == '{'})
}

func (d *depthCounter) close() {
	if len(d.stack) == 1 {
		return // unbalanced: the parser will say so
	}
	g := d.stack[len(d.stack)-1]
	d.stack = d.stack[:len(d.stack)-1]
	parent := &d.stack[len(d.stack)-1]
	if g.brace {
		parent.deepest = max(parent.deepest, 1)
		return
	}
	parent.deepest = max(parent.deepest, 2+g.ops+g.deepest)
}

func (d *depthCounter) op(n int) {
	if top := &d.stack[len(d.stack)-1]; !top.brace {
		top.ops += n
	}
}

// over reports whether the bound is already certain to exceed the limit.
func (d *depthCounter) over() bool {
	return len(d.stack) > d.limit || d.stack[len(d.stack)-1].ops > d.limit
}

// result closes what is still open and returns the bound.
func (d *depthCounter) result() int {
	if d.over() {
		return d.limit + 1
	}
	for len(d.stack) > 1 {
		d.close()
	}
	return 1 + d.stack[0].ops + d.stack[0].deepest
}
