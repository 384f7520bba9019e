package logqlenforce

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/internal/testkit/cputime"
	"github.com/tollgate-dev/tollgate/querybounds"
)

// The red team's LogQL findings. Each query made Loki's parser run for tens
// of seconds behind a pre-check that did not see it coming. Tollgate's own
// parser reads each in one linear pass: the ones that are valid LogQL but
// would cost Loki's lexer too much are refused as too long, the others as
// the syntax errors they are; either way with 400, for little CPU, and
// CheckBounds (format_query) refuses them too.
func TestRedTeamQueriesAreRefusedCheaply(t *testing.T) {
	labelsNamedRate := strings.Repeat(`rate="1" and `, 700) + `x="1"`
	for name, tc := range map[string]struct{ query, why string }{
		// /* " */ made the old pre-check think everything after the
		// quote was a string; Loki skips the comment and lexes the rest.
		"a block comment hiding a quote": {`/* " */ {app="a"} | logfmt | ` + labelsNamedRate, "too long"},
		"a line comment hiding a quote":  {"// \"\n" + `{app="a"} | logfmt | ` + labelsNamedRate, "too long"},
		// U+212A KELVIN SIGN lower-cases to k: topK is topk to Loki.
		"a Kelvin sign": {`{app="a"} | logfmt | ` + strings.Repeat("top\u212a=\"1\" and ", 700) + `x="1"`, "too long"},
		// Loki reads '"' as a label name here; Tollgate refuses single
		// quotes.
		"a char literal hiding a quote": {`{app="a"} | logfmt | x='"' and ` + labelsNamedRate, "single quotes"},
		"a range hiding a quote":        {`{app="a"} | logfmt [ " ] | ` + labelsNamedRate, "invalid range"},
		"numbers and units":             {`{app="a"} | logfmt | x > ` + strings.Repeat("1.", 5000) + `1`, "parse error"},
		"a function name in a selector": {`{app="a"} | logfmt | count > 1 ` + strings.Repeat(`|= "padding" `, 400), "too long"},
	} {
		before := cputime.Process(t)
		_, err := Query(tc.query, one)
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.why) {
			t.Errorf("%s (%d bytes): %v, want a refusal naming %q", name, len(tc.query), err, tc.why)
		}
		if err := New(querybounds.Limits{}).CheckBounds(tc.query); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: CheckBounds (used for format_query): %v", name, err)
		}
		if spent := cputime.Process(t) - before; spent > time.Second {
			t.Errorf("%s: refusing took %v of CPU", name, spent)
		}
	}
}

// The old pre-check was itself quadratic: a 400 KB rate(rate(… cost 50 s
// before its 400. The size bound refuses it first; with the bound raised,
// the parser refuses it as soon as it reads the second rate, and refuses
// 80,000 nested sums when it reaches the depth bound, before recursing
// deeper.
func TestParseIsBoundedOnHostileNesting(t *testing.T) {
	rates := strings.Repeat("rate(", 80_000) + `{a="b"}[1m]` + strings.Repeat(")", 80_000)
	sums := strings.Repeat("sum(", 80_000) + `count_over_time({a="b"}[1m])` + strings.Repeat(")", 80_000)
	var ex *querybounds.Exceeded
	if _, err := Query(rates, one); !errors.As(err, &ex) || ex.Key != querybounds.KeyMaxBytes {
		t.Fatalf("got %v, want the size bound", err)
	}
	raised := New(querybounds.Limits{MaxBytes: 1 << 20})
	before := cputime.Process(t)
	if _, err := raised.Query(rates, one); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "parse error") {
		t.Fatalf("nested rate: got %v, want a syntax error", err)
	}
	if _, err := raised.Query(sums, one); !errors.As(err, &ex) || ex.Key != querybounds.KeyMaxDepth {
		t.Fatalf("nested sum: got %v, want the depth bound", err)
	}
	if spent := cputime.Process(t) - before; spent > time.Second {
		t.Fatalf("refusing took %v of CPU", spent)
	}
}

func TestLogQLDepthAndNodeBounds(t *testing.T) {
	deep := strings.Repeat("sum(", 300) + `count_over_time({a="b"}[1m])` + strings.Repeat(")", 300)
	_, err := Query(deep, one)
	var ex *querybounds.Exceeded
	if !errors.As(err, &ex) || ex.Key != querybounds.KeyMaxDepth || !errors.Is(err, ErrInvalid) {
		t.Fatalf("deep: %v", err)
	}
	// Loki nests chained line filters, and the alternatives of one, in its
	// syntax tree: they count as levels.
	filters := `{a="b"}` + strings.Repeat(` |= "x"`, 300)
	if _, err := Query(filters, one); !errors.As(err, &ex) || ex.Key != querybounds.KeyMaxDepth {
		t.Fatalf("300 chained line filters: %v", err)
	}
	alternatives := `{a="b"} != "x"` + strings.Repeat(` or "x"`, 300)
	if _, err := Query(alternatives, one); !errors.As(err, &ex) || ex.Key != querybounds.KeyMaxDepth {
		t.Fatalf("300 alternatives: %v", err)
	}
	labelFilters := `{a="b"} | logfmt | x="1"` + strings.Repeat(` and x="1"`, 300)
	if _, err := Query(labelFilters, one); !errors.As(err, &ex) || ex.Key != querybounds.KeyMaxDepth {
		t.Fatalf("300 label filters: %v", err)
	}
	// Within the bounds, the same shapes pass.
	for _, q := range []string{
		strings.Repeat("sum(", 50) + `count_over_time({a="b"}[1m])` + strings.Repeat(")", 50),
		`{a="b"}` + strings.Repeat(` |= "x"`, 50),
		`{a="b"} | logfmt | x="1"` + strings.Repeat(` and x="1"`, 50),
		`sum by (namespace, level) (rate({app="api"} | logfmt | level=~"warn|error" [5m]))`,
	} {
		if _, err := Query(q, one); err != nil {
			t.Errorf("%.60s…: %v", q, err)
		}
	}
	many := strings.Repeat(`count_over_time({a="b"}[1m]) + `, 40) + `count_over_time({a="b"}[1m])`
	if _, err := New(querybounds.Limits{MaxNodes: 20, MaxDepth: 1000}).Query(many, one); !errors.As(err, &ex) || ex.Key != querybounds.KeyMaxNodes {
		t.Fatalf("41 selectors with max_query_nodes 20: %v", err)
	}
}

// Loki's lexer reads the rest of the query after a function name that is
// not a call; queries where that stays cheap are not refused for it.
func TestFunctionNamesCostLokiOnlyWhatTheyCost(t *testing.T) {
	for _, q := range []string{
		`sum by (namespace) (count_over_time({app="api"} | json | rate > 5 [5m]))`,
		`{app="api"} |= "rate rate rate count sum" | logfmt`, // inside a string
		`{app="api"} # count sum rate` + "\n" + `|= "x"`,     // inside a comment
		`topk without (pod) (5, rate({a="b"}[1m]))`,
		`sum by (count, rate) (rate({a="b"}[1m]))`,
		`{namespace=~"` + strings.Repeat("team-a|", 2000) + `team-b"}`, // long, but nothing to read twice
	} {
		if _, err := Query(q, one); err != nil {
			t.Errorf("%.60q…: %v", q, err)
		}
	}
	// The same label names, followed by 100 KB, are refused, in a query
	// and in a series selector.
	q := `{` + strings.Repeat(`sum="1", `, 1000) + `a="b"}`
	for name, err := range map[string]error{"query": func() error { _, err := Query(q, one); return err }(), "selector": func() error { _, err := Selector(q, one); return err }()} {
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "too long") {
			t.Errorf("%s: %v, want a refusal as too long", name, err)
		}
	}
}
