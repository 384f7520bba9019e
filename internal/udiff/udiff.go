// Package udiff writes unified diffs of text files, as `diff -u` does, for
// commands that fail when a generated file is stale. It uses Myers'
// O((N+M)D) algorithm, so that a small change in a large generated file is
// cheap; past maxEdits differing lines it reports the files as replaced
// wholesale rather than spend quadratic memory on a minimal diff.
package udiff

import (
	"fmt"
	"strings"
)

// maxEdits bounds the edit script Myers' algorithm searches for.
const maxEdits = 4000

// context is the number of unchanged lines shown around a change.
const context = 3

// Diff returns the unified diff turning a into b, or "" when they are
// equal. aName and bName head the diff.
func Diff(aName, bName string, a, b []byte) string {
	if string(a) == string(b) {
		return ""
	}
	x, y := lines(string(a)), lines(string(b))
	ops := edits(x, y)
	var out strings.Builder
	fmt.Fprintf(&out, "--- %s\n+++ %s\n", aName, bName)
	for _, h := range hunks(ops) {
		out.WriteString(h.header())
		for _, op := range h.ops {
			switch op.kind {
			case ' ':
				out.WriteString(" " + x[op.i])
			case '-':
				out.WriteString("-" + x[op.i])
			case '+':
				out.WriteString("+" + y[op.j])
			}
		}
	}
	return out.String()
}

// lines splits text after each newline; a last line without one is marked
// as diff does.
func lines(s string) []string {
	if s == "" {
		return nil
	}
	ls := strings.SplitAfter(s, "\n")
	if ls[len(ls)-1] == "" {
		ls = ls[:len(ls)-1]
	} else {
		ls[len(ls)-1] += "\n\\ No newline at end of file\n"
	}
	return ls
}

// op is one line of the edit script: kept (' '), deleted from x ('-') or
// inserted from y ('+'); i and j are the line indexes in x and y.
type op struct {
	kind byte
	i, j int
}

// edits returns an edit script from x to y.
func edits(x, y []string) []op {
	// Equal prefix and suffix cost nothing to keep out of the search.
	pre := 0
	for pre < len(x) && pre < len(y) && x[pre] == y[pre] {
		pre++
	}
	suf := 0
	for suf < len(x)-pre && suf < len(y)-pre && x[len(x)-1-suf] == y[len(y)-1-suf] {
		suf++
	}
	var ops []op
	for k := 0; k < pre; k++ {
		ops = append(ops, op{' ', k, k})
	}
	mid := myers(x[pre:len(x)-suf], y[pre:len(y)-suf])
	for _, o := range mid {
		o.i += pre
		o.j += pre
		ops = append(ops, o)
	}
	for k := 0; k < suf; k++ {
		ops = append(ops, op{' ', len(x) - suf + k, len(y) - suf + k})
	}
	return ops
}

// myers finds a shortest edit script, or replaces x by y wholesale when
// the script would be longer than maxEdits.
func myers(x, y []string) []op {
	n, m := len(x), len(y)
	limit := min(n+m, maxEdits)
	offset := limit + 1
	v := make([]int, 2*limit+3)
	var trace [][]int
	found := -1
	for d := 0; d <= limit && found < 0; d++ {
		trace = append(trace, append([]int(nil), v[offset-d-1:offset+d+2]...))
		for k := -d; k <= d; k += 2 {
			var i int
			if k == -d || (k != d && v[offset+k-1] < v[offset+k+1]) {
				i = v[offset+k+1]
			} else {
				i = v[offset+k-1] + 1
			}
			j := i - k
			for i < n && j < m && x[i] == y[j] {
				i, j = i+1, j+1
			}
			v[offset+k] = i
			if i >= n && j >= m {
				found = d
				break
			}
		}
	}
	if found < 0 {
		var ops []op
		for i := range x {
			ops = append(ops, op{'-', i, 0})
		}
		for j := range y {
			ops = append(ops, op{'+', n, j})
		}
		return ops
	}
	// Walk back through the saved frontiers: each step is a snake of
	// kept lines preceded by one insertion or deletion.
	var rev []op
	i, j := n, m
	for d := found; d > 0; d-- {
		prev := trace[d] // the frontier before step d, for k in -d-1..d+1
		get := func(k int) int { return prev[k+d+1] }
		k := i - j
		pk := k - 1
		if k == -d || (k != d && get(k-1) < get(k+1)) {
			pk = k + 1
		}
		pi := get(pk)
		pj := pi - pk
		for i > pi && j > pj {
			i, j = i-1, j-1
			rev = append(rev, op{' ', i, j})
		}
		if i == pi {
			j--
			rev = append(rev, op{'+', i, j})
		} else {
			i--
			rev = append(rev, op{'-', i, j})
		}
	}
	for i > 0 && j > 0 {
		i, j = i-1, j-1
		rev = append(rev, op{' ', i, j})
	}
	ops := make([]op, len(rev))
	for k, o := range rev {
		ops[len(rev)-1-k] = o
	}
	return ops
}

// hunk is a run of edits with their context.
type hunk struct {
	ops []op
}

func (h hunk) header() string {
	var ai, an, bi, bn int
	ai, bi = -1, -1
	for _, o := range h.ops {
		if o.kind != '+' {
			if ai < 0 {
				ai = o.i
			}
			an++
		}
		if o.kind != '-' {
			if bi < 0 {
				bi = o.j
			}
			bn++
		}
	}
	return fmt.Sprintf("@@ -%s +%s @@\n", span(ai, an, h.ops, true), span(bi, bn, h.ops, false))
}

// span prints a hunk's line range; an empty range names the line before.
func span(start, count int, ops []op, a bool) string {
	if count == 0 {
		o := ops[0]
		line := o.i
		if !a {
			line = o.j
		}
		return fmt.Sprintf("%d,0", line)
	}
	if count == 1 {
		return fmt.Sprintf("%d", start+1)
	}
	return fmt.Sprintf("%d,%d", start+1, count)
}

// hunks groups the changes, each with up to context unchanged lines around
// it; changes closer than twice that share a hunk.
func hunks(ops []op) []hunk {
	var out []hunk
	var cur []op
	lastChange := -1
	for idx, o := range ops {
		if o.kind == ' ' {
			continue
		}
		start := max(idx-context, 0)
		if lastChange >= 0 && start <= lastChange+context+1 {
			cur = append(cur, ops[lastChange+1:idx+1]...)
		} else {
			if cur != nil {
				end := min(lastChange+context+1, len(ops))
				cur = append(cur, ops[lastChange+1:end]...)
				out = append(out, hunk{cur})
			}
			cur = append([]op(nil), ops[start:idx+1]...)
		}
		lastChange = idx
	}
	if cur != nil {
		end := min(lastChange+context+1, len(ops))
		cur = append(cur, ops[lastChange+1:end]...)
		out = append(out, hunk{cur})
	}
	return out
}
