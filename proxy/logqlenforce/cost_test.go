package logqlenforce

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// A query that makes Loki's lexer quadratic per token is refused before any
// parser sees it, and quickly.
func TestPathologicalQueriesAreRefusedCheaply(t *testing.T) {
	for _, q := range []string{
		`{app="a"} | logfmt | ` + strings.Repeat(`rate="1" and `, 1000) + `x="1"`,
		`{app="a"} | logfmt | count > 1 ` + strings.Repeat(`|= "padding" `, 400),
		`{` + strings.Repeat(`sum="1", `, 1000) + `a="b"}`,
	} {
		start := time.Now()
		_, err := Query(q, one)
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "too long") {
			t.Errorf("query of %d bytes: %v, want refusal", len(q), err)
		}
		if _, err := Selector(q, one); !errors.Is(err, ErrInvalid) {
			t.Errorf("selector of %d bytes: %v, want refusal", len(q), err)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("refusing took %s", d)
		}
	}
}

func TestLexCost(t *testing.T) {
	cheap := []string{
		`sum by (namespace) (count_over_time({app="api"} | json | rate > 5 [5m]))`,
		`{app="api"} |= "rate rate rate count sum" | logfmt`, // inside a string
		`{app="api"} # count sum rate` + "\n" + `|= "x"`,     // inside a comment
		`topk without (pod) (5, rate({a="b"}[1m]))`,
		`{namespace=~"` + strings.Repeat("team-a|", 2000) + `team-b"}`, // long, but nothing to lex twice
	}
	for _, q := range cheap {
		if c := lexCost(q); c > MaxLexCost/100 {
			t.Errorf("lexCost(%.60q...) = %d, want small", q, c)
		}
		if _, err := Query(q, one); err != nil && strings.Contains(err.Error(), "too long") {
			t.Errorf("%q refused as too expensive", q)
		}
	}
	// Cost grows with the square of the text after a non-call function name.
	if a, b := lexCost(`{a="b"} | count="1"`+strings.Repeat(" ", 100)), lexCost(`{a="b"} | count="1"`+strings.Repeat(" ", 200)); b < 3*a {
		t.Errorf("cost %d -> %d: not quadratic", a, b)
	}
}
