// Package querybounds holds the limits every PromQL and LogQL parameter is
// held to before and after parsing: its size in bytes, the depth of its
// syntax tree and the number of nodes in it.
//
// They exist because parsing, rewriting and printing a query all cost more
// than its length suggests. Prometheus's parser is quadratic in the length
// of an operator chain (`up+up+…`: 7.7 s for 16,000 terms), its printer
// recurses once per level of nesting (460,000 nested calls overflowed Go's
// 1 GB stack and killed the process), and the backend then evaluates
// whatever passes. Each bound has a configuration key, named in the error,
// so an operator who needs more knows what to raise.
package querybounds

import (
	"fmt"
)

// Limits bound one query. A zero field means its default.
type Limits struct {
	// MaxBytes bounds the query text (proxy.max_query_bytes).
	MaxBytes int
	// MaxDepth bounds the depth of the syntax tree (proxy.max_query_depth).
	MaxDepth int
	// MaxNodes bounds the nodes of the syntax tree (proxy.max_query_nodes).
	MaxNodes int
}

// Defaults. 128 KiB is Loki's own limit on a query's length; a few hundred
// levels and a few thousand nodes are far above anything a dashboard,
// Explore or a rule generator writes, and far below what costs seconds.
const (
	DefaultMaxBytes = 128 << 10
	DefaultMaxDepth = 256
	DefaultMaxNodes = 5000
)

// Configuration keys, for error messages.
const (
	KeyMaxBytes = "proxy.max_query_bytes"
	KeyMaxDepth = "proxy.max_query_depth"
	KeyMaxNodes = "proxy.max_query_nodes"
)

// WithDefaults returns l with every zero field set to its default.
func (l Limits) WithDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultMaxDepth
	}
	if l.MaxNodes <= 0 {
		l.MaxNodes = DefaultMaxNodes
	}
	return l
}

// Exceeded is a query over one of the bounds. The proxies answer it with
// 400 in the API's own format.
type Exceeded struct {
	What  string // "is 200000 bytes long", "nests 300 levels deep"
	Limit int
	Key   string
}

func (e *Exceeded) Error() string {
	return fmt.Sprintf("the query %s: the limit is %d (%s); simplify or split the query, or ask the platform team to raise %s", e.What, e.Limit, e.Key, e.Key)
}

// CheckSize refuses a query longer than MaxBytes. It runs before anything
// else looks at the query.
func (l Limits) CheckSize(q string) error {
	l = l.WithDefaults()
	if len(q) > l.MaxBytes {
		return &Exceeded{What: fmt.Sprintf("is %d bytes long", len(q)), Limit: l.MaxBytes, Key: KeyMaxBytes}
	}
	return nil
}

// CheckDepth refuses a tree deeper than MaxDepth. estimated says whether
// depth is an upper bound computed before parsing, which the message admits.
func (l Limits) CheckDepth(depth int, estimated bool) error {
	l = l.WithDefaults()
	if depth <= l.MaxDepth {
		return nil
	}
	what := fmt.Sprintf("nests %d levels deep", depth)
	if estimated {
		what = fmt.Sprintf("nests up to %d levels deep (counting brackets and operators)", depth)
	}
	return &Exceeded{What: what, Limit: l.MaxDepth, Key: KeyMaxDepth}
}

// CheckNodes refuses a tree of more than MaxNodes nodes. Counting may
// stop at MaxNodes+1.
func (l Limits) CheckNodes(nodes int) error {
	l = l.WithDefaults()
	if nodes <= l.MaxNodes {
		return nil
	}
	return &Exceeded{What: fmt.Sprintf("has more than %d expressions", l.MaxNodes), Limit: l.MaxNodes, Key: KeyMaxNodes}
}
