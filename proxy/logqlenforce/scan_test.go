package logqlenforce

import (
	"errors"
	"strings"
	"testing"
	"text/scanner"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/tollgate-dev/tollgate/internal/cputime"
	"github.com/tollgate-dev/tollgate/proxy/querybounds"
)

// The red team's LogQL findings. Each query made Loki's parser run for tens
// of seconds behind a pre-check that did not see it coming; each is now
// refused with 400, and the refusal itself costs little CPU.
func TestRedTeamQueriesAreRefusedCheaply(t *testing.T) {
	labelsNamedRate := strings.Repeat(`rate="1" and `, 700) + `x="1"`
	for name, q := range map[string]string{
		// /* " */ made the old pre-check think everything after the
		// quote was a string; Loki skips the comment and lexes the rest.
		"a block comment hiding a quote": `/* " */ {app="a"} | logfmt | ` + labelsNamedRate,
		"a line comment hiding a quote":  "// \"\n" + `{app="a"} | logfmt | ` + labelsNamedRate,
		"a char literal hiding a quote":  `{app="a"} | logfmt | x='"' and ` + labelsNamedRate,
		"a range hiding a quote":         `{app="a"} | logfmt [ " ] | ` + labelsNamedRate,
		// U+212A KELVIN SIGN lower-cases to k: topK is topk to Loki.
		"a Kelvin sign":     `{app="a"} | logfmt | ` + strings.Repeat("top\u212a=\"1\" and ", 700) + `x="1"`,
		"numbers and units": `{app="a"} | logfmt | x > ` + strings.Repeat("1.", 5000) + `1`,
	} {
		before := cputime.Process(t)
		_, err := Query(q, one)
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "too long") {
			t.Errorf("%s (%d bytes): %v, want a refusal as too expensive", name, len(q), err)
		}
		if err := New(querybounds.Limits{}).CheckBounds(q); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: CheckBounds (used for format_query): %v", name, err)
		}
		if spent := cputime.Process(t) - before; spent > time.Second {
			t.Errorf("%s: refusing took %v of CPU", name, spent)
		}
	}
}

// The old pre-check was itself quadratic: a 400 KB rate(rate(… cost 50 s
// before its 400. The size bound refuses it first; with the bound raised,
// the one-pass scan refuses it by depth.
func TestPreCheckIsLinear(t *testing.T) {
	q := strings.Repeat("rate(", 80_000) + `{a="b"}[1m]` + strings.Repeat(")", 80_000)
	_, err := Query(q, one)
	var ex *querybounds.Exceeded
	if !errors.As(err, &ex) || ex.Key != querybounds.KeyMaxBytes {
		t.Fatalf("got %v, want the size bound", err)
	}
	before := cputime.Process(t)
	_, err = New(querybounds.Limits{MaxBytes: 1 << 20}).Query(q, one)
	if !errors.As(err, &ex) || ex.Key != querybounds.KeyMaxDepth {
		t.Fatalf("got %v, want the depth bound", err)
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
	filters := `{a="b"}` + strings.Repeat(` |= "x"`, 300)
	if _, err := Query(filters, one); !errors.As(err, &ex) || ex.Key != querybounds.KeyMaxDepth {
		t.Fatalf("300 chained line filters: %v", err)
	}
	// Within the bounds, the same shapes pass.
	for _, q := range []string{
		strings.Repeat("sum(", 50) + `count_over_time({a="b"}[1m])` + strings.Repeat(")", 50),
		`{a="b"}` + strings.Repeat(` |= "x"`, 50),
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

// lokiLexCost replays what Loki v3.7.8's lexer does with text/scanner in
// Go mode (which Loki copies), plus Loki's own # comments and raw [ ]
// ranges, and returns the work of isFunction: the square of what follows
// every function-named identifier that is not a call, in runes.
func lokiLexCost(q string) int64 {
	var sc scanner.Scanner
	sc.Init(strings.NewReader(q))
	sc.Error = func(*scanner.Scanner, string) {}
	var cost int64
	for {
		switch r := sc.Scan(); r {
		case scanner.EOF:
			return cost
		case '#':
			for next := sc.Peek(); next != '\n' && next != scanner.EOF; next = sc.Next() {
			}
		case '[':
			for next := sc.Next(); next != ']' && next != scanner.EOF; next = sc.Next() {
			}
		case scanner.Ident:
			end := sc.Position.Offset + len(sc.TokenText())
			if functionTokens[strings.ToLower(sc.TokenText())] && !lokiIsFunction(q[end:]) {
				rest := int64(utf8.RuneCountInString(q[end:]))
				cost += rest * rest
			}
		}
	}
}

// lokiIsFunction is Loki's isFunction on the rest of the query.
func lokiIsFunction(rest string) bool {
	rest = strings.TrimLeftFunc(rest, unicode.IsSpace)
	var sb strings.Builder
	for _, r := range rest {
		sb.WriteRune(r)
		switch strings.ToLower(sb.String()) {
		case "(", "by", "without":
			return true
		}
	}
	return false
}

// FuzzLexCostModel checks the pre-check's model of Loki's lexer against a
// replay of it: the pre-check never charges less than isFunction costs.
// (lokiIsFunction is quadratic itself, hence the short inputs.)
func FuzzLexCostModel(f *testing.F) {
	for _, s := range []string{
		`{a="b"} | rate="1"`, `/* " */ {a="b"} | count="2"`, "// \"\n{a=\"b\"} | sum=\"1\"",
		`{a="b"} | x='"' | topk="1"`, "{a=\"b\"} | top\u212a=\"1\"", `{a="b"} [ " ] | rate="1"`,
		`sum by (a) (rate({a="b"}[1m]))`, `{a="b"} # rate` + "\n| max=\"1\"", "`raw \" rate` | min=\"1\"",
		`1sum{a="b"}`, `rate bY (a)`, `{a="b"} |= "x" | count < 5`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		if len(q) > 2000 {
			return
		}
		if want, got := lokiLexCost(q), lexCost(q); got < want {
			t.Fatalf("the model charges %d for %q, Loki's lexer does %d", got, q, want)
		}
	})
}
